//! Shrinking a failing (scenario, seed): a bounded, greedy delta-debugging loop. Each step tries
//! one smaller variant (drop a fault, halve one, shorten the run, lower a rate, drop a client, a
//! topic or a broker, or the same scenario with a nearby seed) and keeps it when it still
//! violates the same invariant. Only strictly smaller scenarios are accepted, so the loop ends;
//! it also stops after a run or time budget. The result is an ordinary scenario file.

use crate::check::Kind;
use crate::scenario::{from_str, Scenario, ValidScenario};
use crate::sim::{run_scenario, RunOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Limits on one shrink.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub max_runs: u32,
    pub max_wall: Duration,
}

/// The outcome: the smallest failing scenario found and its seed.
pub struct Shrunk {
    pub spec: Scenario,
    pub seed: u64,
    pub invariant: String,
    pub runs: u32,
    pub accepted: Vec<String>,
}

/// How big a scenario is: fewer/shorter faults, fewer nodes and records, shorter runs are smaller.
pub fn size(s: &Scenario) -> u128 {
    let faults: u128 = s
        .faults
        .iter()
        .map(|f| 1_000_000 + u128::from(f.duration_ms.unwrap_or(0)))
        .sum();
    let nodes = u128::from(s.cluster.brokers) + s.producers.len() as u128 + s.readers.len() as u128;
    let partitions: u128 = s.topics.iter().map(|t| u128::from(t.partitions)).sum();
    let records: u128 = s
        .producers
        .iter()
        .map(|p| (p.rate_per_s * s.duration_ms as f64 / 1000.0) as u128)
        .sum();
    faults * 1_000_000
        + nodes * 100_000_000
        + partitions * 10_000_000
        + records * 10
        + u128::from(s.duration_ms)
}

/// The first safety violation of a run (else the first violation), if any.
pub fn failing_invariant(v: &ValidScenario, seed: u64) -> Option<String> {
    let o = run_scenario(Arc::new(v.clone()), seed, RunOptions::default()).ok()?;
    let first = o
        .violations
        .iter()
        .find(|x| x.kind == Kind::Safety)
        .or(o.violations.first())?;
    Some(first.invariant.to_string())
}

fn validate(path: &str, spec: &Scenario) -> Option<ValidScenario> {
    from_str(path, &toml::to_string(spec).ok()?).ok()
}

/// Every one-step smaller variant of `s`, with a description.
fn candidates(s: &Scenario) -> Vec<(String, Scenario)> {
    let mut out = Vec::new();
    for i in 0..s.faults.len() {
        let mut c = s.clone();
        let f = c.faults.remove(i);
        out.push((
            format!("drop fault {i} ({:?} at {} ms)", f.kind, f.at_ms),
            c,
        ));
    }
    for i in 0..s.faults.len() {
        if let Some(d) = s.faults[i].duration_ms.filter(|d| *d > 1) {
            let mut c = s.clone();
            c.faults[i].duration_ms = Some(d / 2);
            out.push((format!("halve fault {i}'s duration to {} ms", d / 2), c));
        }
    }
    let last_fault = s
        .faults
        .iter()
        .map(|f| f.at_ms + f.duration_ms.unwrap_or(0))
        .max()
        .unwrap_or(0);
    let shorter = (last_fault + 1).max(s.duration_ms / 2);
    if shorter < s.duration_ms {
        let mut c = s.clone();
        c.duration_ms = shorter;
        c.faults.retain(|f| f.at_ms < shorter);
        out.push((format!("shorten the run to {shorter} ms"), c));
    }
    for i in 0..s.producers.len() {
        if s.producers[i].rate_per_s > 1.0 {
            let mut c = s.clone();
            c.producers[i].rate_per_s = (s.producers[i].rate_per_s / 2.0).max(1.0).floor();
            out.push((format!("halve p{}'s rate", i + 1), c));
        }
    }
    out.extend(fewer_nodes(s));
    out
}

