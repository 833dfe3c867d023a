//! Every invariant has a scenario in which a deliberately broken protocol variant (a switch in
//! `[protocol]`) makes it fire, and the same scenario with the correct protocol holds. A checker
//! that cannot fail is worthless; these tests prove each one can.

mod common;

use common::{assert_expected_by_unclean_election, assert_fires_only_when_broken, run};

/// A three-broker cluster with one topic, one producer and one reader, plus `extra` TOML.
fn scenario(name: &str, topic: &str, producer: &str, extra: &str) -> String {
    format!(
        r#"
name = "{name}"
duration_ms = 20000

[cluster]
brokers = 3
replica_lag_time_max_ms = 3000

[[topic]]
name = "t"
partitions = 1
replication_factor = 3
{topic}

[[producer]]
topic = "t"
{producer}

[[reader]]
topic = "t"

[liveness]
bound_ms = 30000
{extra}
"#
    )
}

const ALL_ACKS: &str = "rate_per_s = 200\nacks = \"all\"";
const MIN_ISR_2: &str = "min_insync_replicas = 2";

const LEADER_CRASH: &str = r#"
[[fault]]
at_ms = 5000
kind = "crash"
node = "leader:t/0"
mode = "process"

[[fault]]
at_ms = 9000
kind = "restart"
node = "last_crashed"
"#;

#[test]
fn strong_isr_fires_when_the_leader_ignores_its_followers() {
    let text = scenario("strong-isr", MIN_ISR_2, ALL_ACKS, "");
    assert_fires_only_when_broken("strong_isr", &text, "hw_ignores_followers", 2);
}

#[test]
fn read_below_high_watermark_fires_when_consumers_read_past_it() {
    let text = scenario("read-hw", MIN_ISR_2, ALL_ACKS, "");
    assert_fires_only_when_broken(
        "read_below_high_watermark",
        &text,
        "fetch_beyond_high_watermark",
        2,
    );
}

#[test]
fn single_leader_per_epoch_fires_without_epoch_bumps() {
    let text = scenario("single-leader", MIN_ISR_2, ALL_ACKS, LEADER_CRASH);
    assert_fires_only_when_broken("single_leader_per_epoch", &text, "no_epoch_bump", 2);
}

#[test]
fn epochs_monotonic_fires_when_the_controller_forgets_epochs() {
    let faults = format!(
        "{LEADER_CRASH}\n[[fault]]\nat_ms = 12000\nkind = \"crash\"\nnode = \"controller\"\n\n[[fault]]\nat_ms = 13000\nkind = \"restart\"\nnode = \"controller\"\n"
    );
    let text = scenario("epochs", MIN_ISR_2, ALL_ACKS, &faults);
    assert_fires_only_when_broken("epochs_monotonic", &text, "controller_resets_epochs", 2);
}

/// b3 is cut off from the other brokers (not from the controller) and leaves the ISR; then
/// b1 and b2 die, so only b3 is alive.
const ISOLATE_B3_THEN_KILL_B1_B2: &str = r#"
[[fault]]
at_ms = 2000
kind = "partition"
from = ["b3"]
to = ["b1", "b2"]
duration_ms = 10000

[[fault]]
at_ms = 2000
kind = "partition"
from = ["b1", "b2"]
to = ["b3"]
duration_ms = 10000

[[fault]]
at_ms = 9000
kind = "crash"
node = "b1"

[[fault]]
at_ms = 9000
kind = "crash"
node = "b2"

[[fault]]
at_ms = 15000
kind = "restart"
node = "b1"

[[fault]]
at_ms = 15000
kind = "restart"
node = "b2"
"#;

#[test]
fn leader_in_isr_fires_when_electing_outside_the_isr() {
    let text = scenario(
        "leader-in-isr",
        MIN_ISR_2,
        ALL_ACKS,
        ISOLATE_B3_THEN_KILL_B1_B2,
    );
    assert_fires_only_when_broken("leader_in_isr", &text, "elect_outside_isr", 1);
}

/// An unclean election loses acknowledged writes by configuration: the checkers still see the
/// loss, and the report lists it as expected (with the election), not as a failure.
#[test]
fn unclean_election_loses_acknowledged_writes_and_rewrites_offsets() {
    let clean = scenario("unclean", MIN_ISR_2, ALL_ACKS, ISOLATE_B3_THEN_KILL_B1_B2);
    let unclean = clean.replace(
        MIN_ISR_2,
        "min_insync_replicas = 2\nunclean_leader_election = true",
    );
    let o = run(&unclean, 0);
    assert_expected_by_unclean_election(
        &o,
        &[
            "no_lost_acked_write",
            "one_value_per_offset",
            "log_matching",
        ],
        "",
    );
    let o = run(&clean, 0);
    assert!(
        o.violations.is_empty() && o.expected_violations.is_empty(),
        "clean election only: {:?}",
        o.violations
    );
}

#[test]
fn high_watermark_monotonic_fires_when_lagging_replicas_drag_it_down() {
    // b3 never flushes, loses power and comes back empty: far below the high watermark.
    let faults = r#"
[[fault]]
at_ms = 3000
kind = "crash"
node = "b3"
mode = "power_loss"

[[fault]]
at_ms = 7000
kind = "restart"
node = "b3"
"#;
    let text = scenario("hw-monotonic", "min_insync_replicas = 1", ALL_ACKS, faults).replace(
        "replica_lag_time_max_ms = 3000",
        "replica_lag_time_max_ms = 3000\nflush_interval_ms = 600000",
    );
    assert_fires_only_when_broken(
        "high_watermark_monotonic",
        &text,
        "hw_counts_lagging_replicas",
        2,
    );
}

#[test]
fn log_matching_fires_when_followers_skip_truncation() {
    // acks=1 at a high rate: when the leader crashes it holds a few records nobody fetched yet.
    let producer = "rate_per_s = 1000\nacks = \"1\"\nlinger_ms = 0";
    let text = scenario(
        "log-matching",
        "min_insync_replicas = 1",
        producer,
        LEADER_CRASH,
    );
    assert_fires_only_when_broken("log_matching", &text, "skip_follower_truncation", 8);
}

#[test]
fn convergence_fires_when_the_bound_is_too_short() {
    let text = scenario("liveness", MIN_ISR_2, ALL_ACKS, "")
        .replace("[liveness]\nbound_ms = 30000", "[liveness]\nbound_ms = 1")
        .replace(
            "duration_ms = 20000",
            "duration_ms = 20000\n\n[[fault]]\nat_ms = 19990\nkind = \"crash\"\nnode = \"b2\"",
        );
    let o = run(&text, 0);
    assert!(
        o.has_liveness_violation() && !o.has_safety_violation(),
        "{:?}",
        o.violations
    );
}
