//! Every group invariant has a scenario in which a deliberately broken variant (a `[protocol]`
//! switch) makes it fire, while the same scenario with the correct protocol holds.

mod common;

use common::{assert_expected_by_unclean_election, assert_fires_only_when_broken, run};

/// Three brokers, one topic of 4 partitions, a producer, group `g` of `consumers`, plus `extra`.
fn scenario(group: &str, extra: &str) -> String {
    format!(
        r#"
name = "group-test"
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
{group}

[liveness]
bound_ms = 60000
{extra}
"#
    )
}

/// c1's batch takes 5 s longer than usual (S14's slow batch); a 9 s GC-like pause then freezes
/// it past its session timeout, so the group moves on. The batch finished during the pause: on
/// resume, c1 commits at once with its old generation.
const PAUSE_C1: &str = r#"
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
fn commit_fencing_fires_when_stale_generations_may_commit() {
    let text = scenario("consumers = 2\nprocessing_ms_per_record = 20.0", PAUSE_C1);
    assert_fires_only_when_broken("commit_fencing", &text, "commit_ignores_generation", 3);
}

/// The coordinator's broker crashes after the group has rebalanced; c3 restarts later so every
/// member fetches its offsets again from the new coordinator.
const COORDINATOR_CRASH: &str = r#"
[[fault]]
at_ms = 6000
kind = "crash"
node = "c3"

[[fault]]
at_ms = 9000
kind = "restart"
node = "c3"

[[fault]]
at_ms = 15000
kind = "crash"
node = "leader:__consumer_offsets/0"
mode = "process"

[[fault]]
at_ms = 22000
kind = "crash"
node = "c2"

[[fault]]
at_ms = 24000
kind = "restart"
node = "c2"

[[fault]]
at_ms = 26000
kind = "restart"
node = "b1"

[[fault]]
at_ms = 26000
kind = "restart"
node = "b2"

[[fault]]
at_ms = 26000
kind = "restart"
node = "b3"
"#;

#[test]
fn generation_monotonic_fires_when_a_loaded_coordinator_forgets_the_generation() {
    let text = scenario("consumers = 3", COORDINATOR_CRASH);
    assert_fires_only_when_broken(
        "generation_monotonic",
        &text,
        "coordinator_forgets_generation",
        2,
    );
}

#[test]
fn committed_offsets_durable_fires_when_commits_are_acknowledged_before_replication() {
    // Replication slows down just before the coordinator's broker crashes, so acknowledged
    // commits are still only on the crashed leader when a follower takes over. Every consumer
    // then restarts, so the new coordinator's OffsetFetch answers come before any new commit of
    // those partitions could hide the loss (the consumers learn of the crash at once, from the
    // closed connections, and would otherwise commit on at the new coordinator first).
    let slow_replication = "[[fault]]\nat_ms = 13500\nkind = \"delay\"\nfrom = [\"b1\", \"b2\", \"b3\"]\nto = [\"b1\", \"b2\", \"b3\"]\nextra_latency_ms = 1000\nduration_ms = 3000\n";
    let restart_consumers: String = ["c1", "c2", "c3"]
        .iter()
        .map(|c| {
            format!(
                "[[fault]]\nat_ms = 15500\nkind = \"crash\"\nnode = \"{c}\"\n\n\
                 [[fault]]\nat_ms = 17500\nkind = \"restart\"\nnode = \"{c}\"\n\n"
            )
        })
        .collect();
    let text = scenario(
        "consumers = 3",
        &format!("{COORDINATOR_CRASH}{slow_replication}{restart_consumers}"),
    );
    assert_fires_only_when_broken(
        "committed_offsets_durable",
        &text,
        "commit_acks_before_replication",
        4,
    );
}

/// c3 leaves and comes back: partitions move twice.
const C3_BOUNCES: &str = r#"
[[fault]]
at_ms = 8000
kind = "crash"
node = "c3"
mode = "clean"

[[fault]]
at_ms = 14000
kind = "restart"
node = "c3"
"#;

#[test]
fn exclusive_ownership_fires_when_eager_members_keep_partitions_while_rejoining() {
    let text = scenario("consumers = 3", C3_BOUNCES);
    assert_fires_only_when_broken(
        "exclusive_ownership",
        &text,
        "eager_keeps_partitions_on_rejoin",
        3,
    );
}

