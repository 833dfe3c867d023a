//! `kafkasim bench`: the simulator's cost, measured in one process run so that the ratios hold on
//! a noisy machine (`../shared/CONTRACT.md`). Everything here is a measurement for the report;
//! nothing asserts a time.
//!
//! For each bench scenario (`scenarios/reference.toml`, data-heavy; `scenarios/churn.toml`,
//! rebalance-heavy) at its seed: simulated messages per simulated second, speedup over real time,
//! wall cost per delivered message divided by bare madsim's (`cost_per_message_ratio`), the share
//! of wall time spent in checkers, the fixed cost of one seed (runtime and node setup: the scenario
//! cut to 1 simulated ms), fuzz seeds/s of a 60-second version with 1 and 2 jobs and that gain
//! divided by bare madsim's own two-thread gain, and the peak resident memory of the run.

pub mod memory;
pub mod pingpong;
mod scaling;

pub use scaling::{scaling_runs, ScalingPoint};

use crate::scenario::{from_str, ValidScenario};
use crate::sim::{run_scenario, RunOptions, RunOutcome};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// What to measure and how much.
#[derive(Clone, Debug)]
pub struct BenchPlan {
    /// (report name, scenario).
    pub scenarios: Vec<(String, ValidScenario)>,
    /// Seeds per fuzz measurement (each job count runs the same seeds).
    pub fuzz_seeds: u64,
    /// Simulated length of the fuzz version of each scenario.
    pub fuzz_duration_ms: u64,
}

/// One scenario's figures (the keys of CONTRACT.md).
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioFigures {
    pub sim_time_ms: u64,
    pub wall_ms: u64,
    pub messages: u64,
    pub messages_per_sim_s: f64,
    pub speedup_vs_real_time: f64,
    pub cost_per_message_ratio: f64,
    pub checker_share: f64,
    pub seed_fixed_cost_us: u64,
    pub fuzz_seeds_per_s_1job: f64,
    pub fuzz_seeds_per_s_2jobs: f64,
    pub parallel_gain_vs_madsim: f64,
    pub peak_memory_mib: Option<f64>,
    /// Extra: events recorded and whether every invariant held.
    pub events: u64,
    pub violations: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct BareMadsim {
    pub messages_per_wall_s_1thread: f64,
    pub messages_per_wall_s_2threads: f64,
    /// Messages per ping-pong run.
    pub messages: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub scenarios: BTreeMap<String, ScenarioFigures>,
    pub bare_madsim: BareMadsim,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scaling: Vec<ScalingPoint>,
}

/// Measures everything in `plan`.
pub fn run(plan: &BenchPlan, log: &dyn Fn(&str)) -> Result<BenchReport, String> {
    let mut runs = Vec::new();
    for (name, scenario) in &plan.scenarios {
        log(&format!("{name}: full run"));
        runs.push((name.clone(), scenario, measure_full_run(scenario)?));
    }
    let messages = runs
        .iter()
        .map(|r| r.2 .0.messages)
        .max()
        .unwrap_or(0)
        .max(10_000);
    log(&format!(
        "bare madsim: ping-pong of {messages} messages, 1 and 2 threads"
    ));
    let bare = bare_madsim(messages);
    let mut scenarios = BTreeMap::new();
    for (name, scenario, (outcome, wall_s, peak)) in runs {
        log(&format!("{name}: fixed cost and fuzz rates"));
        let fixed_us = seed_fixed_cost_us(scenario)?;
        let short = resized(scenario, plan.fuzz_duration_ms)?;
        let rate1 = fuzz_rate(&short, plan.fuzz_seeds, 1);
        let rate2 = fuzz_rate(&short, plan.fuzz_seeds, 2);
        let bare_cost = 1.0 / bare.messages_per_wall_s_1thread;
        let cost = wall_s / outcome.messages.max(1) as f64;
        let madsim_gain = bare.messages_per_wall_s_2threads / bare.messages_per_wall_s_1thread;
        scenarios.insert(
            name,
            ScenarioFigures {
                sim_time_ms: outcome.sim_time_ms,
                wall_ms: (wall_s * 1000.0) as u64,
                messages: outcome.messages,
                messages_per_sim_s: outcome.messages as f64
                    / (outcome.sim_time_ms.max(1) as f64 / 1000.0),
                speedup_vs_real_time: outcome.sim_time_ms as f64 / 1000.0 / wall_s,
                cost_per_message_ratio: cost / bare_cost,
                checker_share: outcome.checker_wall_ns.unwrap_or(0) as f64 / 1e9 / wall_s,
                seed_fixed_cost_us: fixed_us,
                fuzz_seeds_per_s_1job: rate1,
                fuzz_seeds_per_s_2jobs: rate2,
                parallel_gain_vs_madsim: (rate2 / rate1) / madsim_gain,
                peak_memory_mib: peak,
                events: outcome.events,
                violations: outcome.violations.len(),
            },
        );
    }
    Ok(BenchReport {
        scenarios,
        bare_madsim: bare,
        scaling: Vec::new(),
    })
}

fn simulate(scenario: &ValidScenario, measure_checkers: bool) -> Result<RunOutcome, String> {
    let seed = scenario.spec.seed;
    let opts = RunOptions {
        keep_events: false,
        measure_checkers,
    };
    run_scenario(Arc::new(scenario.clone()), seed, opts)
        .map_err(|p| format!("kafkasim bug: the simulation panicked: {}", p.message))
}

/// The full run: outcome, wall seconds, peak memory.
fn measure_full_run(scenario: &ValidScenario) -> Result<(RunOutcome, f64, Option<f64>), String> {
    memory::reset_peak();
    let started = Instant::now();
    let outcome = simulate(scenario, true)?;
    let wall_s = started.elapsed().as_secs_f64();
    Ok((outcome, wall_s, memory::peak_mib()))
}

fn bare_madsim(messages: u64) -> BareMadsim {
    // Warm up once so that both measurements find the allocator in the same state.
    pingpong::run(messages / 10, 0);
    let one = pingpong::run(messages, 1).as_secs_f64();
    let two = pingpong::run_parallel(messages, 2).as_secs_f64();
    BareMadsim {
        messages_per_wall_s_1thread: messages as f64 / one,
        messages_per_wall_s_2threads: 2.0 * messages as f64 / two,
        messages,
    }
}

/// Wall time of the scenario cut to 1 simulated ms with no liveness phase: the runtime, the
/// nodes and the checkers' setup and teardown. Median of five.
fn seed_fixed_cost_us(scenario: &ValidScenario) -> Result<u64, String> {
    let mut spec = scenario.spec.clone();
    spec.duration_ms = 1;
    spec.faults.clear();
    spec.liveness.check = false;
    let tiny = revalidate(scenario, &spec)?;
    let mut samples = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        simulate(&tiny, false)?;
        samples.push(started.elapsed().as_micros() as u64);
    }
    samples.sort_unstable();
    Ok(samples[2])
}

