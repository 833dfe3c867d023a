//! The library API a user's own `cargo test` calls (`kafkasim::Simulation`): it runs what the CLI
//! runs, its assertions fail with what a user needs to reproduce, and it builds scenarios in Rust.

use kafkasim::Simulation;
use std::path::Path;

fn shipped(name: &str) -> Simulation {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml"));
    Simulation::load(path).unwrap_or_else(|e| panic!("{e}"))
}

/// The golden snapshot's compact trace of `snapshots/{name}.snap`.
fn golden_trace(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("snapshots/{name}.snap"));
    let text = std::fs::read_to_string(path).unwrap();
    let body = text.splitn(3, "---\n").nth(2).unwrap();
    body.split("\n-- report\n").next().unwrap().to_string()
}

#[test]
fn a_library_run_is_the_snapshot_run() {
    let sim = shipped("basic");
    let run = sim.run(sim.scenario().seed);
    run.assert_holds();
    assert_eq!(run.compact_trace(), golden_trace("basic"));
}

#[test]
fn assert_holds_names_the_violation_the_reproduce_line_and_the_saved_trace() {
    let sim = shipped("bugs/zombie-commit");
    let run = sim.run(sim.scenario().seed);
    assert!(!run.holds());
    let panic = std::panic::catch_unwind(|| run.assert_holds()).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    let invariant = run.violations()[0].invariant;
    assert!(message.contains(invariant), "{message}");
    let seed = sim.scenario().seed;
    assert!(
        message.contains(&format!("zombie-commit.toml --seed {seed}")),
        "{message}"
    );
    let rust = message
        .lines()
        .find_map(|l| l.strip_prefix("reproduce in Rust: kafkasim::Simulation::load("))
        .unwrap_or_else(|| panic!("no Rust reproduce line in: {message}"));
    assert!(
        rust.contains("zombie-commit.toml")
            && rust.ends_with(&format!(".unwrap().run({seed}).assert_holds()")),
        "{message}"
    );
    let folder = &saved_folder(message);
    for file in ["trace.txt", "report.json", "history.jsonl", "scenario.toml"] {
        assert!(Path::new(folder).join(file).is_file(), "{folder}/{file}");
    }
    // The saved scenario is the scenario as given, and runs to the same verdict.
    let copy = Simulation::load(Path::new(folder).join("scenario.toml")).unwrap();
    let again = copy.run(seed);
    assert_eq!(again.outcome().trace_hash, run.outcome().trace_hash);
}

#[test]
fn a_scenario_changed_in_rust_is_validated_as_a_file_is() {
    let sim = shipped("basic");
    // Unchanged, it is the same scenario: the same trace.
    let same = sim.with(|_| {}).unwrap();
    let seed = sim.scenario().seed;
    assert_eq!(
        same.run(seed).outcome().trace_hash,
        sim.run(seed).outcome().trace_hash
    );
    // A change the validator refuses is refused with the field named.
    let err = sim
        .with(|s| s.topics[0].min_insync_replicas = 5)
        .unwrap_err()
        .to_string();
    assert!(err.contains("min_insync_replicas"), "{err}");
    // A change it accepts is run.
    let changed = sim.with(|s| s.topics[0].partitions = 1).unwrap();
    assert_eq!(changed.scenario().topics[0].partitions, 1);
    assert_ne!(
        changed.run(seed).outcome().trace_hash,
        sim.run(seed).outcome().trace_hash
    );
}

#[test]
fn a_seed_range_gives_the_same_runs_on_any_number_of_threads() {
    let sim = shipped("basic").swarm();
    let hashes = |jobs| -> Vec<String> {
        sim.run_seeds(10..14, jobs)
            .runs
            .iter()
            .map(|r| r.outcome().trace_hash.clone())
            .collect()
    };
    let one = hashes(1);
    assert_eq!(one, hashes(2));
    // Each seed is its own run, as `run --swarm` would make it.
    assert_eq!(one[2], sim.run(12).outcome().trace_hash);
}

/// The folder a failure message says the run was saved in.
fn saved_folder(message: &str) -> String {
    message
        .lines()
        .find_map(|l| l.strip_prefix("trace, report and history: "))
        .unwrap_or_else(|| panic!("no saved trace in: {message}"))
        .to_string()
}

#[test]
fn one_file_changed_two_ways_saves_its_failures_apart() {
    let sim = shipped("bugs/zombie-commit");
    let seed = sim.scenario().seed;
    let folder_of = |bound_ms: u64| {
        let changed = sim.with(|s| s.liveness.bound_ms = bound_ms).unwrap();
        let run = changed.run(seed);
        assert!(
            !run.holds(),
            "the zombie commit is found whatever the bound"
        );
        let panic = std::panic::catch_unwind(|| run.assert_holds()).unwrap_err();
        saved_folder(panic.downcast_ref::<String>().unwrap())
    };
    let (a, b) = (folder_of(60_001), folder_of(60_002));
    assert_ne!(a, b);
    for folder in [a, b] {
        assert!(
            Path::new(&folder).join("scenario.toml").is_file(),
            "{folder}"
        );
    }
}
