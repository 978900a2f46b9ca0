//! `revoke_credentials`: from its start on, the echo server refuses signatures made with its
//! current secret, and accepts `rotate_to` instead when given.
//!
//! It is a fault on the server, not on links: `proxy::Control` hands it to the server's shared
//! credentials (`wire::signature::Credentials::revoke`) when the timeline starts it, and never
//! builds it on a link. On a link it would therefore change nothing, which is what this
//! [`LinkFault`] does, so the fault contract holds trivially.

use super::LinkFault;

/// The link side of `revoke_credentials`: no effect.
#[derive(Debug)]
pub struct RevokeCredentials;

impl LinkFault for RevokeCredentials {
    fn name(&self) -> &'static str {
        "revoke_credentials"
    }
}
