//! Combining the `--json` results of shards into the result of the whole sweep.

use super::{Failure, FuzzResult};

/// Merges shard results: runs and simulated time add up, failures are the sorted union, wall
/// time is the longest shard's (they ran side by side). Sums saturate: a hand-edited result
/// with absurd counts merges to `u64::MAX`, never an overflow.
pub fn merge(parts: &[FuzzResult]) -> FuzzResult {
    let failures = sorted_union(parts, |p| &p.failures);
    let expected = sorted_union(parts, |p| &p.expected);
    FuzzResult {
        runs: parts.iter().fold(0, |sum, p| sum.saturating_add(p.runs)),
        failures,
        expected,
        wall_ms: parts.iter().map(|p| p.wall_ms).max().unwrap_or(0),
        sim_ms: parts.iter().fold(0, |sum, p| sum.saturating_add(p.sim_ms)),
    }
}

/// The sorted, deduplicated union of one list of every shard.
fn sorted_union(parts: &[FuzzResult], list: fn(&FuzzResult) -> &Vec<Failure>) -> Vec<Failure> {
    let mut all: Vec<Failure> = parts.iter().flat_map(|p| list(p).iter().cloned()).collect();
    all.sort();
    all.dedup();
    all
}
