//! `kafkasim replay SCENARIO [--seed N] [-o DIR]`: one seed with everything: the full trace (one
//! line per event), the report, and the history as JSON Lines.

use super::CliError;
use crate::report::RunReport;
use std::io::Write;
use std::path::PathBuf;

/// Runs one seed keeping every event: prints the trace (or writes trace.txt, report.json and
/// history.jsonl into DIR with -o).
#[derive(clap::Args)]
pub struct ReplayArgs {
    pub scenario: PathBuf,
    /// The seed (default: the scenario's `seed`, else 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Draw the fault profile from the seed, exactly as `fuzz --swarm` does.
    #[arg(long)]
    pub swarm: bool,
    /// Write trace.txt, report.json and history.jsonl into this folder instead of printing.
    #[arg(short = 'o', long = "out")]
    pub out: Option<PathBuf>,
}

pub fn main(args: ReplayArgs) -> Result<u8, CliError> {
    let super::KeptRun { path, outcome, .. } =
        super::run_kept(&args.scenario, args.seed, args.swarm)?;
    let report = RunReport::new(&path, &outcome);
    let trace: String = outcome.history.iter().map(|e| format!("{e}\n")).collect();
    match &args.out {
        None => {
            crate::say_raw!("{trace}");
            crate::say_raw!("{}", report.human());
        }
        Some(dir) => {
            let write = |name: &str, text: &str| {
                std::fs::create_dir_all(dir)
                    .and_then(|_| std::fs::File::create(dir.join(name)))
                    .and_then(|mut f| f.write_all(text.as_bytes()))
                    .map_err(|e| {
                        CliError::bad_input(format!("{}: cannot write {name}: {e}", dir.display()))
                    })
            };
            write("trace.txt", &trace)?;
            write("report.json", &report.to_json())?;
            let jsonl = crate::history::json::to_jsonl(&outcome.meta, &outcome.history);
            write("history.jsonl", &jsonl)?;
            eprintln!(
                "wrote {} events to {}",
                outcome.history.len(),
                dir.display()
            );
        }
    }
    Ok(report.exit_code())
}
