//! The few pieces of Java's standard library whose behaviour reaches Kafka's assignments.
//!
//! Kafka's assignors iterate `HashMap`s and `HashSet`s in places where the iteration order decides
//! who gets a partition (which consumer keeps `maxQuota` owned partitions, which member of a
//! KIP-848 group receives an extra partition, which partition a sticky reassignment moves). To
//! produce Kafka's output partition for partition, we reproduce that order: `String.hashCode`,
//! `HashMap.hash` (`h ^ (h >>> 16)`), the bucket index for the table capacity, and the resize rule
//! (capacity doubles when the size exceeds 3/4 of it). Within one bucket, Java keeps insertion
//! order (resizes split a bucket without reordering it). Treeified buckets (8+ colliding keys in a
//! table of 64+) are not modelled.

use std::cmp::Ordering;

/// `String.hashCode()`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16 code units, wrapping.
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// `TopicPartition.hashCode()`: `31 * (31 + partition) + topic.hashCode()`, wrapping.
pub fn topic_partition_hash(topic: &str, partition: u32) -> i32 {
    31i32
        .wrapping_mul(31i32.wrapping_add(partition as i32))
        .wrapping_add(string_hash(topic))
}

/// `Integer.hashCode()`.
pub fn integer_hash(value: u32) -> i32 {
    value as i32
}

/// `HashMap.hash(key)`: the high half of the hash folded into the low half.
fn spread(hash: i32) -> u32 {
    let h = hash as u32;
    h ^ (h >> 16)
}

/// The bucket a key with this hash lands in, in a table of `capacity` (a power of two).
pub fn bucket(hash: i32, capacity: usize) -> usize {
    (spread(hash) as usize) & (capacity - 1)
}

/// `HashMap.tableSizeFor(cap)`: the smallest power of two at least `cap` (at least 1).
pub fn table_size_for(cap: usize) -> usize {
    cap.max(1).next_power_of_two()
}

/// The table capacity of a `new HashMap<>()` (or `HashSet`) after `size` distinct puts.
pub fn default_capacity(size: usize) -> usize {
    let mut capacity = 16;
    while size * 4 > capacity * 3 {
        capacity *= 2;
    }
    capacity
}

/// The table capacity of `new HashSet<>(collection)` holding `size` elements.
pub fn collection_copy_capacity(size: usize) -> usize {
    let initial = ((size as f32 / 0.75f32) as usize + 1).max(16);
    let mut capacity = table_size_for(initial);
    while size * 4 > capacity * 3 {
        capacity *= 2;
    }
    capacity
}

/// Indices of `hashes` (given in insertion order) in the order a Java hash table of `capacity`
/// iterates them: by bucket, and within a bucket by insertion.
pub fn iteration_order(hashes: &[i32], capacity: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..hashes.len()).collect();
    order.sort_by_key(|&i| bucket(hashes[i], capacity));
    order
}

/// The order `new HashMap<String, _>()` iterates these keys, put in the order given.
pub fn hash_map_order<S: AsRef<str>>(keys: &[S]) -> Vec<usize> {
    let hashes: Vec<i32> = keys.iter().map(|k| string_hash(k.as_ref())).collect();
    iteration_order(&hashes, default_capacity(keys.len()))
}

/// `String.compareTo`: lexicographic over UTF-16 code units.
pub fn compare_strings(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// A Java `HashSet` whose first element (`iterator().next()`) matters: it remembers insertion
/// order and the capacity the set has grown to, since removals never shrink a Java table.
#[derive(Clone, Debug)]
pub struct JavaHashSet<T> {
    entries: Vec<(u64, i32, T)>,
    next_seq: u64,
    capacity: usize,
}

impl<T: PartialEq> JavaHashSet<T> {
    pub fn new() -> Self {
        JavaHashSet {
            entries: Vec::new(),
            next_seq: 0,
            capacity: 16,
        }
    }

    pub fn insert(&mut self, value: T, hash: i32) {
        if self.entries.iter().any(|(_, _, v)| *v == value) {
            return;
        }
        self.entries.push((self.next_seq, hash, value));
        self.next_seq += 1;
        while self.entries.len() * 4 > self.capacity * 3 {
            self.capacity *= 2;
        }
    }

    pub fn remove(&mut self, value: &T) {
        self.entries.retain(|(_, _, v)| v != value);
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The element Java's iterator returns first.
    pub fn first(&self) -> Option<&T> {
        self.entries
            .iter()
            .min_by_key(|(seq, hash, _)| (bucket(*hash, self.capacity), *seq))
            .map(|(_, _, v)| v)
    }
}

impl<T: PartialEq> Default for JavaHashSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_matches_java() {
        // Values from Java's "abc".hashCode() etc.
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("a"), 97);
        assert_eq!(string_hash("abc"), 96354);
        assert_eq!(string_hash("consumer1"), -421_004_549);
        assert_eq!(string_hash("polygenelubricants"), i32::MIN);
    }

    #[test]
    fn hash_map_order_follows_buckets_not_insertion() {
        // "a" (bucket 1) iterates before "b" (bucket 2) whatever the insertion order.
        assert_eq!(hash_map_order(&["b", "a"]), vec![1, 0]);
        // A 13th key pushes the table past 3/4 of 16 buckets.
        assert_eq!(default_capacity(12), 16);
        assert_eq!(default_capacity(13), 32);
    }

    #[test]
    fn java_hash_set_first_is_lowest_bucket() {
        let mut set = JavaHashSet::new();
        set.insert("x", 40); // bucket 8
        set.insert("y", 3); // bucket 3
        assert_eq!(set.first(), Some(&"y"));
        set.remove(&"y");
        assert_eq!(set.first(), Some(&"x"));
    }
}
