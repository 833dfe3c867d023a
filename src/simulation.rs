//! kafkasim as a library, for your own `cargo test`: load or build a scenario, run a seed or a
//! seed range, assert that every invariant held, snapshot the compact trace.
//!
//! ```
//! use kafkasim::Simulation;
//!
//! // A scenario as TOML text (or `Simulation::load("scenarios/basic.toml")`).
//! let sim = Simulation::from_toml("three-brokers", r#"
//!     name = "three-brokers"
//!     duration_ms = 5000
//!     [cluster]
//!     brokers = 3
//!     [[topic]]
//!     name = "orders"
//!     partitions = 2
//!     replication_factor = 3
//!     [[producer]]
//!     topic = "orders"
//!     rate_per_s = 50
//!     acks = "all"
//!     [[reader]]
//!     topic = "orders"
//!     [[fault]]
//!     at_ms = 2000
//!     kind = "crash"
//!     node = "leader:orders/0"
//!     mode = "process"
//!     [[fault]]
//!     at_ms = 3000
//!     kind = "restart"
//!     node = "last_crashed"
//! "#).unwrap();
//!
//! // One seed: on a violation this panics with the reproduce line, the violations and the
//! // folder where the run's trace, report and history were saved.
//! sim.run(7).assert_holds();
//!
//! // Change the scenario in Rust: it is validated again, as if the file said so.
//! let slower = sim.with(|s| s.cluster.replica_lag_time_max_ms = 20_000).unwrap();
//!
//! // A seed range on two threads, each seed drawing its own faults (`fuzz --swarm`).
//! slower.swarm().run_seeds(0..4, 2).assert_all_hold();
//! ```
//!
//! A snapshot of the run's compact trace (one line per membership change, election, commit and
//! loss; see [`crate::history::compact`]) goes through insta as any string does:
//! `insta::assert_snapshot!(sim.run(7).compact_trace())`. The trace depends only on the scenario
//! and the seed, on any machine, in debug or release.
//!
//! Failed runs are written under `target/kafkasim/` of the current directory (the package root
//! under `cargo test`), or under `$KAFKASIM_OUT` when that is set. The command line interface is
//! a layer over the same calls: `kafkasim run` is [`Simulation::run`] and `fuzz` is
//! [`Simulation::run_seeds`] over several scenarios.

// A scenario error carries its location and source line for display; loading is a cold path.
#![allow(clippy::result_large_err)]

use crate::check::{Kind, Violation};
use crate::report::RunReport;
use crate::scenario::{Scenario, ScenarioError, ValidScenario};
use crate::sim::{run_scenario, RunOptions, RunOutcome, RunPanic};
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A validated scenario, ready to run for any seed.
#[derive(Clone, Debug)]
pub struct Simulation {
    scenario: Arc<ValidScenario>,
    swarm: bool,
    /// The scenario is its file's, unchanged (else a failure reproduces from the saved copy).
    from_file: bool,
}

impl Simulation {
    /// Reads and validates a scenario file (errors locate the line and field).
    pub fn load(path: impl AsRef<Path>) -> Result<Simulation, ScenarioError> {
        crate::scenario::load(path.as_ref()).map(|s| Simulation::new(s, true))
    }

    /// Parses and validates scenario TOML; `name` stands for the file in errors and reports.
    pub fn from_toml(name: &str, text: &str) -> Result<Simulation, ScenarioError> {
        crate::scenario::from_str(name, text).map(|s| Simulation::new(s, false))
    }

    fn new(scenario: ValidScenario, from_file: bool) -> Simulation {
        Simulation {
            scenario: Arc::new(scenario),
            swarm: false,
            from_file,
        }
    }

    /// The scenario after `change`, validated again exactly as a file is: the changed scenario is
    /// written as TOML and read back, so an error names the field and shows the line.
    pub fn with(&self, change: impl FnOnce(&mut Scenario)) -> Result<Simulation, ScenarioError> {
        let mut spec = self.scenario.spec.clone();
        change(&mut spec);
        let text = toml::to_string(&spec).map_err(|e| {
            ScenarioError::file(
                &self.scenario.path,
                format!("cannot be written as TOML: {e}"),
            )
        })?;
        let mut changed = Simulation::from_toml(&self.scenario.path, &text)?;
        changed.swarm = self.swarm;
        Ok(changed)
    }

