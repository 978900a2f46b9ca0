use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

use super::*;

#[test]
fn client_names_round_trip_and_nothing_else_is_a_client() {
    assert_eq!(client_name(7), "c7.wschaos.test");
    for index in [0, 7, 99_999, u32::MAX] {
        assert_eq!(client_of_name(&client_name(index)), Some(index));
    }
    for other in [
        "localhost",
        "c.wschaos.test",
        "c07.wschaos.test",
        "x7.wschaos.test",
        "c7.example.com",
        "c7wschaos.test",
        "c-1.wschaos.test",
        "c99999999999.wschaos.test",
    ] {
        assert_eq!(client_of_name(other), None, "{other}");
    }
}

/// A TLS handshake between `client` asking for `name` and `server`, then one echo; the
/// client's error when it fails.
async fn handshake(client: Arc<ClientConfig>, server: Arc<ServerConfig>, name: &str) -> io::Result<String> {
    let (near, far) = duplex(64 * 1024);
    let acceptor = tokio_rustls::TlsAcceptor::from(server);
    let serving = tokio::spawn(async move {
        let mut stream = acceptor.accept(far).await?;
        let mut buf = [0u8; 5];
        stream.read_exact(&mut buf).await?;
        stream.write_all(&buf).await?;
        stream.flush().await?;
        let sni = stream.get_ref().1.server_name().map(str::to_string);
        io::Result::Ok(sni)
    });
    let tls = TlsClient::new(client, name)?;
    let mut stream = tls.connector.connect(tls.name.clone(), near).await?;
    stream.write_all(b"hello").await?;
    let mut buf = [0u8; 5];
    stream.read_exact(&mut buf).await?;
    assert_eq!(&buf, b"hello");
    let sni = serving.await.expect("the server task")?;
    Ok(sni.unwrap_or_default())
}

#[tokio::test(start_paused = true)]
async fn a_client_trusting_the_run_ca_reaches_the_server_by_its_client_name_in_no_virtual_time() {
    let certs = RunCertificates::generate().unwrap();
    let before = tokio::time::Instant::now();
    let sni = handshake(certs.client().unwrap(), certs.server().unwrap(), "c7.wschaos.test").await.unwrap();
    assert_eq!(sni, "c7.wschaos.test", "the server saw the client's name");
    assert_eq!(before.elapsed(), std::time::Duration::ZERO);
    handshake(certs.client().unwrap(), certs.server().unwrap(), "localhost").await.unwrap();
    handshake(certs.client().unwrap(), certs.server().unwrap(), "127.0.0.1").await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn every_bad_certificate_is_refused_as_a_certificate_error() {
    let certs = RunCertificates::generate().unwrap();
    for kind in BadCertificate::ALL {
        let result =
            handshake(certs.client().unwrap(), certs.bad_server(kind).unwrap(), "c1.wschaos.test").await;
        let error = result.expect_err(kind.name());
        assert!(is_certificate_error(&error), "{}: {error}", kind.name());
    }
    // Another run's CA is not trusted either.
    let other = RunCertificates::generate().unwrap();
    let error =
        handshake(certs.client().unwrap(), other.server().unwrap(), "c1.wschaos.test").await.unwrap_err();
    assert!(is_certificate_error(&error), "{error}");
}

#[test]
fn the_ca_file_reads_back_and_garbage_is_a_clear_error() {
    let certs = RunCertificates::generate().unwrap();
    let dir = std::env::temp_dir().join(format!("wschaos-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ca.pem");
    std::fs::write(&path, certs.ca_pem()).unwrap();
    assert_eq!(read_ca_file(&path).unwrap().len(), 1);
    std::fs::write(&path, "not a certificate").unwrap();
    assert!(read_ca_file(&path).unwrap_err().to_string().contains("no CERTIFICATE"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn debug_output_shows_no_key_material() {
    let certs = RunCertificates::generate().unwrap();
    assert_eq!(format!("{certs:?}"), "RunCertificates { .. }");
}
