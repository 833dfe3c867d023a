//! Combining the `--json` results of shards into the result of the whole sweep.

use super::FuzzResult;

/// Merges shard results: runs and simulated time add up, failures are the sorted union, wall
/// time is the longest shard's (they ran side by side). Sums saturate: a hand-edited result
/// with absurd counts merges to `u64::MAX`, never an overflow.
pub fn merge(parts: &[FuzzResult]) -> FuzzResult {
    let mut failures: Vec<_> = parts
        .iter()
        .flat_map(|p| p.failures.iter().cloned())
        .collect();
    failures.sort();
    failures.dedup();
    let mut expected: Vec<_> = parts
        .iter()
        .flat_map(|p| p.expected.iter().cloned())
        .collect();
    expected.sort();
    expected.dedup();
    FuzzResult {
        runs: parts.iter().fold(0, |sum, p| sum.saturating_add(p.runs)),
        failures,
        expected,
        wall_ms: parts.iter().map(|p| p.wall_ms).max().unwrap_or(0),
        sim_ms: parts.iter().fold(0, |sum, p| sum.saturating_add(p.sim_ms)),
    }
}
