//! `tls_bad_certificate`: a man in the middle. New `wss://` connections are not forwarded: the
//! proxy answers their TLS handshake itself with a certificate that fails a correct client's
//! verification (expired, for another host, signed by an unknown CA, or self-signed). A correct
//! client refuses it and sends nothing; a client that accepts it sends its upgrade request,
//! credentials included, to the impostor, and the report counts those bytes.

use super::{Admission, LinkFault};
use crate::tls::BadCertificate;

/// Impersonates the server to arriving connections.
#[derive(Debug)]
pub struct TlsBadCertificate {
    kind: BadCertificate,
}

impl TlsBadCertificate {
    /// Answers with a certificate that fails as `kind` says.
    pub fn new(kind: BadCertificate) -> TlsBadCertificate {
        TlsBadCertificate { kind }
    }
}

impl LinkFault for TlsBadCertificate {
    fn name(&self) -> &'static str {
        "tls_bad_certificate"
    }

    fn admit(&mut self) -> Admission {
        Admission::Impersonate(self.kind)
    }
}
