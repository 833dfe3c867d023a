//! Each shipped group scenario, over many seeds: every invariant holds (safety and liveness), and
//! the behaviour the scenario exists to show really happens, read from the run's history.
//!
//! Seeds 0..100 in a release build (`cargo test --release --test group_scenarios`); the dev
//! profile of `cargo test` (opt-level 1, debug assertions on, about half release speed) runs 0..10.

mod common;

use kafkasim::history::{Event, EventKind};
use kafkasim::protocol::{ErrorCode, NodeId, ProducedValue, TopicPartition};
use kafkasim::sim::{run_scenario, RunOptions, RunOutcome};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const SEEDS: u64 = if cfg!(debug_assertions) { 10 } else { 100 };

fn run(file: &str, seed: u64) -> RunOutcome {
    let s = common::shipped(file);
    let o = run_scenario(Arc::new(s), seed, RunOptions::keeping_events()).expect("no panic");
    assert!(
        o.violations.is_empty(),
        "{file} seed {seed}: {:#?}",
        o.violations
    );
    o
}

/// Runs every seed and checks `shows` on each history.
fn every_seed(file: &str, shows: impl Fn(&[Event]) -> Result<(), String>) {
    for seed in 0..SEEDS {
        let o = run(file, seed);
        if let Err(why) = shows(&o.history) {
            panic!("{file} seed {seed}: {why}");
        }
    }
}

const MS: u64 = 1000;

fn consumer(n: u32) -> NodeId {
    NodeId::Consumer(n)
}

/// `(time ms, node, generation, partitions)` of every assignment of `group`.
fn assignments(h: &[Event], group: &str) -> Vec<(u64, NodeId, i32, Vec<TopicPartition>)> {
    h.iter()
        .filter_map(|e| match &e.kind {
            EventKind::Assigned {
                group: g,
                generation,
                partitions,
                ..
            } if g == group => Some((e.at_us / MS, e.node, *generation, partitions.clone())),
            _ => None,
        })
        .collect()
}

/// The partitions `node` was last assigned in `group` before `before_ms`.
fn last_assignment(
    h: &[Event],
    group: &str,
    node: NodeId,
    before_ms: u64,
) -> Option<Vec<TopicPartition>> {
    assignments(h, group)
        .into_iter()
        .filter(|a| a.1 == node && a.0 < before_ms)
        .last()
        .map(|a| a.3)
}

#[test]
fn idle_members_get_nothing_and_the_others_share_every_partition() {
    every_seed("group-idle-members", |h| {
        let all = assignments(h, "analytics");
        let last_gen = all.iter().map(|a| a.2).max().ok_or("no assignment")?;
        let last: Vec<_> = all.iter().filter(|a| a.2 == last_gen).collect();
        let idle = last.iter().filter(|a| a.3.is_empty()).count();
        let owned: BTreeSet<_> = last.iter().flat_map(|a| a.3.iter()).collect();
        if last.len() != 5 || idle != 2 || owned.len() != 3 {
            return Err(format!(
                "generation {last_gen}: {} members assigned, {idle} idle, {} partitions owned",
                last.len(),
                owned.len()
            ));
        }
        Ok(())
    });
}

#[test]
fn a_static_member_restarting_keeps_its_partitions_without_a_new_generation() {
    every_seed("group-static-restart", |h| {
        let generations = |from: u64, to: u64| -> BTreeSet<i32> {
            h.iter()
                .filter(|e| (from..to).contains(&(e.at_us / MS)))
                .filter_map(|e| match &e.kind {
                    EventKind::GroupState { generation, .. } => Some(*generation),
                    _ => None,
                })
                .collect()
        };
        let before = *generations(0, 12_000).iter().max().ok_or("no generation")?;
        let after = generations(12_000, u64::MAX);
        if after.iter().any(|g| *g != before) {
            return Err(format!(
                "generation {before} before the crash, {after:?} after"
            ));
        }
        let was = last_assignment(h, "billing", consumer(2), 12_000).ok_or("c2 had nothing")?;
        let now = last_assignment(h, "billing", consumer(2), u64::MAX).unwrap_or_default();
        if was.is_empty() || was != now {
            return Err(format!(
                "c2 owned {was:?} before the crash and {now:?} after"
            ));
        }
        Ok(())
    });
}

