//! The one hash of the crate: trace hashes, per-component random streams, the stand-in values of
//! coordinator records. A fixed algorithm, unlike std's `DefaultHasher`, so that every value
//! derived from it is the same on every machine and Rust version.

use std::hash::Hasher;

/// 64-bit FNV-1a.
#[derive(Clone, Debug)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv64 {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}
