//! `accept_hang`: new connections are accepted and then never answered, as an overloaded
//! server whose accept queue is full. The client's connect succeeds and its upgrade request
//! goes unanswered, so only its connect timeout can save it. The proxy never dials the
//! upstream for such a connection and keeps it open until the client gives up on it.

use super::{Admission, LinkFault};

/// Hangs arriving connections.
#[derive(Debug)]
pub struct AcceptHang;

impl LinkFault for AcceptHang {
    fn name(&self) -> &'static str {
        "accept_hang"
    }

    fn admit(&mut self) -> Admission {
        Admission::Hang
    }
}