    /// Every run draws its fault profile from its seed within the scenario's `[swarm]` bounds,
    /// exactly as `kafkasim fuzz --swarm` and `kafkasim run --swarm` do.
    pub fn swarm(&self) -> Simulation {
        Simulation {
            swarm: true,
            ..self.clone()
        }
    }

    /// The scenario as validated.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario.spec
    }

    /// Runs one seed.
    ///
    /// # Panics
    /// When the simulation itself panics: that is a kafkasim bug, and the message says how to
    /// reproduce it. [`Simulation::try_run`] returns it instead.
    pub fn run(&self, seed: u64) -> Run {
        self.try_run(seed).unwrap_or_else(|p| {
            panic!(
                "kafkasim bug: the simulation panicked: {}\n{}",
                p.message,
                reproduce_lines(&self.scenario.path, seed, self.swarm)
            )
        })
    }

    /// The scenario exactly as `seed` runs it (after its swarm draw, when swarming).
    pub fn as_run(&self, seed: u64) -> ValidScenario {
        if self.swarm {
            crate::scenario::swarm::apply(&self.scenario, seed)
        } else {
            (*self.scenario).clone()
        }
    }

    /// Runs one seed; a panic of the simulation (a kafkasim bug) comes back as the error.
    pub fn try_run(&self, seed: u64) -> Result<Run, RunPanic> {
        let scenario = Arc::new(self.as_run(seed));
        let outcome = run_scenario(scenario.clone(), seed, RunOptions::default())?;
        Ok(Run {
            base: self.scenario.clone(),
            scenario,
            swarm: self.swarm,
            from_file: self.from_file,
            outcome,
        })
    }

    /// Runs every seed of `seeds` on `jobs` threads (each seed in its own runtime: the results
    /// do not depend on `jobs`).
    ///
    /// # Panics
    /// As [`Simulation::run`].
    pub fn run_seeds(&self, seeds: Range<u64>, jobs: usize) -> Runs {
        let seeds: Vec<u64> = seeds.collect();
        let results = crate::fuzz::on_threads(&seeds, jobs, |&seed| (seed, self.try_run(seed)));
        let mut runs = Vec::with_capacity(results.len());
        let mut panics = String::new();
        for (seed, result) in results {
            match result {
                Ok(run) => runs.push(run),
                Err(p) => {
                    let _ = writeln!(
                        panics,
                        "seed {seed}: {}\n  {}",
                        p.message,
                        reproduce_lines(&self.scenario.path, seed, self.swarm)
                    );
                }
            }
        }
        // Panicking in a worker thread would lose these messages behind "a scoped thread
        // panicked": every seed runs, then the panics are told together.
        assert!(
            panics.is_empty(),
            "kafkasim bug: the simulation panicked\n{panics}"
        );
        Runs { runs }
    }
}

/// One finished run.
#[derive(Debug)]
pub struct Run {
    /// The scenario as given (before a swarm draw), for the reproduce line and the saved copy.
    base: Arc<ValidScenario>,
    /// The scenario as run.
    scenario: Arc<ValidScenario>,
    swarm: bool,
    from_file: bool,
    outcome: RunOutcome,
}

impl Run {
    pub fn seed(&self) -> u64 {
        self.outcome.seed
    }

    /// Every invariant held (violations Kafka's configuration allows, listed in
    /// [`RunOutcome::expected_violations`], are not failures).
    pub fn holds(&self) -> bool {
        self.outcome.violations.is_empty()
    }

    pub fn violations(&self) -> &[Violation] {
        &self.outcome.violations
    }

    /// Everything the run measured and found.
    pub fn outcome(&self) -> &RunOutcome {
        &self.outcome
    }

    /// The report `kafkasim run --json` prints.
    pub fn report(&self) -> RunReport {
        RunReport::new(&self.base.path, &self.outcome)
    }

    /// How to run this seed again: the Rust call (in a test of your own crate) and the command
    /// line (in a kafkasim checkout).
    pub fn reproduce(&self) -> String {
        reproduce_lines(&self.base.path, self.seed(), self.swarm)
    }

