//! `kafkasim script FILE`: drive one group coordinator with timed requests. (Being built.)

use super::CliError;
use std::path::PathBuf;

/// Drives one group coordinator with requests at exact simulated times and checks the responses.
#[derive(clap::Args)]
pub struct ScriptArgs {
    /// The script file (`.json` or `.toml`).
    pub file: PathBuf,
}

pub fn main(_args: ScriptArgs) -> Result<u8, CliError> {
    Err(CliError::bad_input("script: not built yet"))
}