fn fewer_nodes(s: &Scenario) -> Vec<(String, Scenario)> {
    let mut out = Vec::new();
    // Removing a client renames the later ones; faults naming clients keep their meaning only
    // for the last one, so only the last producer or reader is dropped.
    let names_client = |prefix: char| {
        s.faults
            .iter()
            .any(|f| format!("{f:?}").contains(&format!("\"{prefix}")))
    };
    if s.producers.len() > 1 && !names_client('p') {
        let mut c = s.clone();
        c.producers.pop();
        out.push(("drop the last producer".into(), c));
    }
    if !s.readers.is_empty() && !names_client('r') {
        let mut c = s.clone();
        c.readers.pop();
        out.push(("drop the last reader".into(), c));
    }
    if s.topics.len() > 1 {
        for i in 0..s.topics.len() {
            let mut c = s.clone();
            let t = c.topics.remove(i);
            c.producers.retain(|p| p.topic != t.name);
            c.readers.retain(|r| r.topic != t.name);
            out.push((format!("drop topic {}", t.name), c));
        }
    }
    for i in 0..s.topics.len() {
        if s.topics[i].partitions > 1 {
            let mut c = s.clone();
            c.topics[i].partitions /= 2;
            out.push((format!("halve topic {}'s partitions", s.topics[i].name), c));
        }
    }
    let top = format!("b{}", s.cluster.brokers);
    let max_rf = s
        .topics
        .iter()
        .map(|t| t.replication_factor)
        .max()
        .unwrap_or(1);
    if s.cluster.brokers > max_rf && !format!("{:?}", s.faults).contains(&format!("\"{top}\"")) {
        let mut c = s.clone();
        c.cluster.brokers -= 1;
        out.push((format!("drop broker {top}"), c));
    }
    out
}

/// Shrinks `start` (which fails `invariant` with `seed`) within `budget`, reporting each step.
pub fn shrink(
    start: &ValidScenario,
    seed: u64,
    invariant: &str,
    budget: Budget,
    mut step: impl FnMut(&str),
) -> Shrunk {
    let started = Instant::now();
    let mut best = start.spec.clone();
    let mut best_seed = seed;
    let mut runs = 0;
    let mut accepted = Vec::new();
    'outer: loop {
        let mut tries: Vec<(String, Scenario, u64)> = candidates(&best)
            .into_iter()
            .map(|(d, c)| (d, c, best_seed))
            .collect();
        // A nearby seed may fail a smaller variant that this seed does not.
        for d in 1..=2 {
            tries.extend(
                candidates(&best)
                    .into_iter()
                    .take(4)
                    .map(|(desc, c)| (format!("{desc}, seed {}", best_seed + d), c, best_seed + d)),
            );
        }
        for (desc, cand, cand_seed) in tries {
            if runs >= budget.max_runs || started.elapsed() >= budget.max_wall {
                break 'outer;
            }
            if size(&cand) >= size(&best) {
                continue;
            }
            let Some(v) = validate(&start.path, &cand) else {
                continue;
            };
            runs += 1;
            let fails = failing_invariant(&v, cand_seed).as_deref() == Some(invariant);
            step(&format!(
                "[{runs}] {desc}: {}",
                if fails { "still fails, kept" } else { "passes" }
            ));
            if fails {
                best = cand;
                best_seed = cand_seed;
                accepted.push(desc);
                continue 'outer;
            }
        }
        break;
    }
    Shrunk {
        spec: best,
        seed: best_seed,
        invariant: invariant.to_string(),
        runs,
        accepted,
    }
}

/// The shrunk scenario as a commented TOML file anyone can run.
pub fn to_file(shrunk: &Shrunk, original: &str, original_seed: u64) -> String {
    let mut spec = shrunk.spec.clone();
    spec.seed = shrunk.seed;
    spec.name = format!("{}-shrunk", spec.name.trim_end_matches("-shrunk"));
    let mut text = format!(
        "# Shrunk by `kafkasim shrink` from {original} (seed {original_seed}).\n\
         # Still violates `{}` with seed {}: run it with\n\
         #   cargo run --release -- run <this file>\n\
         # Steps kept ({} runs tried):\n",
        shrunk.invariant, shrunk.seed, shrunk.runs
    );
    for a in &shrunk.accepted {
        text.push_str(&format!("#   - {a}\n"));
    }
    text.push('\n');
    text.push_str(&toml::to_string(&spec).expect("a scenario always serializes"));
    text
}
