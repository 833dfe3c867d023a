//! `kafkasim check-history FILE.jsonl`: run the checkers on a saved history (`replay -o`).

use super::CliError;
use crate::check::{self, Checkers, SharedCheckers};
use crate::history::{json, History};
use crate::report::RunReport;
use crate::sim::RunOutcome;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Runs every checker on a history written by `replay -o DIR` (DIR/history.jsonl) and prints the
/// same report, verdicts and trace hash as the live run. Exit codes as for `run`; exit 2 names
/// the line of a malformed event, or of one no run can have written (time going back, an offset
/// beyond every appended entry, a producer or sequence number outside the scenario limits).
#[derive(clap::Args)]
pub struct CheckHistoryArgs {
    pub history: PathBuf,
    /// Print the JSON report.
    #[arg(long)]
    pub json: bool,
}

/// History files larger than this are refused before they are read (a day-long run's history
/// is far smaller).
pub const MAX_HISTORY_BYTES: u64 = 2 << 30;

pub fn main(args: CheckHistoryArgs) -> Result<u8, CliError> {
    let text =
        crate::input::read_text(&args.history, MAX_HISTORY_BYTES).map_err(CliError::bad_input)?;
    let (meta, events) = json::from_jsonl(&text)
        .map_err(|e| CliError::bad_input(format!("{}:{e}", args.history.display())))?;
    let checkers = Arc::new(Mutex::new(Checkers::new(check::all_invariants(
        meta.at_least_once_groups.iter().cloned().collect(),
    ))));
    let mut history = History::new(false);
    history.add_observer(Box::new(SharedCheckers(checkers.clone())));
    for e in events {
        history.record(e);
    }
    let mut checkers = checkers.lock().unwrap_or_else(|e| e.into_inner());
    let (violations, expected_violations) = check::finish_run(&mut checkers, &meta);
    let outcome = RunOutcome {
        seed: meta.seed,
        sim_time_ms: meta.end_us / 1000,
        events: history.len(),
        trace_hash: history.trace_hash(),
        // A saved history does not record the network's messages.
        messages: 0,
        checker_wall_ns: None,
        violations,
        expected_violations,
        anomalies: check::run_anomalies(&checkers, &meta),
        stats: checkers.ghost.stats.clone(),
        history: Vec::new(),
        meta: meta.clone(),
    };
    let report = RunReport::new(&meta.scenario, &outcome);
    if args.json {
        crate::say!("{}", report.to_json());
    } else {
        crate::say_raw!("{}", report.human());
    }
    Ok(report.exit_code())
}
