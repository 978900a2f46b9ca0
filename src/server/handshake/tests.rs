//! The upgrade checks and the answer's latency: table tests of what is an upgrade, the head reader, and the prefixed stream.

use rand::SeedableRng;

use super::*;

fn headers(authorization: &[&str]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for value in authorization {
        map.append(header::AUTHORIZATION, value.parse().unwrap());
    }
    map
}

#[test]
fn bearer_check_table() {
    let cases: &[(&[&str], bool)] = &[
        (&[], false),
        (&["Bearer secret"], true),
        (&["bearer secret"], true),
        (&["BEARER  secret "], true),
        (&["Bearer Secret"], false),
        (&["Bearer secre"], false),
        (&["Bearer secret2"], false),
        (&["Basic c2VjcmV0"], false),
        (&["secret"], false),
        (&["Bearer"], false),
        (&["Basic x", "Bearer secret"], true),
    ];
    for (values, expected) in cases {
        assert_eq!(carries_bearer(&headers(values), "secret"), *expected, "{values:?}");
    }
}

#[test]
fn only_websocket_upgrades_pass_and_the_rest_get_400_or_426() {
    let upgrade = |extra: &str| {
        format!(
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
        )
    };
    assert_eq!(check_upgrade(upgrade("Sec-WebSocket-Version: 13\r\n").as_bytes()), Ok(()));
    let cases: &[(&str, u16, &str)] = &[
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "no `Upgrade: websocket`"),
        ("POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n", 400, "a GET, not POST"),
        ("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", 400, "no `Connection: Upgrade`"),
        ("\x16\x03\x01\x02\x00\r\n\r\n", 400, "not an HTTP request"),
    ];
    for (head, status, why) in cases {
        let refused = check_upgrade(head.as_bytes()).unwrap_err();
        assert_eq!(refused.status.as_u16(), *status, "{head:?}");
        assert!(refused.why.contains(why), "{head:?}: {}", refused.why);
    }
    let old = check_upgrade(upgrade("Sec-WebSocket-Version: 8\r\n").as_bytes()).unwrap_err();
    assert_eq!(old.status, StatusCode::UPGRADE_REQUIRED);
    assert!(String::from_utf8(old.answer()).unwrap().contains("Sec-WebSocket-Version: 13\r\n"));
    let no_key =
        "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n";
    assert!(check_upgrade(no_key.as_bytes()).unwrap_err().why.contains("Sec-WebSocket-Key"));
}

#[tokio::test]
async fn the_head_is_read_to_its_end_and_handed_on_whole() {
    use tokio::io::AsyncWriteExt;

    let (mut near, mut far) = tokio::io::duplex(64);
    far.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nrest").await.unwrap();
    drop(far);
    let head = read_head(&mut near).await.unwrap().unwrap();
    assert!(head.starts_with(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    let mut replay = Prefixed::new(head, near);
    let mut all = Vec::new();
    replay.read_to_end(&mut all).await.unwrap();
    assert_eq!(all, b"GET / HTTP/1.1\r\nHost: x\r\n\r\nrest");
}

#[test]
fn latency_draws_stay_in_range_cover_it_and_repeat_with_the_seed() {
    let latency = Jittered { base: Duration::from_millis(10), jitter: Duration::from_millis(4) };
    let draws = |seed| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..1000).map(|_| draw_latency(&mut rng, latency)).collect::<Vec<_>>()
    };
    let first = draws(7);
    assert_eq!(first, draws(7), "same seed, same draws");
    assert_ne!(first, draws(8));
    assert!(first.iter().all(|d| (latency.min()..=latency.max()).contains(d)));
    assert!(first.iter().any(|d| *d < Duration::from_millis(7)), "reaches the low end");
    assert!(first.iter().any(|d| *d > Duration::from_millis(13)), "reaches the high end");
}

#[test]
fn a_fixed_latency_draws_nothing() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let fixed = Jittered { base: Duration::from_millis(5), jitter: Duration::ZERO };
    assert_eq!(draw_latency(&mut rng, fixed), Duration::from_millis(5));
    assert_eq!(rng, ChaCha8Rng::seed_from_u64(1), "the generator did not move");
}

#[tokio::test(start_paused = true)]
async fn only_the_first_write_waits() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::time::Instant;

    let (near, mut far) = tokio::io::duplex(64);
    let mut delayed = DelayedAnswer::new(near, Duration::from_millis(30));
    let start = Instant::now();
    delayed.write_all(b"101").await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(30));
    delayed.write_all(b"frame").await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(30), "later writes pass at once");
    let mut buf = [0u8; 8];
    far.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"101frame");
}
