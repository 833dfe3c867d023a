//! Seed sweeps: many scenarios × a seed range on worker threads, each seed isolated in its own
//! runtime and thread. The set of failures depends only on (scenarios, seeds, shard), never on
//! the number of jobs: results are collected, then sorted.
//!
//! Sharding (`--shard K/N`) takes every N-th work item starting at the K-th, so N machines can
//! share a sweep; [`merge`] combines their JSON results into the unsharded result.

pub mod merge;
pub mod progress;
pub mod shrink;

use crate::check::Kind;
use crate::report::RunReport;
use crate::scenario::ValidScenario;
use crate::sim::{run_scenario, RunOptions};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One failing (scenario, seed).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Failure {
    pub scenario: String,
    pub seed: u64,
    pub invariant: String,
    /// `safety`, `liveness`, or `panic` (a kafkasim bug).
    pub kind: String,
    pub reproduce: String,
    pub detail: String,
}

/// The result of a sweep (`fuzz --json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FuzzResult {
    pub runs: u64,
    pub failures: Vec<Failure>,
    /// Seeds that passed but saw a loss Kafka's configuration allows (an unclean election, see
    /// `expected_violations` in the run report), with their first such violation (`kind`
    /// `expected`). Not failures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected: Vec<Failure>,
    pub wall_ms: u64,
    pub sim_ms: u64,
}

/// What to sweep.
pub struct Plan {
    pub scenarios: Vec<Arc<ValidScenario>>,
    pub seeds: Range<u64>,
    /// (K, N): run only the K-th (1-based) of N slices.
    pub shard: (u64, u64),
    pub swarm: bool,
    /// Where failing seeds' full logs go (none: keep nothing).
    pub out_dir: Option<PathBuf>,
}

impl Plan {
    /// The (scenario index, seed) pairs of this shard, in a fixed order.
    pub fn work(&self) -> Vec<(usize, u64)> {
        let (k, n) = self.shard;
        let all = self
            .seeds
            .clone()
            .flat_map(|seed| (0..self.scenarios.len()).map(move |s| (s, seed)));
        all.enumerate()
            .filter(|(i, _)| (*i as u64) % n == k - 1)
            .map(|(_, w)| w)
            .collect()
    }
}

/// The command line that reproduces one run exactly.
pub fn reproduce_line(scenario: &str, seed: u64, swarm: bool) -> String {
    let swarm = if swarm { " --swarm" } else { "" };
    format!("cargo run --release -- run {scenario} --seed {seed}{swarm}")
}

/// Runs the plan on `jobs` threads, reporting progress as seeds finish.
pub fn run(plan: &Plan, jobs: usize, progress: &progress::Progress) -> FuzzResult {
    let started = std::time::Instant::now();
    let work = plan.work();
    let results = on_threads(&work, jobs, |&(s, seed)| {
        let outcome = run_one(plan, s, seed);
        progress.finished(outcome.failure.is_some());
        outcome
    });
    let sim_ms = results.iter().map(|r| r.sim_ms).sum();
    let mut expected: Vec<Failure> = results.iter().filter_map(|r| r.expected.clone()).collect();
    expected.sort();
    let mut failures: Vec<Failure> = results.into_iter().filter_map(|r| r.failure).collect();
    failures.sort();
    FuzzResult {
        runs: work.len() as u64,
        failures,
        expected,
        wall_ms: started.elapsed().as_millis() as u64,
        sim_ms,
    }
}

