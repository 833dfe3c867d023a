//! Kafka's default partitioner for keyed records: `toPositive(murmur2(keyBytes)) % partitions`
//! (`BuiltInPartitioner.partitionForKey`). Keyless records use the sticky partitioner (KIP-480),
//! which lives in the producer because it depends on batching.

/// Kafka's `Utils.murmur2` (32-bit MurmurHash2 with Kafka's seed), as a Java `int`.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    for chunk in data.chunks_exact(4) {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = &data[len & !3..];
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The bytes of key number `key`, as a `StringSerializer` would write `"key-{key}"`.
pub fn key_bytes(key: u32) -> Vec<u8> {
    format!("key-{key}").into_bytes()
}

/// The partition of a keyed record.
pub fn partition_for_key(key: u32, partitions: u32) -> u32 {
    let positive = (murmur2(&key_bytes(key)) & 0x7fff_ffff) as u32;
    positive % partitions
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors of Kafka's `UtilsTest.testMurmur2`.
    #[test]
    fn murmur2_matches_kafka() {
        assert_eq!(murmur2(b"21"), -973932308);
        assert_eq!(murmur2(b"foobar"), -790332482);
        assert_eq!(murmur2(b"a-little-bit-long-string"), -985981536);
        assert_eq!(murmur2(b"a-little-bit-longer-string"), -1486304829);
        assert_eq!(
            murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"),
            -58897971
        );
        assert_eq!(murmur2(b"abc"), 479470107);
    }

    #[test]
    fn same_key_same_partition() {
        for k in 0..50 {
            assert_eq!(partition_for_key(k, 7), partition_for_key(k, 7));
            assert!(partition_for_key(k, 7) < 7);
        }
    }
}
