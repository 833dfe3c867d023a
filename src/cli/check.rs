//! `kafkasim check SCENARIO`: validate a scenario file without running it.

use super::{CliError, EXIT_OK};
use std::path::PathBuf;

/// Validates a scenario file (exit 0) or explains what is wrong with it, where (exit 2).
#[derive(clap::Args)]
pub struct CheckArgs {
    pub scenario: PathBuf,
}

pub fn main(args: CheckArgs) -> Result<u8, CliError> {
    let scenario =
        crate::scenario::load(&args.scenario).map_err(|e| CliError::bad_input(e.to_string()))?;
    crate::say!("{}: ok ({})", args.scenario.display(), scenario.spec.name);
    Ok(EXIT_OK)
}
