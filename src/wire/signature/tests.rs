//! The signature check, case by case.

use super::*;

const S: fn(u64) -> Duration = Duration::from_secs;
const NOW: u64 = EPOCH_MS + 100_000;
const WINDOW: Window = Window { max_age: Duration::from_secs(30), clock_skew: Duration::from_secs(2) };

fn secret() -> Secret {
    Secret::new("0123456789abcdef-old")
}

fn signed_at(ts_ms: u64, with: &Secret) -> String {
    Claim { ts_ms, client: 3, session: 42 }.signed_query(with)
}

/// A case: its name, the query, the secret that signed it, and what the check says.
type Case<'a> = (&'a str, Option<String>, Option<&'a Secret>, Result<(), Rejection>);

#[test]
fn the_check_accepts_fresh_signatures_only() {
    let other = Secret::new("0123456789abcdef-new");
    let cases: [Case; 10] = [
        ("fresh", Some(signed_at(NOW, &secret())), Some(&secret()), Ok(())),
        ("max_age old", Some(signed_at(NOW - 30_000, &secret())), Some(&secret()), Ok(())),
        ("stale", Some(signed_at(NOW - 30_001, &secret())), Some(&secret()), Err(Rejection::Stale)),
        ("within skew", Some(signed_at(NOW + 2_000, &secret())), Some(&secret()), Ok(())),
        (
            "beyond skew",
            Some(signed_at(NOW + 2_001, &secret())),
            Some(&secret()),
            Err(Rejection::FromTheFuture),
        ),
        ("wrong secret", Some(signed_at(NOW, &other)), Some(&secret()), Err(Rejection::WrongSignature)),
        ("missing", None, Some(&secret()), Err(Rejection::Missing)),
        ("revoked", Some(signed_at(NOW, &secret())), None, Err(Rejection::WrongSignature)),
        (
            "after rotation, old",
            Some(signed_at(NOW, &secret())),
            Some(&other),
            Err(Rejection::WrongSignature),
        ),
        ("after rotation, new", Some(signed_at(NOW, &other)), Some(&other), Ok(())),
    ];
    for (name, query, with, expected) in cases {
        assert_eq!(verify(query.as_deref(), with, NOW, WINDOW), expected, "{name}");
    }
}

#[test]
fn malformed_and_tampered_queries_are_refused() {
    let good = signed_at(NOW, &secret());
    let cases = [
        ("no signature", good.split("&wschaos_sig").next().unwrap().to_string(), Rejection::Missing),
        ("odd hex", good[..good.len() - 1].to_string(), Rejection::Malformed),
        ("not hex", good.replace("wschaos_sig=", "wschaos_sig=zz"), Rejection::Malformed),
        ("not a number", good.replace("wschaos_client=3", "wschaos_client=x"), Rejection::Malformed),
        ("another client", good.replace("wschaos_client=3", "wschaos_client=4"), Rejection::WrongSignature),
        (
            "another time",
            good.replace(&format!("wschaos_ts={NOW}"), &format!("wschaos_ts={}", NOW - 1)),
            Rejection::WrongSignature,
        ),
        ("empty", String::new(), Rejection::Missing),
    ];
    for (name, query, expected) in cases {
        assert_eq!(verify(Some(&query), Some(&secret()), NOW, WINDOW), Err(expected), "{name}: {query}");
    }
}

#[test]
fn the_query_names_every_parameter_and_a_256_bit_signature() {
    let query = signed_at(EPOCH_MS, &secret());
    assert!(
        query.starts_with(&format!("wschaos_ts={EPOCH_MS}&wschaos_client=3&wschaos_session=42&wschaos_sig="))
    );
    let sig = query.rsplit('=').next().unwrap();
    assert_eq!(sig.len(), 64);
    assert!(sig.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_ne!(query, signed_at(EPOCH_MS, &Secret::new("0123456789abcdef-new")));
}

#[test]
fn debug_never_shows_a_secret() {
    let shown = format!("{:?} {:?}", secret(), Credentials::new(secret()));
    assert!(!shown.contains("0123456789abcdef"), "{shown}");
    assert!(shown.contains("redacted"));
}

#[tokio::test(start_paused = true)]
async fn the_run_clock_counts_from_the_epoch_and_revoking_rotates() {
    let credentials = Credentials::new(secret());
    assert_eq!(credentials.now_ms(), EPOCH_MS);
    tokio::time::sleep(S(5)).await;
    assert_eq!(credentials.now_ms(), EPOCH_MS + 5_000);
    let shared = credentials.clone();
    shared.revoke(Some(Secret::new("0123456789abcdef-new")));
    assert_eq!(credentials.current(), Some(Secret::new("0123456789abcdef-new")));
    shared.revoke(None);
    assert_eq!(credentials.current(), None);
}
