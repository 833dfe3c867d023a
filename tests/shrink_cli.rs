//! `shrink` writes a scenario that still fails the same invariant and is no larger.

use kafkasim::fuzz::shrink::{failing_invariant, size};
use kafkasim::scenario::load;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn shrink_keeps_the_failure_and_makes_the_scenario_smaller() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("shrunk-last-isr.toml");
    let status = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args([
            "shrink",
            "scenarios/bugs/last-isr-power-loss.toml",
            "--seed",
            "1",
            "-o",
            out.to_str().unwrap(),
            "--max-runs",
            "40",
        ])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let original = load(std::path::Path::new(
        "scenarios/bugs/last-isr-power-loss.toml",
    ))
    .unwrap();
    let shrunk = load(&out).expect("the shrunk file is a valid scenario");
    let before = failing_invariant(&original, 1).expect("the original fails");
    let after =
        failing_invariant(&shrunk, shrunk.spec.seed).expect("the shrunk scenario still fails");
    assert_eq!(before, after);
    assert!(
        size(&shrunk.spec) < size(&original.spec),
        "strictly smaller"
    );
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("# Shrunk by `kafkasim shrink`"));
}

#[test]
fn a_passing_run_has_nothing_to_shrink() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("nothing.toml");
    let o = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args([
            "shrink",
            "scenarios/basic.toml",
            "--seed",
            "1",
            "-o",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing to shrink"));
}
