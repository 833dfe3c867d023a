//! `kafkasim timeline` end to end: the built binary writes one self-contained, deterministic HTML
//! page that names the run's members and draws its faults, generations and violations.

use kafkasim::history::EventKind;
use kafkasim::sim::{run_scenario, RunOptions};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const FAILOVER: &str = "scenarios/group-coordinator-failover.toml";

fn out_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "kafkasim-timeline-{}-{name}.html",
        std::process::id()
    ))
}

/// Runs `kafkasim timeline SCENARIO -o OUT` and returns (exit code, the page).
fn timeline(scenario: &str, out: &Path) -> (i32, String) {
    let _ = std::fs::remove_file(out);
    let status = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["timeline", scenario, "-o"])
        .arg(out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("kafkasim runs");
    let html = std::fs::read_to_string(out).expect("the timeline was written");
    let _ = std::fs::remove_file(out);
    (status.code().unwrap_or(-1), html)
}

/// The member ids that the run's Assigned events name.
fn assigned_members(scenario: &str) -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(scenario);
    let s = kafkasim::scenario::load(&path).expect("scenario loads");
    let seed = s.spec.seed;
    let outcome = run_scenario(Arc::new(s), seed, RunOptions::keeping_events()).unwrap();
    outcome
        .history
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Assigned { member_id, .. } => Some(member_id.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_failover_timeline_is_self_contained_and_shows_the_run() {
    let (code, html) = timeline(FAILOVER, &out_path("failover"));
    assert_eq!(code, 0);
    assert!(html.starts_with("<!DOCTYPE html>"));
    for network in [
        "http://",
        "https://",
        "src=",
        "href=",
        "@import",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(
            !html.contains(network),
            "the page must not load anything: {network}"
        );
    }
    let members = assigned_members(FAILOVER);
    assert!(members.len() >= 3, "{members:?}");
    for m in &members {
        assert!(html.contains(m.as_str()), "member {m} is not in the page");
    }
    assert!(html.contains(r#"class="shade f-crash""#), "no fault window");
    assert!(html.contains("crash c3 (Process)"));
    assert!(
        html.contains(r#"<line class="gen""#),
        "no generation marker"
    );
    assert!(html.contains(">gen 1<") && html.contains(">gen 2<"));
    assert!(html.contains("Stable") && html.contains("PreparingRebalance"));
    assert!(html.contains("<svg id=\"chart\"") && html.contains("<script>"));
}

#[test]
fn the_same_seed_draws_the_same_bytes() {
    let (_, a) = timeline(FAILOVER, &out_path("same-a"));
    let (_, b) = timeline(FAILOVER, &out_path("same-b"));
    assert!(a == b, "two runs of one seed drew different pages");
}

#[test]
fn violations_are_marked_with_their_invariant() {
    let (code, html) = timeline(
        "scenarios/bugs/last-isr-power-loss.toml",
        &out_path("last-isr"),
    );
    assert_eq!(code, 1, "a safety violation exits 1");
    assert!(html.contains(r#"class="vline""#), "no violation line");
    assert!(html.contains("VIOLATION no_lost_acked_write (Safety)"));
    assert!(html.contains(">no_lost_acked_write<"));
}

#[test]
fn a_missing_scenario_is_bad_input() {
    let status = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args(["timeline", "no/such/file.toml", "-o"])
        .arg(out_path("missing"))
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
}

/// Pre-KAFKA-2555 (`commit_ignores_generation`): c1 is paused past its session, the group moves
/// on, and on resume c1 commits with its stale generation; commit_fencing fires.
const BROKEN_FENCING: &str = r#"
name = "broken-commit-fencing"
duration_ms = 40000

[cluster]
brokers = 3
offsets_topic_num_partitions = 1
group_initial_rebalance_delay_ms = 500

[[topic]]
name = "t"
partitions = 4
replication_factor = 3
min_insync_replicas = 2

[[producer]]
topic = "t"
rate_per_s = 100
keys = 16

[[group]]
id = "g"
topics = ["t"]
session_timeout_ms = 6000
heartbeat_interval_ms = 1000
consumers = 2
processing_ms_per_record = 20.0

[protocol]
commit_ignores_generation = true

[[fault]]
at_ms = 9000
kind = "slow_poll"
node = "c1"
duration_ms = 5000

[[fault]]
at_ms = 10000
kind = "pause"
node = "c1"
duration_ms = 9000
"#;

#[test]
fn a_broken_protocol_switch_draws_its_group_violation() {
    let scenario = std::env::temp_dir().join(format!(
        "kafkasim-timeline-{}-broken.toml",
        std::process::id()
    ));
    std::fs::write(&scenario, BROKEN_FENCING).unwrap();
    let (code, html) = timeline(scenario.to_str().unwrap(), &out_path("broken"));
    let _ = std::fs::remove_file(&scenario);
    assert_eq!(code, 1, "a safety violation exits 1");
    assert!(html.contains("VIOLATION commit_fencing (Safety)"));
    assert!(
        html.contains(r#"class="shade f-slow""#),
        "the pause is a window"
    );
    assert!(html.contains("pause c1 for 9000ms"));
    assert!(
        html.contains("owners overlap in this lane"),
        "the zombie owner is drawn"
    );
}
