//! `kafkasim fuzz SCENARIO... --seeds A..B [--jobs J] [--swarm] [--shard K/N] [--json] [--out DIR]`

use super::{CliError, EXIT_OK, EXIT_SAFETY};
use crate::fuzz::{self, progress::Progress, Plan};
use std::path::PathBuf;
use std::sync::Arc;

/// Runs every scenario for every seed in A..B (half-open). Each failing seed prints one line
/// that reproduces it exactly; its full trace, report and history go to --out (default
/// fuzz-out/). Exit 1 if any seed failed. The failures do not depend on --jobs.
#[derive(clap::Args)]
pub struct FuzzArgs {
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Half-open seed range, e.g. 0..1000; at most 10,000,000 runs (seeds × scenarios) in one
    /// sweep (split a larger one with --shard or into several ranges).
    #[arg(long, value_parser = parse_range)]
    pub seeds: std::ops::Range<u64>,
    /// Worker threads, 1 to 256 (default: the machine's cores).
    #[arg(long, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Let each seed also draw the fault profile within the scenario's `[swarm]` bounds.
    #[arg(long)]
    pub swarm: bool,
    /// Run only the K-th of N deterministic slices of the work (1 ≤ K ≤ N).
    #[arg(long, value_parser = parse_shard, default_value = "1/1")]
    pub shard: (u64, u64),
    /// Print one JSON object on stdout instead of lines.
    #[arg(long)]
    pub json: bool,
    /// Folder for failing seeds' logs.
    #[arg(long, default_value = "fuzz-out")]
    pub out: PathBuf,
}

pub fn parse_range(s: &str) -> Result<std::ops::Range<u64>, String> {
    let (a, b) = s.split_once("..").ok_or("expected A..B, e.g. 0..1000")?;
    let a: u64 = a
        .trim()
        .parse()
        .map_err(|_| format!("`{a}` is not a seed"))?;
    let b: u64 = b
        .trim()
        .parse()
        .map_err(|_| format!("`{b}` is not a seed"))?;
    if a >= b {
        return Err(format!("the range {a}..{b} is empty"));
    }
    Ok(a..b)
}

/// The most worker threads `--jobs` may ask for.
pub const MAX_JOBS: usize = 256;

/// The most runs (seeds × scenarios) one sweep may plan: its work list is built up front.
pub const MAX_RUNS: u64 = 10_000_000;

pub fn parse_jobs(s: &str) -> Result<usize, String> {
    let jobs: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of jobs"))?;
    if jobs == 0 || jobs > MAX_JOBS {
        return Err(format!("need 1 to {MAX_JOBS} jobs, not {jobs}"));
    }
    Ok(jobs)
}

pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 2/8")?;
    let k: u64 = k
        .trim()
        .parse()
        .map_err(|_| format!("`{k}` is not a number"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("`{n}` is not a number"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("shard {k}/{n}: need 1 ≤ K ≤ N"));
    }
    Ok((k, n))
}

pub fn main(args: FuzzArgs) -> Result<u8, CliError> {
    let seeds = args.seeds.end - args.seeds.start;
    let runs = seeds.saturating_mul(args.scenarios.len() as u64);
    if runs > MAX_RUNS {
        return Err(CliError::bad_input(format!(
            "--seeds {}..{}: {seeds} seeds × {} scenario(s) is {runs} runs; one sweep runs at most \
             {MAX_RUNS} (split it into ranges, or across machines with --shard K/N)",
            args.seeds.start,
            args.seeds.end,
            args.scenarios.len()
        )));
    }
    let mut scenarios = Vec::new();
    for path in &args.scenarios {
        let s = crate::scenario::load(path).map_err(|e| CliError::bad_input(e.to_string()))?;
        scenarios.push(Arc::new(s));
    }
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let plan = Plan {
        scenarios,
        seeds: args.seeds.clone(),
        shard: args.shard,
        swarm: args.swarm,
        out_dir: Some(args.out.clone()),
    };
    let progress = Progress::new(plan.work().len() as u64, args.json);
    let result = fuzz::run(&plan, jobs, &progress);
    progress.finish();
    if args.json {
        crate::say!(
            "{}",
            serde_json::to_string_pretty(&result).expect("serializable")
        );
    } else {
        for f in &result.failures {
            crate::say!(
                "FAIL {} seed {} {} ({}): {}",
                f.scenario,
                f.seed,
                f.invariant,
                f.kind,
                f.detail
            );
            crate::say!("  reproduce: {}", f.reproduce);
        }
        if !result.failures.is_empty() {
            crate::say!("failing seeds' traces: {}/", args.out.display());
        }
        for e in &result.expected {
            crate::say!(
                "EXPECTED {} seed {} {}: {}",
                e.scenario,
                e.seed,
                e.invariant,
                e.detail
            );
        }
        // Across shards the range is not all this process ran: no median then.
        let whole_range = args.shard == (1, 1);
        for scenario in args.scenarios.iter().filter(|_| whole_range) {
            let name = scenario.display().to_string();
            let failing: Vec<u64> = result
                .failures
                .iter()
                .filter(|f| f.scenario == name)
                .map(|f| f.seed)
                .collect();
            if let Some(m) = fuzz::median_seeds_to_find(&failing, args.seeds.clone()) {
                let distinct: std::collections::BTreeSet<u64> = failing.iter().copied().collect();
                crate::say!(
                    "{name}: {} of {} seeds failed; median seeds to find a failure: {m}",
                    distinct.len(),
                    args.seeds.end - args.seeds.start
                );
            }
        }
        let failed = result.failures.len() as u64;
        if !result.expected.is_empty() {
            crate::say!(
                "{} passing seed(s) saw a loss the configuration allows (an unclean election): not failures",
                result.expected.len()
            );
        }
        crate::say!("{} passed, {} failed", result.runs - failed, failed);
    }
    Ok(if result.failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_SAFETY
    })
}
