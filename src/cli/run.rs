//! `kafkasim run SCENARIO [--seed N] [--json]`: simulate one scenario for one seed and check it.

use super::CliError;
use crate::sim::{run_scenario, RunOptions};
use std::path::PathBuf;
use std::sync::Arc;

/// Runs one scenario for one seed and checks every invariant.
///
/// Exit 0: every invariant held; 1: a safety violation; 3: a liveness violation (the cluster did
/// not converge after the faults healed); 2: bad input.
#[derive(clap::Args)]
pub struct RunArgs {
    pub scenario: PathBuf,
    /// The seed (default: the scenario's `seed`, else 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print exactly one JSON object (the report) on stdout.
    #[arg(long)]
    pub json: bool,
    /// Draw the fault profile from the seed, exactly as `fuzz --swarm` does.
    #[arg(long)]
    pub swarm: bool,
    /// Run the seed twice and compare the traces; on a difference name the first differing
    /// event and exit 1.
    #[arg(long)]
    pub check_determinism: bool,
}

pub fn main(args: RunArgs) -> Result<u8, CliError> {
    let sim =
        crate::Simulation::load(&args.scenario).map_err(|e| CliError::bad_input(e.to_string()))?;
    let sim = if args.swarm { sim.swarm() } else { sim };
    let seed = args.seed.unwrap_or(sim.scenario().seed);
    let path = args.scenario.display().to_string();
    if args.swarm && !args.json {
        crate::say!(
            "swarm profile for seed {seed}:\n{}",
            crate::scenario::swarm::describe(&sim.as_run(seed))
        );
    }
    if args.check_determinism {
        return check_determinism(Arc::new(sim.as_run(seed)), seed);
    }
    let reproduce = crate::fuzz::reproduce_line(&path, seed, args.swarm);
    let run = sim.try_run(seed).map_err(|p| CliError {
        code: 101,
        message: format!(
            "kafkasim bug: the simulation panicked: {}\nreproduce: {reproduce}",
            p.message
        ),
    })?;
    let report = run.report();
    if args.json {
        crate::say!("{}", report.to_json());
    } else {
        crate::say_raw!("{}", report.human());
        if report.exit_code() != 0 {
            crate::say!("reproduce: {reproduce}");
        }
    }
    Ok(report.exit_code())
}

/// Runs `seed` twice keeping every event and compares them one by one.
fn check_determinism(
    scenario: Arc<crate::scenario::ValidScenario>,
    seed: u64,
) -> Result<u8, CliError> {
    let panic = |p: crate::sim::RunPanic| CliError {
        code: 101,
        message: format!("kafkasim bug: {}", p.message),
    };
    let a = run_scenario(scenario.clone(), seed, RunOptions::keeping_events()).map_err(panic)?;
    let b = run_scenario(scenario.clone(), seed, RunOptions::keeping_events()).map_err(panic)?;
    match crate::history::first_difference(&a.history, &b.history) {
        None => {
            crate::say!(
                "{} seed {seed}: deterministic ({} events, trace {})",
                scenario.path,
                a.events,
                a.trace_hash
            );
            Ok(super::EXIT_OK)
        }
        Some((i, x, y)) => {
            crate::say!(
                "{} seed {seed}: NOT deterministic; first difference at event {i}:",
                scenario.path
            );
            crate::say!("  run 1: {x}");
            crate::say!("  run 2: {y}");
            Ok(super::EXIT_SAFETY)
        }
    }
}
