//! `kafkasim script FILE`: drive one group coordinator with timed requests and check the responses.
//! Prints one JSON line per step, then `{"steps": N, "failed": K}`; exit 0 if every expectation
//! held, 1 if one did not, 2 on a bad script.

use super::{CliError, EXIT_OK, EXIT_SAFETY};
use crate::script;
use std::io::Write;
use std::path::PathBuf;

/// Drives one group coordinator with requests at exact simulated times and checks the responses.
/// Exit 2 names the file and the JSON path of a bad field; steps are at most a year in, and the
/// file at most 16 MiB.
#[derive(clap::Args)]
pub struct ScriptArgs {
    /// The script file (`.json` or `.toml`).
    pub file: PathBuf,
}

pub fn main(args: ScriptArgs) -> Result<u8, CliError> {
    let script = script::load(&args.file).map_err(|e| CliError::bad_input(e.message))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let summary = script::run(&script, |line| {
        let _ = writeln!(out, "{}", line.to_json_line());
    });
    let _ = writeln!(
        out,
        "{{\"steps\": {}, \"failed\": {}}}",
        summary.steps, summary.failed
    );
    let _ = out.flush();
    Ok(if summary.failed == 0 {
        EXIT_OK
    } else {
        EXIT_SAFETY
    })
}
