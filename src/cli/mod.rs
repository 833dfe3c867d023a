//! The command line: one small function per verb (see `../shared/CONTRACT.md` for the contract).
//!
//! Exit codes, for every verb: 0 ran and every check held, 1 a safety violation (or a script
//! expectation did not match), 2 bad input, 3 a liveness violation. A panic is always a bug.

pub mod assign;
pub mod bench;
pub mod check;
pub mod check_history;
pub mod fuzz;
pub mod logging;
pub mod merge;
pub mod replay;
pub mod run;
pub mod script;
pub mod shrink;
pub mod timeline;

use clap::{Parser, Subcommand};

/// `print!` that ignores a closed stdout.
#[macro_export]
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// `println!` that ignores a closed stdout (`kafkasim run ... | head` must not panic).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
use std::process::ExitCode;

/// Exit code: every check held.
pub const EXIT_OK: u8 = 0;
/// Exit code: a safety violation, or a script expectation that did not match.
pub const EXIT_SAFETY: u8 = 1;
/// Exit code: bad input (file, flag or configuration).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code: a liveness violation.
pub const EXIT_LIVENESS: u8 = 3;

/// A failure that ends a verb: the message goes to stderr, the code is the exit code.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub fn bad_input(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_BAD_INPUT,
            message: message.into(),
        }
    }
}

impl From<crate::sim::RunPanic> for CliError {
    fn from(p: crate::sim::RunPanic) -> Self {
        CliError {
            code: 101,
            message: format!("kafkasim bug: the simulation panicked: {}", p.message),
        }
    }
}

/// One seed of a scenario file, run with every event kept (`replay`, `timeline`).
pub struct KeptRun {
    /// The scenario's path as given, for reports.
    pub path: String,
    /// The scenario's `name`.
    pub name: String,
    pub outcome: crate::sim::RunOutcome,
}

/// Loads `path`, draws the seed's fault profile when `swarm` (as `fuzz --swarm` does), and runs
/// the seed (default: the scenario's own) keeping every event.
pub fn run_kept(
    path: &std::path::Path,
    seed: Option<u64>,
    swarm: bool,
) -> Result<KeptRun, CliError> {
    let scenario = crate::scenario::load(path).map_err(|e| CliError::bad_input(e.to_string()))?;
    let seed = seed.unwrap_or(scenario.spec.seed);
    let (path, name) = (scenario.path.clone(), scenario.spec.name.clone());
    let scenario = if swarm {
        crate::scenario::swarm::apply(&scenario, seed)
    } else {
        scenario
    };
    let outcome = crate::sim::run_scenario(
        std::sync::Arc::new(scenario),
        seed,
        crate::sim::RunOptions::keeping_events(),
    )?;
    Ok(KeptRun {
        path,
        name,
        outcome,
    })
}

#[derive(Parser)]
#[command(
    name = "kafkasim",
    version,
    about = "Deterministic simulation of Kafka replication and consumer groups",
    long_about = "Deterministic simulation of Kafka replication and consumer groups.\n\n\
        Exit codes: 0 every check held; 1 safety violation (or script mismatch); \
        2 bad input; 3 liveness violation.\n\
        Set RUST_LOG=kafkasim=debug for a trace of protocol decisions, stamped with simulated \
        time and node."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Run(run::RunArgs),
    Check(check::CheckArgs),
    Replay(replay::ReplayArgs),
    Fuzz(fuzz::FuzzArgs),
    Merge(merge::MergeArgs),
    CheckHistory(check_history::CheckHistoryArgs),
    Shrink(shrink::ShrinkArgs),
    Assign(assign::AssignArgs),
    Script(script::ScriptArgs),
    Bench(bench::BenchArgs),
    Timeline(timeline::TimelineArgs),
}

/// Parses the command line, runs the verb and turns its outcome into an exit code.
pub fn main() -> ExitCode {
    logging::init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            let code = if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            };
            return ExitCode::from(code);
        }
    };
    let outcome = match cli.command {
        Command::Run(args) => run::main(args),
        Command::Check(args) => check::main(args),
        Command::Replay(args) => replay::main(args),
        Command::Fuzz(args) => fuzz::main(args),
        Command::Merge(args) => merge::main(args),
        Command::CheckHistory(args) => check_history::main(args),
        Command::Shrink(args) => shrink::main(args),
        Command::Assign(args) => assign::main(args),
        Command::Script(args) => script::main(args),
        Command::Bench(args) => bench::main(args),
        Command::Timeline(args) => timeline::main(args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{}", e.message);
            ExitCode::from(e.code)
        }
    }
}