/// `f` applied to every item on `jobs` worker threads, each taking the next item as it finishes
/// one; the results come back in the order of `items`, whatever the number of jobs.
pub fn on_threads<I: Sync, R: Send>(
    items: &[I],
    jobs: usize,
    f: impl Fn(&I) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else {
                    break;
                };
                let r = f(item);
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((i, r));
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// What one seed gave.
struct Outcome {
    failure: Option<Failure>,
    /// The first violation Kafka's configuration allows, when the seed passed with one.
    expected: Option<Failure>,
    sim_ms: u64,
}

/// Runs one seed; on failure keeps its full log.
fn run_one(plan: &Plan, s: usize, seed: u64) -> Outcome {
    let base = &plan.scenarios[s];
    let scenario = if plan.swarm {
        Arc::new(crate::scenario::swarm::apply(base, seed))
    } else {
        base.clone()
    };
    let path = base.path.clone();
    let reproduce = reproduce_line(&path, seed, plan.swarm);
    match run_scenario(scenario.clone(), seed, RunOptions::default()) {
        Err(p) => {
            let f = Failure {
                scenario: path,
                seed,
                invariant: "panic".into(),
                kind: "panic".into(),
                reproduce,
                detail: p.message,
            };
            Outcome {
                failure: Some(f),
                expected: None,
                sim_ms: 0,
            }
        }
        Ok(o) if o.violations.is_empty() => Outcome {
            failure: None,
            expected: o.expected_violations.first().map(|v| Failure {
                scenario: path.clone(),
                seed,
                invariant: v.invariant.to_string(),
                kind: "expected".into(),
                reproduce,
                detail: format!("{} ({})", v.detail, v.expected.clone().unwrap_or_default()),
            }),
            sim_ms: o.sim_time_ms,
        },
        Ok(o) => {
            let first = o
                .violations
                .iter()
                .find(|v| v.kind == Kind::Safety)
                .unwrap_or(&o.violations[0]);
            let kind = if first.kind == Kind::Safety {
                "safety"
            } else {
                "liveness"
            };
            let f = Failure {
                scenario: path.clone(),
                seed,
                invariant: first.invariant.to_string(),
                kind: kind.into(),
                reproduce,
                detail: first.detail.clone(),
            };
            if let Some(dir) = &plan.out_dir {
                // A sweep goes on without the log it could not write.
                let _ = keep_log(dir, &scenario, seed, plan.swarm);
            }
            Outcome {
                failure: Some(f),
                expected: None,
                sim_ms: o.sim_time_ms,
            }
        }
    }
}

/// Re-runs a failing seed keeping every event and writes its trace, report and history into
/// `dir/{name}-seed-{seed}[-swarm]/`; returns that folder. `scenario` is the scenario as run
/// (after a swarm draw).
pub fn keep_log(
    dir: &std::path::Path,
    scenario: &Arc<ValidScenario>,
    seed: u64,
    swarm: bool,
) -> std::io::Result<PathBuf> {
    let o = run_scenario(scenario.clone(), seed, RunOptions::keeping_events())
        .map_err(|p| std::io::Error::other(p.message))?;
    let name = format!(
        "{}-seed-{seed}{}",
        scenario.spec.name,
        if swarm { "-swarm" } else { "" }
    );
    let folder = dir.join(name);
    let report = RunReport::new(&scenario.path, &o);
    let trace: String = o.history.iter().map(|e| format!("{e}\n")).collect();
    let jsonl = crate::history::json::to_jsonl(&o.meta, &o.history);
    std::fs::create_dir_all(&folder)?;
    std::fs::write(folder.join("trace.txt"), trace)?;
    std::fs::write(folder.join("report.json"), report.to_json())?;
    std::fs::write(folder.join("history.jsonl"), jsonl)?;
    Ok(folder)
}

/// How many seeds a fuzzer needs to find a failure, as a median over every place in `seeds` it
/// could start from: from each start, count the seeds up to and including the next failing one
/// (wrapping around the range). `None` when no seed failed.
pub fn median_seeds_to_find(failing: &[u64], seeds: std::ops::Range<u64>) -> Option<u64> {
    let set: std::collections::BTreeSet<u64> = failing
        .iter()
        .copied()
        .filter(|s| seeds.contains(s))
        .collect();
    let first = *set.iter().next()?;
    let mut distances: Vec<u64> = seeds
        .clone()
        .map(|start| match set.range(start..).next() {
            Some(hit) => hit - start + 1,
            None => seeds.end - start + first - seeds.start + 1,
        })
        .collect();
    distances.sort_unstable();
    Some(distances[distances.len() / 2])
}

#[cfg(test)]
mod seeds_to_find_tests {
    use super::median_seeds_to_find;

    #[test]
    fn every_seed_failing_needs_one() {
        assert_eq!(median_seeds_to_find(&[0, 1, 2, 3], 0..4), Some(1));
    }

    #[test]
    fn one_failure_in_ten_needs_about_half_the_range() {
        // From starts 0..10 the distances to seed 4 (wrapping) are 5,4,3,2,1,10,9,8,7,6.
        assert_eq!(median_seeds_to_find(&[4], 0..10), Some(6));
    }

    #[test]
    fn no_failure_gives_none() {
        assert_eq!(median_seeds_to_find(&[], 0..10), None);
    }
}
