//! "Did you mean …?": the closest valid name to a misspelt one.

/// Returns the candidate closest to `word`, if one is close enough to be a plausible typo.
///
/// Close enough means an edit distance of at most a third of the word's length (at least 1), or
/// a case-insensitive match, or one being a prefix of the other (`heartbeat` for `heart`).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter_map(|candidate| {
            let other = candidate.to_lowercase();
            let distance = if other == lower { 0 } else { strsim::damerau_levenshtein(&lower, &other) };
            let prefix = lower.len() >= 3 && (other.starts_with(&lower) || lower.starts_with(&other));
            (distance <= limit || prefix).then_some((distance, candidate))
        })
        .min_by_key(|&(distance, candidate)| (distance, candidate))
        .map(|(_, candidate)| candidate)
}

/// Formats `did you mean `x`?` when a close candidate exists.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(word, candidates).map(|best| format!("did you mean `{best}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_ignores_strangers() {
        let keys = ["ping_every", "pong_timeout"];
        assert_eq!(closest("pong_timout", keys), Some("pong_timeout"));
        assert_eq!(closest("PING_EVERY", keys), Some("ping_every"));
        assert_eq!(closest("colour", keys), None);
        assert_eq!(closest("socket.io", ["socketio", "signalr"]), Some("socketio"));
        assert_eq!(closest("stal", ["stall", "slice"]), Some("stall"));
    }
}
