//! Jepsen's client-visible anomalies reach every run's outcome with Jepsen's allowed sets: a
//! correct cluster shows no bad type, and each broken variant (a `[protocol]` switch or an
//! unclean election) shows the type Jepsen would name, in the mode it would name it.

use kafkasim::check::jepsen::{
    Mode, INCONSISTENT_OFFSETS, LOST_WRITE, NONMONOTONIC_POLL, NONMONOTONIC_SEND, POLL_SKIP,
};
mod common;

use common::{run, with_switch};

/// One broker, one partition, a producer and an assign-mode reader.
const READER: &str = r#"
name = "reader"
duration_ms = 5000
[cluster]
brokers = 1
[[topic]]
name = "t"
partitions = 1
replication_factor = 1
[[producer]]
topic = "t"
rate_per_s = 100
acks = "all"
[[reader]]
topic = "t"
[liveness]
bound_ms = 20000
"#;

/// Three brokers, 4 partitions, a producer, a reader of every partition and group `g` of three
/// consumers; c3 leaves at 8 s and comes back at 14 s, so partitions move twice.
const GROUP: &str = r#"
name = "group"
duration_ms = 30000

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
acks = "all"

[[reader]]
topic = "t"

[[group]]
id = "g"
topics = ["t"]
consumers = 3
session_timeout_ms = 6000
heartbeat_interval_ms = 1000
auto_offset_reset = "earliest"

[[fault]]
at_ms = 8000
kind = "crash"
node = "c3"
mode = "clean"

[[fault]]
at_ms = 14000
kind = "restart"
node = "c3"

[liveness]
bound_ms = 60000
"#;

#[test]
fn a_correct_cluster_shows_no_bad_anomaly() {
    for seed in 0..2 {
        let o = run(GROUP, seed);
        assert!(o.violations.is_empty(), "seed {seed}: {:?}", o.violations);
        assert!(
            o.anomalies.valid(),
            "seed {seed}: bad anomalies in a correct run: {:#?}",
            o.anomalies
        );
        assert!(o.stats.consumed > 0, "seed {seed}: nothing was read");
    }
}

#[test]
fn a_skipping_reader_is_a_bad_poll_skip_under_assign() {
    let o = run(&with_switch(READER, "reader_skips_after_poll"), 0);
    let skip = o
        .anomalies
        .0
        .get(POLL_SKIP)
        .unwrap_or_else(|| panic!("no poll-skip: {:#?}", o.anomalies));
    assert!(!skip.allowed, "poll-skip is bad under assign");
    assert!(skip.modes.contains(&Mode::Assign));
    assert!(!o.anomalies.valid());
    let correct = run(READER, 0);
    assert!(
        correct.anomalies.is_empty(),
        "correct reader: {:#?}",
        correct.anomalies
    );
}

#[test]
fn a_consumer_restarting_from_earliest_is_an_allowed_nonmonotonic_poll_under_subscribe() {
    let o = run(&with_switch(GROUP, "consumer_ignores_committed_offset"), 0);
    let rewind = o
        .anomalies
        .0
        .get(NONMONOTONIC_POLL)
        .unwrap_or_else(|| panic!("no nonmonotonic-poll: {:#?}", o.anomalies));
    assert!(
        rewind.allowed,
        "nonmonotonic-poll is allowed under subscribe"
    );
    assert_eq!(rewind.modes.iter().collect::<Vec<_>>(), [&Mode::Subscribe]);
    assert!(
        o.anomalies.valid(),
        "only allowed anomalies: {:#?}",
        o.anomalies
    );
    let correct = run(GROUP, 0);
    assert_eq!(
        correct.anomalies.count(NONMONOTONIC_POLL),
        0,
        "{:#?}",
        correct.anomalies
    );
}

/// b3 is cut off from the other brokers and leaves the ISR; b1 and b2 die, so only b3 is alive.
const UNCLEAN: &str = r#"
name = "unclean"
duration_ms = 20000

[cluster]
brokers = 3
replica_lag_time_max_ms = 3000

[[topic]]
name = "t"
partitions = 1
replication_factor = 3
min_insync_replicas = 2

[[producer]]
topic = "t"
rate_per_s = 200
acks = "all"

[[reader]]
topic = "t"

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

[liveness]
bound_ms = 30000
"#;

#[test]
fn an_unclean_election_loses_writes_a_reader_can_see() {
    let unclean = UNCLEAN.replace(
        "min_insync_replicas = 2",
        "min_insync_replicas = 2\nunclean_leader_election = true",
    );
    let o = run(&unclean, 0);
    let seen: Vec<&str> = o.anomalies.0.keys().copied().collect();
    assert!(
        seen.contains(&LOST_WRITE) || seen.contains(&INCONSISTENT_OFFSETS),
        "neither lost-write nor inconsistent-offsets: {:#?}",
        o.anomalies
    );
    assert!(!o.anomalies.valid());
    // The new leader's log is shorter: the producer's next batch lands below its previous one.
    assert!(
        o.anomalies.count(NONMONOTONIC_SEND) > 0,
        "{:#?}",
        o.anomalies
    );
    let clean = run(UNCLEAN, 0);
    for name in [LOST_WRITE, INCONSISTENT_OFFSETS, NONMONOTONIC_SEND] {
        assert_eq!(clean.anomalies.count(name), 0, "{:#?}", clean.anomalies);
    }
}

#[test]
fn the_report_names_anomalies_and_keeps_the_verdict_with_the_invariants() {
    let o = run(&with_switch(READER, "reader_skips_after_poll"), 0);
    let report = kafkasim::report::RunReport::new("reader.toml", &o);
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["jepsen_valid"], false);
    assert_eq!(json["anomalies"][POLL_SKIP]["allowed"], false);
    assert!(json["anomalies"][POLL_SKIP]["count"].as_u64().unwrap() > 0);
    assert!(json["anomalies"][POLL_SKIP]["example"]
        .as_str()
        .unwrap()
        .contains("r1"));
    let human = report.human();
    let line = human
        .lines()
        .find(|l| l.starts_with("  anomalies: "))
        .unwrap_or_else(|| panic!("no anomalies line in:\n{human}"));
    assert!(
        line.contains("poll-skip ") && line.contains("(under assign)"),
        "{line}"
    );
    let quiet = kafkasim::report::RunReport::new("reader.toml", &run(READER, 0));
    assert!(!quiet.human().contains("anomalies"), "{}", quiet.human());
    assert_eq!(report.exit_code(), 1, "reader_polls_contiguous decides it");
}
