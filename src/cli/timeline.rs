//! `kafkasim timeline SCENARIO [--seed N] [--swarm] [-o FILE]`: runs one seed keeping every event
//! and draws it as a self-contained HTML page (see [`crate::timeline`]), for looking at a run
//! instead of reading its trace.

use super::CliError;
use crate::report::RunReport;
use std::path::PathBuf;

/// Runs one seed and writes its timeline as one HTML file (opens offline): group ownership,
/// generations and states, partition leaders, ISR and high watermark, faults, commits and
/// checker violations on the simulated time axis.
#[derive(clap::Args)]
pub struct TimelineArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// The seed (default: the scenario's `seed`, else 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Draw the fault profile from the seed, exactly as `fuzz --swarm` does.
    #[arg(long)]
    pub swarm: bool,
    /// The HTML file to write.
    #[arg(short = 'o', long = "out", default_value = "timeline.html")]
    pub out: PathBuf,
}

pub fn main(args: TimelineArgs) -> Result<u8, CliError> {
    let super::KeptRun {
        path,
        name,
        outcome,
    } = super::run_kept(&args.scenario, args.seed, args.swarm)?;
    let report = RunReport::new(&path, &outcome);
    let html = crate::timeline::render(&outcome, &name);
    std::fs::write(&args.out, html)
        .map_err(|e| CliError::bad_input(format!("{}: cannot write: {e}", args.out.display())))?;
    eprintln!(
        "wrote the timeline of {} events to {}",
        outcome.history.len(),
        args.out.display()
    );
    crate::say_raw!("{}", report.human());
    Ok(report.exit_code())
}