/// Issue 13: the coordinator keeps the static member of c2's dead process in the generation that
/// gives c3 some of c2's partitions (only its session expiry removes it), and nothing fires:
/// a dead process owns nothing. Once that session expires, c3 owns all six partitions (until the
/// faults heal at 30 s and both crashed consumers start again).
#[test]
fn a_dead_static_member_stays_in_the_group_until_its_session_expires() {
    every_seed("group-static-crash", |h| {
        let had = last_assignment(h, "billing", consumer(2), 15_000).ok_or("c2 had nothing")?;
        let kept = h.iter().find_map(|e| match &e.kind {
            EventKind::GroupState {
                state,
                generation,
                members,
                ..
            } if e.at_us / MS > 15_000
                && state == "Stable"
                && members.iter().any(|m| m.starts_with("billing-2-")) =>
            {
                Some(*generation)
            }
            _ => None,
        });
        let kept = kept.ok_or("the group never settled with c2's static member after c2 died")?;
        let overlap = assignments(h, "billing")
            .iter()
            .any(|a| a.1 == consumer(3) && a.2 == kept && a.3.iter().any(|tp| had.contains(tp)));
        let all = last_assignment(h, "billing", consumer(3), 30_000).unwrap_or_default();
        if !overlap || all.len() != 6 {
            return Err(format!(
                "generation {kept}: c3 given some of c2's {had:?}: {overlap}; c3 at 30 s: {all:?}"
            ));
        }
        Ok(())
    });
}

#[test]
fn a_crashed_members_partitions_resume_from_the_committed_offset() {
    every_seed("group-consumer-crash", |h| {
        let orphaned =
            last_assignment(h, "billing", consumer(2), 12_000).ok_or("c2 had nothing")?;
        if orphaned.is_empty() {
            return Err("c2 owned nothing when it crashed".into());
        }
        for tp in &orphaned {
            // The survivor that took `tp` over fetched the committed offset, then processed from it.
            let taken = h.iter().find(|e| {
                e.at_us / MS > 12_000
                    && e.node != consumer(2)
                    && matches!(&e.kind, EventKind::OffsetFetched { tp: t, .. } if t == tp)
            });
            let Some(taken) = taken else {
                return Err(format!("nobody took {tp} over"));
            };
            let EventKind::OffsetFetched { offset, .. } = &taken.kind else {
                unreachable!()
            };
            let committed = offset.ok_or(format!("{tp}: c2 never committed"))?;
            let first = h.iter().find_map(|e| match &e.kind {
                EventKind::Processed {
                    tp: t, base_offset, ..
                } if t == tp && e.node == taken.node && e.at_us > taken.at_us => Some(*base_offset),
                _ => None,
            });
            if first != Some(committed) {
                return Err(format!(
                    "{tp}: committed {committed}, new owner began at {first:?}"
                ));
            }
        }
        Ok(())
    });
}

/// As in Kafka: at the poll timeout c1 sends LeaveGroup and resets its generation but keeps its
/// assignment until its next `poll()`; the slow batch's `commitSync` fails in the client with
/// CommitFailedException; that next poll gives the partitions away as lost and rejoins.
#[test]
fn a_slow_poll_makes_the_member_leave_its_partitions_move_and_it_rejoins() {
    every_seed("group-slow-poll", |h| {
        let c1 = |e: &&Event| e.node == consumer(1);
        let left = h
            .iter()
            .filter(c1)
            .find(|e| matches!(&e.kind, EventKind::MemberLeft { reason, .. } if reason.contains("poll timeout")))
            .ok_or("c1 never left on its poll timeout")?;
        let left_ms = left.at_us / MS;
        let had = last_assignment(h, "workers", consumer(1), left_ms).unwrap_or_default();
        let failed = h
            .iter()
            .filter(c1)
            .find(|e| {
                e.at_us > left.at_us
                    && matches!(&e.kind, EventKind::CommitFailed { exception, .. } if exception == "CommitFailedException")
            })
            .ok_or("the slow batch's commit did not fail with CommitFailedException")?;
        let lost_at = h
            .iter()
            .filter(c1)
            .find(|e| {
                e.at_us > left.at_us && matches!(&e.kind, EventKind::Revoked { lost: true, .. })
            })
            .map(|e| e.at_us)
            .ok_or("c1 never gave its partitions away as lost")?;
        if lost_at < failed.at_us {
            return Err(format!(
                "c1 lost its partitions at {} ms, before its commit failed at {} ms",
                lost_at / MS,
                failed.at_us / MS
            ));
        }
        let taken_over = had.iter().all(|tp| {
            assignments(h, "workers")
                .iter()
                .any(|a| a.0 > left_ms && a.1 == consumer(2) && a.3.contains(tp))
        });
        let rejoined = assignments(h, "workers")
            .iter()
            .any(|a| a.0 > left_ms && a.1 == consumer(1) && !a.3.is_empty());
        match (had.is_empty(), taken_over, rejoined) {
            (false, true, true) => Ok(()),
            _ => Err(format!(
                "c1 owned {had:?} when it left; taken over {taken_over}, rejoined {rejoined}"
            )),
        }
    });
}

#[test]
fn the_group_moves_to_the_new_coordinator_and_settles_there() {
    every_seed("group-coordinator-failover", |h| {
        let states: Vec<(u64, NodeId, &str)> = h
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::GroupState { state, .. } => Some((e.at_us / MS, e.node, state.as_str())),
                _ => None,
            })
            .collect();
        let first = states.first().ok_or("no group state")?.1;
        let moved = states
            .iter()
            .any(|(t, node, state)| *t > 15_050 && *node != first && *state == "Stable");
        if !moved {
            return Err(format!("the group never became Stable away from {first}"));
        }
        Ok(())
    });
}

