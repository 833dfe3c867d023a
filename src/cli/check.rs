//! `kafkasim check SCENARIO`: validate a scenario file without running it.

use super::{CliError, EXIT_OK};
use std::path::PathBuf;

/// Validates a scenario file: exit 0 with a one-line summary, or exit 2 with what is wrong and
/// where (`file:line:column: field: message`).
#[derive(clap::Args)]
pub struct CheckArgs {
    pub scenario: PathBuf,
}

pub fn main(args: CheckArgs) -> Result<u8, CliError> {
    let s =
        crate::scenario::load(&args.scenario).map_err(|e| CliError::bad_input(e.to_string()))?;
    let spec = &s.spec;
    let partitions: u32 = spec.topics.iter().map(|t| t.partitions).sum();
    let consumers: u32 = spec.groups.iter().map(|g| g.consumers).sum();
    crate::say!(
        "{}: ok: `{}`, {} brokers, {} topics ({} partitions), {} producers, {} readers, {} groups ({} consumers), {} faults, {} ms",
        s.path,
        spec.name,
        spec.cluster.brokers,
        spec.topics.len(),
        partitions,
        spec.producers.len(),
        spec.readers.len(),
        spec.groups.len(),
        consumers,
        spec.faults.len(),
        spec.duration_ms
    );
    Ok(EXIT_OK)
}
