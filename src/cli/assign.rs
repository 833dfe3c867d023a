//! `kafkasim assign --strategy S`: one assignor, JSON in, JSON out. (Being built.)

use super::CliError;

/// Runs one assignor exactly as Kafka's would (JSON on stdin, JSON on stdout).
#[derive(clap::Args)]
pub struct AssignArgs {
    /// range, roundrobin, sticky, cooperative-sticky, uniform or server-range.
    #[arg(long)]
    pub strategy: String,
}

pub fn main(_args: AssignArgs) -> Result<u8, CliError> {
    Err(CliError::bad_input("assign: not built yet"))
}