#[test]
fn bounded_duplicates_fires_when_a_new_owner_ignores_the_committed_offset() {
    // c3 leaves and comes back: its partitions move twice, each time after their owner committed.
    // Starting a moved partition from the earliest offset re-processes what was committed.
    let text = scenario(
        "consumers = 3\nauto_offset_reset = \"earliest\"",
        C3_BOUNCES,
    );
    assert_fires_only_when_broken(
        "bounded_duplicates",
        &text,
        "consumer_ignores_committed_offset",
        2,
    );
}

#[test]
fn no_lost_records_fires_when_at_least_once_commits_before_processing() {
    // c1 dies mid-batch (20 ms a record); its partitions resume where it had committed.
    let faults = "[[fault]]\nat_ms = 10000\nkind = \"crash\"\nnode = \"c1\"\n\n[[fault]]\nat_ms = 20000\nkind = \"restart\"\nnode = \"c1\"\n";
    let text = scenario("consumers = 2\nprocessing_ms_per_record = 20.0", faults);
    assert_fires_only_when_broken(
        "no_lost_records",
        &text,
        "consumer_commits_before_processing",
        3,
    );
}

#[test]
fn reader_polls_contiguous_fires_when_a_reader_skips() {
    let text = r#"
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
[[reader]]
topic = "t"
[liveness]
check = false
"#;
    assert_fires_only_when_broken(
        "reader_polls_contiguous",
        text,
        "reader_skips_after_poll",
        1,
    );
}

// --- Kafka's guarantees where its members may overlap -----------------------------------------
//
// Issue 13's setup: three static members (`group.instance.id`), six partitions,
// `session.timeout.ms` 10 s, `max.poll.interval.ms` 3 s, and c1's process dies at 10 s. c1's
// session expires at about 20 s; the rebalance waits `max.poll.interval.ms` for the others, keeps
// a static member that did not rejoin (`GroupMetadataManager.completeClassicGroupJoin` removes
// only dynamic ones) and assigns it partitions it never receives, while c3 is given some of the
// partitions that member still holds from the generation before. Kafka allows that overlap: the
// older generation's holder is a zombie whose commits are fenced. Each scenario below holds over
// `HOLD_SEEDS` seeds with today's protocol, and a broken variant makes the named invariant fire.

/// Seeds every correct-protocol run of these scenarios must hold on: 0..20 in a release build
/// (`cargo test --release --test group_checkers_fire`), 0..10 in the dev-profile suite.
const HOLD_SEEDS: u64 = if cfg!(debug_assertions) { 10 } else { 20 };

/// Issue 13's group, c1's process dying at 10 s, then `faults`.
fn static_scenario(faults: &str) -> String {
    format!(
        r#"
name = "group-static"
duration_ms = 40000

[cluster]
brokers = 3
offsets_topic_num_partitions = 1

[[topic]]
name = "orders"
partitions = 6
replication_factor = 3
min_insync_replicas = 2

[[producer]]
topic = "orders"
rate_per_s = 100
keys = 20

[[group]]
id = "billing"
topics = ["orders"]
consumers = 3
static_members = true
session_timeout_ms = 10000
heartbeat_interval_ms = 1000
max_poll_interval_ms = 3000

[[fault]]
at_ms = 10000
kind = "crash"
node = "c1"
mode = "process"
{faults}

[liveness]
bound_ms = 60000
"#
    )
}

/// c2's process dies at 15 s; the coordinator keeps it (static) until its session expires at
/// about 25 s, across the rebalance at about 23 s that gives c3 some of its partitions. It
/// restarts at 28 s and takes partitions back from c3.
const C2_DIES_AND_RETURNS: &str = r#"
[[fault]]
at_ms = 15000
kind = "crash"
node = "c2"
mode = "process"

[[fault]]
at_ms = 28000
kind = "restart"
node = "c2"
"#;

/// The static scenario with `faults` holds on today's protocol over `HOLD_SEEDS` seeds, and
/// `exclusive_ownership` fires when eager members keep their partitions while they rejoin.
fn static_overlap_fires_only_when_eager_members_keep_partitions(faults: &str) {
    assert_fires_only_when_broken(
        "exclusive_ownership",
        &static_scenario(faults),
        "eager_keeps_partitions_on_rejoin",
        HOLD_SEEDS,
    );
}

/// A dead process owns nothing, even while the coordinator keeps its static member; two live
/// members of one generation still may not share a partition (an eager member that keeps its
/// partitions while it rejoins shares them with c2 when c2 comes back).
#[test]
fn exclusive_ownership_holds_for_a_dead_static_member_and_fires_on_a_real_overlap() {
    static_overlap_fires_only_when_eager_members_keep_partitions(C2_DIES_AND_RETURNS);
}

