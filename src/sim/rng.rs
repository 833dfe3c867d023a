//! Per-component random streams, all derived from the run seed, so that adding a draw in one
//! component does not shift another's.

use crate::fnv::Fnv64;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::hash::{Hash, Hasher};

/// A ChaCha8 stream for `(seed, component, index)`.
pub fn stream(seed: u64, component: &str, index: u64) -> ChaCha8Rng {
    let mut h = Fnv64::default();
    (seed, component, index).hash(&mut h);
    ChaCha8Rng::seed_from_u64(h.finish())
}
