//! `refuse`: new connections are refused, as when the server is down. Existing links are not
//! touched. How a refusal looks to the client depends on the engine (see
//! [`Listener::set_admission`](crate::net::Listener::set_admission)).

use super::{Admission, LinkFault};

/// Refuses arriving connections.
#[derive(Debug)]
pub struct Refuse;

impl LinkFault for Refuse {
    fn name(&self) -> &'static str {
        "refuse"
    }

    fn admit(&mut self) -> Admission {
        Admission::Refuse
    }
}
