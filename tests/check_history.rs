//! `check-history` on a saved history gives the same report as the live run: verdicts, stats
//! and trace hash, for a passing scenario and for one whose checkers fire.

use std::path::PathBuf;
use std::process::Command;

fn kafkasim(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
    )
}

/// Runs `scenario` live and offline; returns the live JSON report (equal to the offline one).
fn same_verdicts(scenario: &str, seed: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("history-{}", scenario.replace('/', "-")));
    let d = dir.to_str().unwrap();
    let (live_code, live) = kafkasim(&["run", scenario, "--seed", seed, "--json"]);
    let (replay_code, _) = kafkasim(&["replay", scenario, "--seed", seed, "-o", d]);
    let (offline_code, offline) = kafkasim(&[
        "check-history",
        dir.join("history.jsonl").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(live_code, replay_code);
    assert_eq!(live_code, offline_code);
    assert_eq!(
        live, offline,
        "live and offline reports differ for {scenario}"
    );
    live
}

#[test]
fn passing_run_gives_the_same_report_offline() {
    same_verdicts("scenarios/basic.toml", "3");
}

#[test]
fn failing_run_gives_the_same_report_offline() {
    same_verdicts("scenarios/bugs/unclean-election.toml", "1");
}

#[test]
fn jepsen_anomalies_are_the_same_offline() {
    // A reader that skips after every poll: poll-skip (and, past the high watermark, a reset
    // back to the start: nonmonotonic-poll), both bad under assign.
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("jepsen-reader-skips.toml");
    std::fs::write(
        &path,
        r#"
name = "reader-skips"
duration_ms = 3000
[cluster]
brokers = 1
[[topic]]
name = "t"
partitions = 1
replication_factor = 1
[[producer]]
topic = "t"
rate_per_s = 100
[[reader]]
topic = "t"
[protocol]
reader_skips_after_poll = true
[liveness]
bound_ms = 10000
"#,
    )
    .unwrap();
    let live = same_verdicts(path.to_str().unwrap(), "0");
    let json: serde_json::Value = serde_json::from_str(&live).unwrap();
    assert_eq!(json["jepsen_valid"], false, "{live}");
    assert!(json["anomalies"]["poll-skip"]["count"].as_u64().unwrap() > 0);
}

#[test]
fn a_damaged_history_is_bad_input() {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("damaged.jsonl");
    std::fs::write(&path, "{\"meta\": 1}\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args(["check-history", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
}
