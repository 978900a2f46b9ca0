//! A set of sequence numbers kept as disjoint ranges: the recorder's per-client message sets.
//!
//! A client's messages are numbered 0, 1, 2, … and mostly offered and echoed in order, so its
//! sets are a few long runs: a `BTreeSet<u64>` would cost about 10 bytes per message (36 KB
//! per client for an hour at 1 msg/s), this costs a few dozen bytes per gap. It is still an
//! exact set for any insertion and removal order.

use std::collections::BTreeMap;

/// A set of `u64`, stored as inclusive ranges `first..=last` keyed by `first`; ranges never
/// touch or overlap (adjacent ones are merged).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SeqSet {
    ranges: BTreeMap<u64, u64>,
}

impl SeqSet {
    /// Adds `seq`; `false` if it was already there.
    pub fn insert(&mut self, seq: u64) -> bool {
        let before = self.ranges.range(..=seq).next_back().map(|(first, last)| (*first, *last));
        if before.is_some_and(|(_, last)| seq <= last) {
            return false;
        }
        let after = seq.checked_add(1).and_then(|next| self.ranges.get(&next).map(|last| (next, *last)));
        let joins_before = before.filter(|(_, last)| last.checked_add(1) == Some(seq));
        match (joins_before, after) {
            (Some((first, _)), Some((next, last))) => {
                self.ranges.remove(&next);
                self.ranges.insert(first, last);
            }
            (Some((first, _)), None) => {
                self.ranges.insert(first, seq);
            }
            (None, Some((next, last))) => {
                self.ranges.remove(&next);
                self.ranges.insert(seq, last);
            }
            (None, None) => {
                self.ranges.insert(seq, seq);
            }
        }
        true
    }

    /// Removes `seq`; `false` if it was not there.
    pub fn remove(&mut self, seq: u64) -> bool {
        let Some((first, last)) = self.ranges.range(..=seq).next_back().map(|(f, l)| (*f, *l)) else {
            return false;
        };
        if seq > last {
            return false;
        }
        self.ranges.remove(&first);
        if first < seq {
            self.ranges.insert(first, seq - 1);
        }
        if seq < last {
            self.ranges.insert(seq + 1, last);
        }
        true
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// How many members of `self` are not in `other`.
    pub fn count_missing_from(&self, other: &SeqSet) -> u64 {
        let mut theirs = other.ranges.iter().map(|(f, l)| (*f, *l)).peekable();
        let mut missing = 0u64;
        for (&first, &last) in &self.ranges {
            // Count [first, last] minus the parts of `other` it overlaps; `other`'s ranges that
            // end before `first` are behind us for good.
            let mut covered = 0u64;
            while let Some(&(their_first, their_last)) = theirs.peek() {
                if their_last < first {
                    theirs.next();
                    continue;
                }
                if their_first > last {
                    break;
                }
                covered += their_last.min(last) - their_first.max(first) + 1;
                if their_last > last {
                    break;
                }
                theirs.next();
            }
            missing += (last - first + 1) - covered;
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    /// Small values, so operations collide and ranges merge and split.
    fn operations() -> impl Strategy<Value = Vec<(bool, u64)>> {
        proptest::collection::vec((any::<bool>(), 0u64..40), 0..120)
    }

    proptest! {
        #[test]
        fn it_behaves_as_a_btreeset(ops in operations(), other in proptest::collection::btree_set(0u64..40, 0..40)) {
            let mut set = SeqSet::default();
            let mut model = BTreeSet::new();
            for (insert, seq) in ops {
                if insert {
                    prop_assert_eq!(set.insert(seq), model.insert(seq));
                } else {
                    prop_assert_eq!(set.remove(seq), model.remove(&seq));
                }
                prop_assert_eq!(set.is_empty(), model.is_empty());
            }
            let mut others = SeqSet::default();
            for seq in &other {
                others.insert(*seq);
            }
            prop_assert_eq!(set.count_missing_from(&others), model.difference(&other).count() as u64);
            prop_assert_eq!(others.count_missing_from(&set), other.difference(&model).count() as u64);
        }
    }

    #[test]
    fn in_order_members_stay_one_range_and_the_extremes_work() {
        let mut set = SeqSet::default();
        for seq in 0..10_000 {
            assert!(set.insert(seq));
        }
        assert_eq!(set.ranges.len(), 1);
        assert!(set.insert(u64::MAX) && !set.insert(u64::MAX));
        assert!(set.remove(u64::MAX) && !set.remove(u64::MAX));
        assert!(set.remove(5_000));
        assert_eq!(set.ranges.len(), 2);
        assert_eq!(set.count_missing_from(&SeqSet::default()), 9_999);
    }
}
