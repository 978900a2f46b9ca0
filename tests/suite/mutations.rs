//! No input panics the loader: thousands of seeded random mutations of the example scenarios
//! each come back as `Ok` or as an error whose positions lie inside the text.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Mutations per example; with seven examples this is about 4,200 inputs.
const MUTATIONS_PER_EXAMPLE: u64 = 600;

/// Characters that matter to YAML, plus a few ordinary ones and multi-byte ones.
const ALPHABET: &[char] = &[
    ':', '{', '}', '[', ']', '-', '#', '&', '*', '!', '|', '>', '\'', '"', '\n', '\t', ' ', ',', '%', '±',
    '0', '9', 'a', 's', 'm', '.', '/', '?', '@', '`', 'é', '\u{0}',
];

fn mutate(text: &str, rng: &mut ChaCha8Rng) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let rounds = rng.random_range(1..=4);
    for _ in 0..rounds {
        let len = chars.len().max(1);
        let at = rng.random_range(0..len).min(chars.len());
        match rng.random_range(0..6) {
            0 => {
                let end = (at + rng.random_range(1..20)).min(chars.len());
                chars.drain(at..end);
            }
            1 => chars.insert(at, ALPHABET[rng.random_range(0..ALPHABET.len())]),
            2 => {
                let end = (at + rng.random_range(1..40)).min(chars.len());
                let copy: Vec<char> = chars[at..end].to_vec();
                let to = rng.random_range(0..=chars.len());
                chars.splice(to..to, copy);
            }
            3 => chars.truncate(at),
            4 => {
                let digits: Vec<char> = rng.random_range(0u64..100_000_000_000).to_string().chars().collect();
                chars.splice(at..at, digits);
            }
            _ => {
                // Swap two lines.
                let mut lines: Vec<String> =
                    chars.iter().collect::<String>().lines().map(String::from).collect();
                if lines.len() > 2 {
                    let a = rng.random_range(0..lines.len());
                    let b = rng.random_range(0..lines.len());
                    lines.swap(a, b);
                }
                chars = lines.join("\n").chars().collect();
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn seeded_mutations_never_panic_and_errors_point_inside_the_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut examples: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    examples.sort();
    let (mut accepted, mut rejected) = (0, 0);
    for (index, path) in examples.iter().enumerate() {
        let original = std::fs::read_to_string(path).unwrap();
        for round in 0..MUTATIONS_PER_EXAMPLE {
            let seed = index as u64 * 1_000_000 + round;
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let text = mutate(&original, &mut rng);
            let outcome = catch_unwind(AssertUnwindSafe(|| wschaos::Scenario::parse(&text, "mutant.yaml")));
            let Ok(result) = outcome else {
                panic!("the loader panicked on {} mutation seed {seed}:\n{text}", path.display());
            };
            match result {
                Ok(_) => accepted += 1,
                Err(error) => {
                    rejected += 1;
                    assert!(!error.diagnostics.is_empty(), "an error without diagnostics (seed {seed})");
                    let lines = text.lines().count() as u32 + 1;
                    for d in &error.diagnostics {
                        let p = d.position.unwrap_or_else(|| panic!("no position (seed {seed}): {error}"));
                        assert!(
                            p.line >= 1 && p.line <= lines,
                            "line {} outside the text (seed {seed}): {error}",
                            p.line
                        );
                    }
                    // Rendering must not panic either.
                    let _ = error.to_string();
                }
            }
        }
    }
    // Most mutations break something; some (comment edits) do not. Both paths must be exercised.
    assert!(rejected > accepted, "accepted {accepted}, rejected {rejected}");
    assert!(accepted > 0, "no mutation survived; the mutator only produces garbage");
}