fn processed(h: &[Event], group: &str) -> BTreeSet<ProducedValue> {
    h.iter()
        .filter_map(|e| match &e.kind {
            EventKind::Processed {
                group: g, values, ..
            } if g == group => Some(values.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn two_groups_each_process_every_record_and_commit_their_own_offsets() {
    every_seed("group-two-groups", |h| {
        let acked: BTreeSet<ProducedValue> = h
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Acked { values, .. } => Some(values.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        for group in ["billing", "audit"] {
            let seen = processed(h, group);
            let missing = acked.difference(&seen).count();
            let committed = h.iter().any(|e| {
                matches!(&e.kind, EventKind::CommitResult { group: g, error, .. }
                    if g == group && *error == ErrorCode::None)
            });
            if missing > 0 || !committed {
                return Err(format!(
                    "{group}: {missing} acked records unprocessed, committed {committed}"
                ));
            }
        }
        Ok(())
    });
}

/// Partitions a member revoked and was assigned again in its very next assignment: eager
/// rebalancing gives everything up; cooperative rebalancing keeps what stays.
fn revoked_and_kept(h: &[Event], group: &str) -> usize {
    let mut revoked: BTreeMap<NodeId, BTreeSet<TopicPartition>> = BTreeMap::new();
    let mut kept = 0;
    for e in h {
        match &e.kind {
            EventKind::Revoked {
                group: g,
                partitions,
                lost: false,
                ..
            } if g == group => {
                revoked
                    .entry(e.node)
                    .or_default()
                    .extend(partitions.iter().cloned());
            }
            EventKind::Assigned {
                group: g,
                partitions,
                ..
            } if g == group => {
                let before = revoked.remove(&e.node).unwrap_or_default();
                kept += partitions.iter().filter(|tp| before.contains(*tp)).count();
            }
            _ => {}
        }
    }
    kept
}

#[test]
fn eager_members_revoke_what_they_keep_and_cooperative_ones_do_not() {
    every_seed("group-eager-vs-cooperative", |h| {
        let eager = revoked_and_kept(h, "eager");
        let coop = revoked_and_kept(h, "coop");
        if eager == 0 || coop != 0 {
            return Err(format!(
                "revoked then kept: eager {eager}, cooperative {coop}"
            ));
        }
        Ok(())
    });
}

/// A new group whose coordinator dies while it holds the members' JoinGroups (the initial
/// rebalance delay), with the coordinator's machine still up (`process`) or gone (`power_loss`).
fn coordinator_dies_during_the_first_join(mode: &str) -> RunOutcome {
    let text = format!(
        r#"
name = "join-{mode}"
duration_ms = 15000
[cluster]
brokers = 3
offsets_topic_num_partitions = 1
[[topic]]
name = "orders"
partitions = 2
replication_factor = 3
[[producer]]
topic = "orders"
rate_per_s = 10
[[group]]
id = "billing"
topics = ["orders"]
consumers = 2
[[fault]]
at_ms = 1000
kind = "crash"
node = "leader:__consumer_offsets/0"
mode = "{mode}"
[[fault]]
at_ms = 3000
kind = "restart"
node = "last_crashed"
"#
    );
    let s = kafkasim::scenario::from_str("join.toml", &text).expect("valid");
    let o = run_scenario(Arc::new(s), 0, RunOptions::keeping_events()).expect("no panic");
    assert!(o.violations.is_empty(), "{mode}: {:#?}", o.violations);
    o
}

fn first_join_ms(h: &[Event]) -> u64 {
    h.iter()
        .find(|e| matches!(e.kind, EventKind::MemberJoined { .. }))
        .map(|e| e.at_us / MS)
        .expect("the group formed")
}

/// Kafka's member waits `max.poll.interval.ms` + 5 s for a JoinGroup answer
/// (`sendJoinGroupRequest`). A coordinator process that dies closes its connections and its
/// machine refuses new ones, so the members fail their JoinGroups at once and find the next
/// coordinator; a machine that loses power says nothing, and the members wait out the whole
/// JoinGroup timeout, as Kafka's do. The liveness bound allows for it (the run holds).
#[test]
fn members_learn_at_once_that_a_coordinator_process_died_but_not_a_machine() {
    let process = coordinator_dies_during_the_first_join("process");
    let joined = first_join_ms(&process.history);
    assert!(joined < 15_000, "process crash: first join at {joined} ms");

    let power = coordinator_dies_during_the_first_join("power_loss");
    let joined = first_join_ms(&power.history);
    assert!(
        joined > 300_000,
        "power loss: first join at {joined} ms, before the JoinGroup timed out"
    );
}
