//! Which sequence numbers a client has sent: the server counts duplicates with it, and an
//! exactly-once client drops the echoes it has seen. A bitset that forgets its dense prefix, so
//! an in-order stream costs one word however long it runs.

use std::collections::VecDeque;

/// Bits in one word of a [`SeenSet`].
const WORD_BITS: u64 = u64::BITS as u64;

/// How far past its lowest unseen number a [`SeenSet`] tracks, in words: 2^14 words of 64 bits,
/// that is 2^20 sequence numbers in at most 128 KiB. A client sends in order, so the set stays a
/// few words long unless messages are lost for good; a million messages past a loss is hours of
/// a busy workload. The bound exists for frames from peers that do not speak the wire format,
/// whose "sequence numbers" are arbitrary: one such frame must not allocate gigabytes.
const MAX_WORDS: usize = 1 << 14;

/// Whether a sequence number was new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The first time.
    First,
    /// Seen before: a duplicate.
    Again,
    /// Too far ahead to track.
    Untracked,
}

/// The sequence numbers one client has sent: a bitset that forgets the dense prefix.
///
/// Numbers below `base` have all been seen; bit `i` of the words is number `base + i`. Whenever
/// the first word fills up it is dropped and `base` moves on, so an in-order stream costs one
/// word however long it runs, and a loss costs one bit per number after it.
#[derive(Clone, Debug, Default)]
pub struct SeenSet {
    /// Every number below this has been seen; always a multiple of 64.
    base: u64,
    /// Bits for the numbers from `base` on; never starts with a full word.
    words: VecDeque<u64>,
}

impl SeenSet {
    /// Records `seq` and says whether it was new.
    pub fn insert(&mut self, seq: u64) -> Seen {
        let Some(offset) = seq.checked_sub(self.base) else {
            return Seen::Again;
        };
        let word = usize::try_from(offset / WORD_BITS).unwrap_or(usize::MAX);
        if word >= MAX_WORDS {
            return Seen::Untracked;
        }
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        let bit = 1u64 << (offset % WORD_BITS);
        if self.words[word] & bit != 0 {
            return Seen::Again;
        }
        self.words[word] |= bit;
        while self.words.front() == Some(&u64::MAX) {
            self.words.pop_front();
            self.base += WORD_BITS;
        }
        Seen::First
    }

    /// Words held: what the set costs beyond its fixed size.
    pub fn words(&self) -> usize {
        self.words.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_set_reports_first_and_again_in_any_order() {
        let mut set = SeenSet::default();
        for seq in [5, 0, 200, 1, 64] {
            assert_eq!(set.insert(seq), Seen::First, "{seq}");
        }
        for seq in [5, 0, 200, 1, 64] {
            assert_eq!(set.insert(seq), Seen::Again, "{seq}");
        }
        assert_eq!(set.insert(2), Seen::First);
        assert_eq!(set.insert(199), Seen::First);
    }

    #[test]
    fn an_in_order_stream_stays_one_word_and_remembers_its_past() {
        let mut set = SeenSet::default();
        for seq in 0..100_000 {
            assert_eq!(set.insert(seq), Seen::First);
            assert!(set.words() <= 1, "{} words after {seq}", set.words());
        }
        assert_eq!(set.insert(0), Seen::Again, "forgotten words still count as seen");
        assert_eq!(set.insert(99_999), Seen::Again);
    }

    #[test]
    fn a_loss_keeps_one_bit_per_number_after_it() {
        let mut set = SeenSet::default();
        for seq in (0..10_000).filter(|&seq| seq != 70) {
            set.insert(seq);
        }
        assert_eq!(set.words(), (10_000 - 64) / 64 + 1, "held from the word with the gap");
        assert_eq!(set.insert(70), Seen::First, "the lost one is still new");
        assert!(set.words() <= 1, "then the prefix collapses");
    }

    #[test]
    fn numbers_far_ahead_are_untracked_not_allocated() {
        let mut set = SeenSet::default();
        assert_eq!(set.insert(u64::MAX), Seen::Untracked);
        assert_eq!(set.insert(MAX_WORDS as u64 * WORD_BITS), Seen::Untracked);
        assert_eq!(set.words(), 0);
        assert_eq!(set.insert(MAX_WORDS as u64 * WORD_BITS - 1), Seen::First, "the last tracked number");
        assert_eq!(set.words(), MAX_WORDS);
    }
}
