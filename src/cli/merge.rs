//! `kafkasim merge RESULT.json...`: combine `fuzz --json --shard K/N` results into one.

use super::{CliError, EXIT_OK, EXIT_SAFETY};
use crate::fuzz::FuzzResult;
use std::path::PathBuf;

/// Combines the --json results of fuzz shards into the result of the whole sweep (equal to the
/// unsharded run's up to wall_ms). Exit 1 if any shard had a failure.
#[derive(clap::Args)]
pub struct MergeArgs {
    #[arg(required = true)]
    pub results: Vec<PathBuf>,
}

/// Result files larger than this are refused before they are read.
pub const MAX_RESULT_BYTES: u64 = 256 << 20;

pub fn main(args: MergeArgs) -> Result<u8, CliError> {
    let mut parts = Vec::new();
    for path in &args.results {
        let text = crate::input::read_text(path, MAX_RESULT_BYTES).map_err(CliError::bad_input)?;
        let part: FuzzResult = serde_json::from_str(&text).map_err(|e| {
            CliError::bad_input(format!(
                "{}:{}:{}: not a fuzz --json result: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        parts.push(part);
    }
    let merged = crate::fuzz::merge::merge(&parts);
    crate::say!(
        "{}",
        serde_json::to_string_pretty(&merged).expect("serializable")
    );
    Ok(if merged.failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_SAFETY
    })
}
