//! `kafkasim shrink SCENARIO --seed N -o OUT.toml [--swarm]`

use super::{CliError, EXIT_OK};
use crate::fuzz::shrink::{self, Budget};
use std::path::PathBuf;
use std::time::Duration;

/// Writes a scenario that still fails the same invariant and is no larger (fewer or shorter
/// faults, fewer nodes and records, shorter run) than the failing (scenario, seed). Exit 0 when
/// OUT was written; 2 when the run does not fail.
#[derive(clap::Args)]
pub struct ShrinkArgs {
    pub scenario: PathBuf,
    #[arg(long)]
    pub seed: u64,
    /// Where to write the smaller scenario.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
    /// The failure came from `fuzz --swarm`: start from the fault profile the seed draws.
    #[arg(long)]
    pub swarm: bool,
    /// At most this many simulation runs.
    #[arg(long, default_value_t = 300)]
    pub max_runs: u32,
    /// At most this many seconds of wall time.
    #[arg(long, default_value_t = 300)]
    pub max_seconds: u64,
}

pub fn main(args: ShrinkArgs) -> Result<u8, CliError> {
    let mut start =
        crate::scenario::load(&args.scenario).map_err(|e| CliError::bad_input(e.to_string()))?;
    if args.swarm {
        start = crate::scenario::swarm::apply(&start, args.seed);
        start.spec.swarm.max_faults = 0;
    }
    let Some(invariant) = shrink::failing_invariant(&start, args.seed) else {
        return Err(CliError::bad_input(format!(
            "{} seed {}: every invariant holds, nothing to shrink",
            start.path, args.seed
        )));
    };
    eprintln!(
        "shrinking {} seed {} (violates {invariant})",
        start.path, args.seed
    );
    let budget = Budget {
        max_runs: args.max_runs,
        max_wall: Duration::from_secs(args.max_seconds),
    };
    let shrunk = shrink::shrink(&start, args.seed, &invariant, budget, |line| {
        eprintln!("{line}")
    });
    let text = shrink::to_file(&shrunk, &start.path, args.seed);
    std::fs::write(&args.out, text)
        .map_err(|e| CliError::bad_input(format!("{}: cannot write: {e}", args.out.display())))?;
    eprintln!(
        "wrote {} ({} faults, was {}; {} ms, was {})",
        args.out.display(),
        shrunk.spec.faults.len(),
        start.spec.faults.len(),
        shrunk.spec.duration_ms,
        start.spec.duration_ms
    );
    Ok(EXIT_OK)
}
