//! The certificates of one run, made in memory: an Ed25519 CA and a leaf it signs for
//! `localhost`, `127.0.0.1` and `*.wschaos.test`, and on demand the bad certificates of the
//! `tls_bad_certificate` fault. Keys are fresh each run (nothing in a report depends on them);
//! Ed25519 keeps every certificate the same length, so TLS records are too.

use std::io;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, ServerConfig};

use super::{DOMAIN, client_config, server_config};

/// How a bad certificate fails a correct client's verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BadCertificate {
    /// Signed by the run's CA for the right names, but its validity ended in 2000.
    Expired,
    /// Signed by the run's CA, valid, for another host (`wrong-host.invalid`).
    WrongHost,
    /// For the right names and valid, but signed by a CA nobody trusts.
    Untrusted,
    /// For the right names and valid, signed by its own key.
    SelfSigned,
}

impl BadCertificate {
    /// Every kind, in the order `kind:` lists them.
    pub const ALL: [BadCertificate; 4] = [
        BadCertificate::Expired,
        BadCertificate::WrongHost,
        BadCertificate::Untrusted,
        BadCertificate::SelfSigned,
    ];

    /// The name `kind:` takes.
    pub fn name(self) -> &'static str {
        match self {
            BadCertificate::Expired => "expired",
            BadCertificate::WrongHost => "wrong_host",
            BadCertificate::Untrusted => "untrusted",
            BadCertificate::SelfSigned => "self_signed",
        }
    }
}

/// A run's CA and leaf, and the configs built from them.
pub struct RunCertificates {
    ca: CertificateDer<'static>,
    ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
    leaf: CertificateDer<'static>,
    leaf_key: Vec<u8>,
}

impl std::fmt::Debug for RunCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No key material in any Debug output.
        f.debug_struct("RunCertificates").finish_non_exhaustive()
    }
}

fn cert_error(error: rcgen::Error) -> io::Error {
    io::Error::other(format!("making the run's certificates: {error}"))
}

/// The names the run's leaf covers.
fn leaf_names() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into(), format!("*.{DOMAIN}")]
}

/// A certificate's parameters for `names`, valid 2020–2100 (the run's clock says 2026).
fn params(names: Vec<String>, common_name: &str) -> io::Result<CertificateParams> {
    let mut params = CertificateParams::new(names).map_err(cert_error)?;
    params.not_before = date_time_ymd(2020, 1, 1);
    params.not_after = date_time_ymd(2100, 1, 1);
    params.distinguished_name.push(DnType::CommonName, common_name);
    Ok(params)
}

fn ed25519() -> io::Result<KeyPair> {
    KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(cert_error)
}

/// A CA named `name`, as its certificate and the issuer that signs with it.
fn authority(name: &str) -> io::Result<(CertificateDer<'static>, String, Issuer<'static, KeyPair>)> {
    let mut params = params(Vec::new(), name)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = ed25519()?;
    let cert = params.self_signed(&key).map_err(cert_error)?;
    Ok((cert.der().clone(), cert.pem(), Issuer::new(params, key)))
}

fn private_key(der: &[u8]) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.to_vec()))
}

impl RunCertificates {
    /// A fresh CA and leaf.
    pub fn generate() -> io::Result<RunCertificates> {
        let (ca, ca_pem, issuer) = authority("wschaos run CA")?;
        let key = ed25519()?;
        let leaf =
            params(leaf_names(), "wschaos echo server")?.signed_by(&key, &issuer).map_err(cert_error)?;
        Ok(RunCertificates { ca, ca_pem, issuer, leaf: leaf.der().clone(), leaf_key: key.serialize_der() })
    }

    /// The CA certificate in PEM, for `ca.pem`.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Writes the CA to `dir/ca.pem` (creating `dir`) for other programs to trust; returns the
    /// file's path, or an error naming it.
    pub fn write_ca(&self, dir: &std::path::Path) -> io::Result<std::path::PathBuf> {
        let path = dir.join("ca.pem");
        std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, &self.ca_pem)).map_err(|error| {
            io::Error::new(error.kind(), format!("cannot write {}: {error}", path.display()))
        })?;
        Ok(path)
    }

    /// The echo server's (and a terminating proxy's) config: the leaf and the CA.
    pub fn server(&self) -> io::Result<Arc<ServerConfig>> {
        server_config(vec![self.leaf.clone(), self.ca.clone()], private_key(&self.leaf_key)).map(Arc::new)
    }

    /// A client config trusting exactly the run's CA.
    pub fn client(&self) -> io::Result<Arc<ClientConfig>> {
        client_config(std::slice::from_ref(&self.ca)).map(Arc::new)
    }

    /// A server config presenting a certificate that fails verification as `kind` says.
    pub fn bad_server(&self, kind: BadCertificate) -> io::Result<Arc<ServerConfig>> {
        let key = ed25519()?;
        let signed = match kind {
            BadCertificate::Expired => {
                let mut params = params(leaf_names(), "expired")?;
                params.not_before = date_time_ymd(1990, 1, 1);
                params.not_after = date_time_ymd(2000, 1, 1);
                params.signed_by(&key, &self.issuer)
            }
            BadCertificate::WrongHost => {
                params(vec!["wrong-host.invalid".into()], "wrong host")?.signed_by(&key, &self.issuer)
            }
            BadCertificate::Untrusted => {
                let (_, _, stranger) = authority("an untrusted CA")?;
                params(leaf_names(), "untrusted")?.signed_by(&key, &stranger)
            }
            BadCertificate::SelfSigned => params(leaf_names(), "self-signed")?.self_signed(&key),
        }
        .map_err(cert_error)?;
        server_config(vec![signed.der().clone()], private_key(&key.serialize_der())).map(Arc::new)
    }
}
