//! Compact per-offset memory for checkers. A checker remembers what it saw at each offset only
//! while some replica may still serve that offset: below a partition's lowest log start
//! (retention deleted it everywhere) nothing can be read or compared again, so it is forgotten,
//! and a long run keeps only what its logs keep.

use std::collections::{BTreeMap, VecDeque};

/// One optional fact per offset, dense from `base`.
#[derive(Debug)]
pub struct OffsetTable<T> {
    base: u64,
    slots: VecDeque<Option<T>>,
}

impl<T> Default for OffsetTable<T> {
    fn default() -> Self {
        OffsetTable {
            base: 0,
            slots: VecDeque::new(),
        }
    }
}

impl<T: Copy> OffsetTable<T> {
    pub fn get(&self, offset: u64) -> Option<T> {
        let i = offset.checked_sub(self.base)?;
        self.slots.get(i as usize).copied().flatten()
    }

    /// Remembers `value` at `offset`; an offset already forgotten stays forgotten.
    pub fn set(&mut self, offset: u64, value: T) {
        let Some(i) = offset.checked_sub(self.base) else {
            return;
        };
        let i = i as usize;
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        self.slots[i] = Some(value);
    }

    /// Forgets every offset below `offset`.
    pub fn forget_below(&mut self, offset: u64) {
        if offset <= self.base {
            return;
        }
        let n = ((offset - self.base) as usize).min(self.slots.len());
        self.slots.drain(..n);
        self.base = offset;
    }
}

/// A set of offsets kept as disjoint half-open ranges: a consumer processes runs of consecutive
/// offsets, so a whole partition's history is a handful of ranges.
#[derive(Clone, Debug, Default)]
pub struct OffsetRanges {
    /// start → end (exclusive), disjoint and not touching.
    ranges: BTreeMap<u64, u64>,
}

impl OffsetRanges {
    /// Adds `start..end`, merging with the ranges it overlaps or touches.
    pub fn insert(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let (mut start, mut end) = (start, end);
        if let Some((&s, &e)) = self.ranges.range(..=start).next_back() {
            if e >= start {
                start = s;
                end = end.max(e);
            }
        }
        let absorbed: Vec<u64> = self.ranges.range(start..=end).map(|(s, _)| *s).collect();
        for s in absorbed {
            if let Some(e) = self.ranges.remove(&s) {
                end = end.max(e);
            }
        }
        self.ranges.insert(start, end);
    }

    pub fn contains(&self, offset: u64) -> bool {
        self.ranges
            .range(..=offset)
            .next_back()
            .is_some_and(|(_, e)| offset < *e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_forgets_below_and_ignores_forgotten_offsets() {
        let mut t = OffsetTable::default();
        t.set(3, 'a');
        t.set(5, 'b');
        assert_eq!(t.get(3), Some('a'));
        assert_eq!(t.get(4), None);
        t.forget_below(4);
        assert_eq!(t.get(3), None);
        assert_eq!(t.get(5), Some('b'));
        t.set(2, 'z');
        assert_eq!(t.get(2), None);
        t.forget_below(100);
        assert_eq!(t.get(5), None);
        t.set(100, 'c');
        assert_eq!(t.get(100), Some('c'));
    }

    #[test]
    fn ranges_merge_touching_and_overlapping_runs() {
        let mut r = OffsetRanges::default();
        r.insert(0, 5);
        r.insert(10, 12);
        r.insert(5, 7);
        assert_eq!(r.ranges.len(), 2);
        r.insert(6, 11);
        assert_eq!(r.ranges.len(), 1);
        assert!(r.contains(0) && r.contains(11));
        assert!(!r.contains(12));
        r.insert(20, 21);
        assert!(r.contains(20) && !r.contains(19) && !r.contains(21));
    }
}
