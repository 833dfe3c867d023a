//! Helpers the integration tests share: load a shipped scenario, run a scenario given as TOML
//! text, turn a `[protocol]` switch on, and the "fires when broken, holds when correct" check every checker test makes.
//! (Each test crate uses some of them.)
#![allow(dead_code)]

use kafkasim::scenario::{from_str, load, ValidScenario};
use kafkasim::sim::{run_scenario, RunOptions, RunOutcome};
use std::path::Path;
use std::sync::Arc;

/// The shipped scenario `scenarios/{name}.toml` (`name` may name a subfolder, `bugs/...`).
pub fn shipped(name: &str) -> ValidScenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"));
    load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs scenario `text` (TOML) for `seed`.
pub fn run(text: &str, seed: u64) -> RunOutcome {
    let s = from_str("test.toml", text).unwrap_or_else(|e| panic!("{e}"));
    run_scenario(Arc::new(s), seed, RunOptions::default()).expect("no panic")
}

/// `text` with `[protocol] switch = true`, inserted before its `[liveness]` table.
pub fn with_switch(text: &str, switch: &str) -> String {
    assert!(
        text.contains("[liveness]"),
        "the scenario needs a [liveness] table"
    );
    text.replace(
        "[liveness]",
        &format!("[protocol]\n{switch} = true\n\n[liveness]"),
    )
}

/// With `switch = true` the invariant fires on some seed of 0..seeds; with the switch off, no
/// seed of the same range reports any violation.
pub fn assert_fires_only_when_broken(invariant: &str, text: &str, switch: &str, seeds: u64) {
    let broken = with_switch(text, switch);
    let fires = (0..seeds).any(|s| {
        run(&broken, s)
            .violations
            .iter()
            .any(|v| v.invariant == invariant)
    });
    assert!(
        fires,
        "{invariant} never fired with {switch} over seeds 0..{seeds}"
    );
    for seed in 0..seeds {
        let o = run(text, seed);
        assert!(
            o.violations.is_empty(),
            "correct protocol, seed {seed}: {:#?}",
            o.violations
        );
    }
}

/// A loss Kafka's configuration allows: every one of `invariants` fired and is listed as
/// expected, each because of an unclean election (whose text contains `election`), and nothing
/// failed.
#[allow(dead_code)] // not every test binary uses it
pub fn assert_expected_by_unclean_election(o: &RunOutcome, invariants: &[&str], election: &str) {
    assert!(o.violations.is_empty(), "no failure: {:?}", o.violations);
    let expected: Vec<&str> = o.expected_violations.iter().map(|v| v.invariant).collect();
    for invariant in invariants {
        assert!(
            expected.contains(invariant),
            "{invariant} was not seen as expected loss: {expected:?}"
        );
    }
    assert!(
        o.expected_violations.iter().all(|v| v
            .expected
            .as_deref()
            .is_some_and(|w| w.contains("unclean election") && w.contains(election))),
        "{:?}",
        o.expected_violations
    );
}
