//! `kafkasim run SCENARIO`: simulate one scenario for one seed and check it.

use super::CliError;
use std::path::PathBuf;

/// Runs one scenario for one seed and checks every invariant.
#[derive(clap::Args)]
pub struct RunArgs {
    pub scenario: PathBuf,
    /// The seed (default: the scenario's `seed`, else 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print exactly one JSON object (the report) on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn main(_args: RunArgs) -> Result<u8, CliError> {
    Err(CliError::bad_input("run: being built"))
}