/// The live variant: c2's batch at 15 s takes 10 s longer, past `max.poll.interval.ms`. As in
/// Kafka, the static member sends no LeaveGroup, resets its generation and keeps processing its
/// partitions until its next poll, while c3 owns some of them in the next generation; its commit
/// fails in the client (`CommitFailedException`). c1 comes back at 30 s, and partitions move to it.
#[test]
fn exclusive_ownership_holds_for_a_static_zombie_past_max_poll_interval_and_fires_on_a_real_overlap(
) {
    let faults = r#"
[[fault]]
at_ms = 15000
kind = "slow_poll"
node = "c2"
duration_ms = 10000

[[fault]]
at_ms = 30000
kind = "restart"
node = "c1"
"#;
    static_overlap_fires_only_when_eager_members_keep_partitions(faults);
}

/// The coordinator moves while it keeps the dead static member: the group's
/// `__consumer_offsets` leader crashes at 23.5 s, after the rebalance that gave c3 some of c2's
/// partitions, and returns at 27 s; the next coordinator loads the group with c2 still in it.
#[test]
fn exclusive_ownership_holds_across_a_coordinator_move_and_fires_on_a_real_overlap() {
    let faults = format!(
        r#"{C2_DIES_AND_RETURNS}
[[fault]]
at_ms = 23500
kind = "crash"
node = "leader:__consumer_offsets/0"
mode = "process"

[[fault]]
at_ms = 27000
kind = "restart"
node = "last_crashed"
"#
    );
    static_overlap_fires_only_when_eager_members_keep_partitions(&faults);
}

/// c2's batch at 17.5 s takes a second longer, and a GC-like pause freezes c2 from 18 s to
/// 24 s, over the rebalance that keeps it (static) and gives c3 some of its partitions: on
/// waking it finishes the batch and commits with the generation before. The coordinator answers
/// `ILLEGAL_GENERATION`; before KAFKA-2555 it applied the zombie's commit.
#[test]
fn commit_fencing_holds_for_a_paused_static_zombie_and_fires_when_its_commit_is_applied() {
    let faults = r#"
[[fault]]
at_ms = 17500
kind = "slow_poll"
node = "c2"
duration_ms = 1000

[[fault]]
at_ms = 18000
kind = "pause"
node = "c2"
duration_ms = 6000
"#;
    let text = static_scenario(faults);
    assert_fires_only_when_broken(
        "commit_fencing",
        &text,
        "commit_ignores_generation",
        HOLD_SEEDS,
    );
}

/// `__consumer_offsets` has `min.insync.replicas = 1` (Kafka's broker default). Its leader is cut
/// off from the other brokers until the ISR is itself alone, then loses power (its log was never
/// flushed) and comes back. KIP-966's balanced recovery elects it again as the last known leader,
/// which Kafka calls unclean (`PartitionChangeBuilder.electAnyLeader`): the committed offsets are
/// gone, by configuration. The checkers see it, and the report lists it as expected, with the
/// election; a process crash in its place (the log survives) shows neither.
const OFFSETS_LEADER_ALONE_THEN_DOWN: &str = r#"
[[fault]]
at_ms = 5000
kind = "partition"
from = ["leader:__consumer_offsets/0"]
to = ["b1", "b2", "b3"]
duration_ms = 10000

[[fault]]
at_ms = 5000
kind = "partition"
from = ["b1", "b2", "b3"]
to = ["leader:__consumer_offsets/0"]
duration_ms = 10000

[[fault]]
at_ms = 11000
kind = "crash"
node = "leader:__consumer_offsets/0"
mode = "power_loss"

[[fault]]
at_ms = 13000
kind = "restart"
node = "last_crashed"
"#;

#[test]
fn offsets_lost_with_the_only_in_sync_replica_are_expected_by_configuration() {
    let power_loss = scenario("consumers = 2", OFFSETS_LEADER_ALONE_THEN_DOWN).replace(
        "[cluster]\n",
        "[cluster]\nreplica_lag_time_max_ms = 3000\nflush_interval_ms = 30000\n",
    );
    let o = run(&power_loss, 1);
    assert_expected_by_unclean_election(
        &o,
        &[
            "committed_offsets_durable",
            "generation_monotonic",
            "log_matching",
        ],
        "__consumer_offsets-0",
    );
    let process_crash = power_loss.replace("mode = \"power_loss\"", "mode = \"process\"");
    let o = run(&process_crash, 1);
    assert!(
        o.violations.is_empty() && o.expected_violations.is_empty(),
        "the log survives a process crash: {:?} {:?}",
        o.violations,
        o.expected_violations
    );
}