/// The scenario squeezed into `duration_ms`: fault times and durations scale with it.
pub fn resized(scenario: &ValidScenario, duration_ms: u64) -> Result<ValidScenario, String> {
    let mut spec = scenario.spec.clone();
    let scale = duration_ms as f64 / spec.duration_ms as f64;
    let squeeze = |ms: u64| ((ms as f64 * scale) as u64).max(1);
    spec.duration_ms = duration_ms;
    for f in &mut spec.faults {
        f.at_ms = squeeze(f.at_ms).min(duration_ms - 1);
        f.duration_ms = f.duration_ms.map(squeeze);
    }
    revalidate(scenario, &spec)
}

fn revalidate(
    scenario: &ValidScenario,
    spec: &crate::scenario::Scenario,
) -> Result<ValidScenario, String> {
    let text = toml::to_string(spec).map_err(|e| e.to_string())?;
    from_str(&scenario.path, &text).map_err(|e| e.to_string())
}

/// Seeds per wall second of `fuzz` over `seeds` seeds with `jobs` workers.
fn fuzz_rate(scenario: &ValidScenario, seeds: u64, jobs: usize) -> f64 {
    let plan = crate::fuzz::Plan {
        scenarios: vec![Arc::new(scenario.clone())],
        seeds: 0..seeds,
        shard: (1, 1),
        swarm: false,
        out_dir: None,
    };
    let progress = crate::fuzz::progress::Progress::new(seeds, true);
    let started = Instant::now();
    crate::fuzz::run(&plan, jobs, &progress);
    seeds as f64 / started.elapsed().as_secs_f64()
}