    /// The compact trace of the run, for a snapshot (`insta::assert_snapshot!`). A run keeps
    /// no events (memory), so the seed runs again keeping them: same scenario, same seed, same
    /// events.
    pub fn compact_trace(&self) -> String {
        let again = run_scenario(
            self.scenario.clone(),
            self.seed(),
            RunOptions::keeping_events(),
        )
        .unwrap_or_else(|p| panic!("kafkasim bug: {}", p.message));
        crate::history::compact::compact_trace(&again.history)
    }

    /// Panics unless every invariant held, with the reproduce line, the violations and the
    /// folder of the saved trace.
    pub fn assert_holds(&self) {
        if let Some(message) = self.failure() {
            panic!("{message}");
        }
    }

    /// What `assert_holds` says, saving the run's log; `None` when every invariant held.
    fn failure(&self) -> Option<String> {
        if self.holds() {
            return None;
        }
        let mut m = format!(
            "{} seed {}: {} violation(s)\n",
            self.base.path,
            self.seed(),
            self.outcome.violations.len()
        );
        for v in &self.outcome.violations {
            let kind = match v.kind {
                Kind::Safety => "SAFETY",
                Kind::Liveness => "LIVENESS",
            };
            let _ = writeln!(
                m,
                "  {kind} {} at {} ms: {}",
                v.invariant,
                v.at_us / 1000,
                v.detail
            );
        }
        match self.save() {
            Ok(folder) => {
                // A scenario built in Rust has no file of its own: reproduce from the saved copy.
                let reproduce = if self.from_file {
                    self.reproduce()
                } else {
                    let copy = folder.join("scenario.toml");
                    reproduce_lines(&copy.display().to_string(), self.seed(), self.swarm)
                };
                let _ = writeln!(m, "{reproduce}");
                let _ = writeln!(m, "trace, report and history: {}", folder.display());
            }
            Err(e) => {
                let _ = writeln!(m, "{}", self.reproduce());
                let _ = writeln!(m, "(the run's log could not be saved: {e})");
            }
        }
        Some(m)
    }

    /// Writes the run's trace, report and history, and the scenario as given, into a folder of
    /// `$KAFKASIM_OUT` (default `target/kafkasim`). A scenario built or changed in Rust goes one
    /// level deeper, under a fingerprint of its text, so that two tests that change the same
    /// file differently (and may run in parallel) never share a folder.
    fn save(&self) -> std::io::Result<PathBuf> {
        let mut dir = std::env::var_os("KAFKASIM_OUT")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target").join("kafkasim"));
        let text = toml::to_string(&self.base.spec).map_err(std::io::Error::other)?;
        if !self.from_file {
            use std::hash::Hasher;
            let mut h = crate::fnv::Fnv64::default();
            h.write(text.as_bytes());
            dir.push(format!("{:016x}", h.finish()));
        }
        let folder = crate::fuzz::keep_log(&dir, &self.scenario, self.seed(), self.swarm)?;
        std::fs::write(folder.join("scenario.toml"), text)?;
        Ok(folder)
    }
}

/// The runs of a seed range, in seed order.
#[derive(Debug)]
pub struct Runs {
    pub runs: Vec<Run>,
}

impl Runs {
    /// The runs in which some invariant did not hold.
    pub fn failed(&self) -> impl Iterator<Item = &Run> {
        self.runs.iter().filter(|r| !r.holds())
    }

    /// Panics unless every seed held, with each failing seed's reproduce line, violations and
    /// saved trace.
    pub fn assert_all_hold(&self) {
        let failures: Vec<String> = self.failed().filter_map(Run::failure).collect();
        if !failures.is_empty() {
            panic!(
                "{} of {} seeds failed\n{}",
                failures.len(),
                self.runs.len(),
                failures.join("\n")
            );
        }
    }
}

/// The two ways to run `seed` of the scenario at `path` again, one per line: the Rust call for a
/// test of the user's own crate, and the command line for a kafkasim checkout.
fn reproduce_lines(path: &str, seed: u64, swarm: bool) -> String {
    let swarm_call = if swarm { ".swarm()" } else { "" };
    format!(
        "reproduce in Rust: kafkasim::Simulation::load({path:?}).unwrap(){swarm_call}.run({seed}).assert_holds()\n\
         reproduce in a kafkasim checkout: {}",
        crate::fuzz::reproduce_line(path, seed, swarm)
    )
}
