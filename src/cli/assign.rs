//! `kafkasim assign --strategy S`: one assignor, JSON in, JSON out (see `shared/CONTRACT.md`).

use super::{CliError, EXIT_OK};
use crate::assignor::{self, AssignInput, Strategy};
use std::io::Read;

/// Runs one assignor exactly as Kafka's would (JSON on stdin, JSON on stdout). At most 10,000
/// partitions over all topics, 10,000 members, 20,000,000 partitions × members and 100,000 owned
/// partitions in all.
#[derive(clap::Args)]
pub struct AssignArgs {
    /// range, roundrobin, sticky, cooperative-sticky, uniform or server-range.
    #[arg(long)]
    pub strategy: String,
}

pub fn main(args: AssignArgs) -> Result<u8, CliError> {
    let strategy: Strategy = args
        .strategy
        .parse()
        .map_err(|e: assignor::AssignError| CliError::bad_input(format!("assign: {e}")))?;
    let mut text = String::new();
    std::io::stdin()
        .take(limits::MAX_INPUT_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| CliError::bad_input(format!("assign: cannot read stdin: {e}")))?;
    if text.len() as u64 > limits::MAX_INPUT_BYTES {
        return Err(CliError::bad_input(format!(
            "assign: stdin: larger than the {}-byte limit",
            limits::MAX_INPUT_BYTES
        )));
    }
    let input = parse_input(&text)?;
    let assignment = assignor::assign(strategy, &input)
        .map_err(|e| CliError::bad_input(format!("assign --strategy {strategy}: {e}")))?;
    crate::say!("{}", assignor::assignment_to_json(&assignment));
    Ok(EXIT_OK)
}

/// Parses the input document, naming the JSON path of the first bad field.
fn parse_input(text: &str) -> Result<AssignInput, CliError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let input: AssignInput = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        CliError::bad_input(format!(
            "assign: stdin: invalid input at `{path}`: {}",
            e.inner()
        ))
    })?;
    de.end()
        .map_err(|e| CliError::bad_input(format!("assign: stdin: trailing data: {e}")))?;
    within_bounds(&input).map_err(|(path, message)| {
        CliError::bad_input(format!(
            "assign: stdin: invalid input at `{path}`: {message}"
        ))
    })?;
    Ok(input)
}

/// The largest group `assign` takes: every assignor builds per-partition and per-member tables,
/// so an absurd count is refused here rather than exhausting memory.
pub mod limits {
    /// The input document, read from stdin.
    pub const MAX_INPUT_BYTES: u64 = 64 << 20;
    /// Partitions over all topics.
    pub const MAX_PARTITIONS: u64 = 10_000;
    pub const MAX_MEMBERS: usize = 10_000;
    /// Partitions × members: the sticky assignors keep, for every partition, the members that
    /// could take it.
    pub const MAX_PARTITION_MEMBER_PAIRS: u64 = 20_000_000;
    /// Owned partitions listed over all members.
    pub const MAX_OWNED: usize = 100_000;
    /// Replica racks listed over all partitions.
    pub const MAX_RACK_ENTRIES: usize = 1_000_000;
}

/// Refuses absurd sizes up front, naming the JSON path and the bound.
fn within_bounds(input: &AssignInput) -> Result<(), (String, String)> {
    use limits::*;
    let mut partitions: u64 = 0;
    for (topic, count) in &input.topics {
        partitions += u64::from(*count);
        if partitions > MAX_PARTITIONS {
            return Err((
                format!("topics.{topic}"),
                format!("{partitions} partitions in all; at most {MAX_PARTITIONS}"),
            ));
        }
    }
    if input.members.len() > MAX_MEMBERS {
        return Err((
            "members".into(),
            format!("{} members; at most {MAX_MEMBERS}", input.members.len()),
        ));
    }
    let pairs = partitions * input.members.len() as u64;
    if pairs > MAX_PARTITION_MEMBER_PAIRS {
        return Err((
            "members".into(),
            format!(
                "{partitions} partitions × {} members is {pairs} pairs; at most \
                 {MAX_PARTITION_MEMBER_PAIRS}",
                input.members.len()
            ),
        ));
    }
    let owned: usize = input.members.iter().map(|m| m.owned.len()).sum();
    if owned > MAX_OWNED {
        return Err((
            "members".into(),
            format!("{owned} owned partitions listed in all; at most {MAX_OWNED}"),
        ));
    }
    let entries: usize = input.partition_racks.values().flatten().map(Vec::len).sum();
    if entries > MAX_RACK_ENTRIES {
        return Err((
            "partition_racks".into(),
            format!("{entries} replica racks in all; at most {MAX_RACK_ENTRIES}"),
        ));
    }
    Ok(())
}
