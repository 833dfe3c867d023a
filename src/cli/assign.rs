//! `kafkasim assign --strategy S`: one assignor, JSON in, JSON out (see `shared/CONTRACT.md`).

use super::{CliError, EXIT_OK};
use crate::assignor::{self, AssignInput, Strategy};
use std::io::Read;

/// Runs one assignor exactly as Kafka's would (JSON on stdin, JSON on stdout).
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
        .read_to_string(&mut text)
        .map_err(|e| CliError::bad_input(format!("assign: cannot read stdin: {e}")))?;
    let input = parse_input(&text)?;
    let assignment = assignor::assign(strategy, &input)
        .map_err(|e| CliError::bad_input(format!("assign --strategy {strategy}: {e}")))?;
    println!("{}", assignor::assignment_to_json(&assignment));
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
    Ok(input)
}
