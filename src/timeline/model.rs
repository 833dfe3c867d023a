//! Folds a run's events into what the timeline draws: intervals (who owns a partition, who leads
//! it, which group state holds, which fault is on), merged series (high watermark, log end) and
//! instants (generations, commits, violations). Pure and deterministic: BTreeMaps only, so one
//! (scenario, seed) always gives the same model and therefore the same HTML.

use super::faults::{FaultPairer, FaultWindow};
use crate::check::{Kind, Violation};
use crate::history::{Event, EventKind};
use crate::protocol::message::PartitionState;
use crate::protocol::{BrokerId, NodeId, TopicPartition};
use std::collections::BTreeMap;

/// At most this many points per series or ticks per lane: one per time bucket.
pub const BUCKETS: u64 = 1500;

/// A half-open interval `[start_us, end_us)` carrying a payload.
#[derive(Clone, Debug, PartialEq)]
pub struct Span<T> {
    pub start_us: u64,
    pub end_us: u64,
    pub what: T,
}

/// A member owning a partition.
#[derive(Clone, Debug, PartialEq)]
pub struct Owner {
    pub member: String,
    pub generation: i32,
    /// How the ownership ended (`revoked`, `lost`, `left`, `crash`, `reassigned`, `end of run`).
    pub ended_by: String,
}

/// One or more commits of a (group, partition) merged into one time bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct CommitTick {
    pub at_us: u64,
    pub count: u32,
    pub failed: u32,
    pub last_offset: u64,
    pub detail: String,
}

/// A state of a group at its coordinator.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupPhase {
    pub state: String,
    pub generation: i32,
    pub coordinator: String,
    pub members: Vec<String>,
    pub leader: Option<String>,
}

/// Everything drawn for one group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupLanes {
    pub phases: Vec<Span<GroupPhase>>,
    /// `(at_us, generation)` each time the generation changed.
    pub generations: Vec<(u64, i32)>,
    pub owners: BTreeMap<TopicPartition, Vec<Span<Owner>>>,
    pub commits: BTreeMap<TopicPartition, Vec<CommitTick>>,
}

/// Everything drawn for one topic partition.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PartitionLane {
    /// The controller's committed state (leader, epoch, ISR), with why it changed.
    pub states: Vec<Span<(PartitionState, String)>>,
    /// The leader's high watermark, one point per bucket at most: `(at_us, hw)`.
    pub hw: Vec<(u64, u64)>,
    /// The leader's log end offset, one point per bucket at most.
    pub leo: Vec<(u64, u64)>,
    /// Truncations on any replica: `(at_us, text)`.
    pub truncations: Vec<(u64, String)>,
}

/// The whole picture of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    pub end_us: u64,
    pub faults: Vec<FaultWindow>,
    pub groups: BTreeMap<String, GroupLanes>,
    pub partitions: BTreeMap<TopicPartition, PartitionLane>,
    /// Member id -> the consumer node that held it, in order of first appearance.
    pub members: Vec<(String, NodeId)>,
    pub violations: Vec<Violation>,
}

impl Timeline {
    /// The colour index of a member (its rank of first appearance).
    pub fn member_index(&self, member: &str) -> usize {
        self.members
            .iter()
            .position(|(m, _)| m == member)
            .unwrap_or(0)
    }
}

/// Folding state that the picture does not keep.
#[derive(Default)]
struct Folder {
    t: Timeline,
    faults: FaultPairer,
    bucket_us: u64,
    /// (group, tp) -> open ownerships.
    open: BTreeMap<(String, TopicPartition), Vec<Span<Owner>>>,
    /// Each broker's log end offset per partition.
    leo: BTreeMap<(BrokerId, TopicPartition), u64>,
}

/// Builds the model from a run's events and violations.
pub fn build(history: &[Event], violations: &[Violation], end_us: u64) -> Timeline {
    let end_us = history
        .iter()
        .map(|e| e.at_us)
        .chain(violations.iter().map(|v| v.at_us))
        .fold(end_us, u64::max)
        .max(1);
    let mut f = Folder {
        bucket_us: (end_us / BUCKETS).max(1),
        ..Folder::default()
    };
    f.t.end_us = end_us;
    for e in history {
        f.faults.observe(e);
        f.observe(e);
    }
    f.finish(violations)
}

impl Folder {
    fn observe(&mut self, e: &Event) {
        use EventKind::*;
        match &e.kind {
            Crashed { .. } if matches!(e.node, NodeId::Consumer(_)) => self.consumer_down(e),
            Assigned {
                group,
                generation,
                member_id,
                partitions,
            } => self.assigned(e, group, *generation, member_id, partitions),
            Revoked {
                group,
                member_id,
                partitions,
                lost,
                ..
            } => {
                let how = if *lost { "lost" } else { "revoked" };
                for tp in partitions {
                    self.close(group, tp, member_id, e.at_us, how);
                }
            }
            MemberLeft {
                group,
                member_id,
                reason,
            } => self.member_gone(Some(group), member_id, e.at_us, &format!("left ({reason})")),
            MemberJoined { member_id, .. } => self.note_member(member_id, e.node),
            GroupState { .. } => self.group_state(e),
            CommitResult { .. } | CommitFailed { .. } => self.commit(e),
            PartitionChanged { state, reason, .. } => {
                self.partition_changed(e.at_us, state, reason)
            }
            _ => self.replica(e),
        }
    }

    fn note_member(&mut self, member: &str, node: NodeId) {
        if !self.t.members.iter().any(|(m, _)| m == member) {
            self.t.members.push((member.to_string(), node));
        }
    }

    fn assigned(&mut self, e: &Event, group: &str, gen: i32, member: &str, tps: &[TopicPartition]) {
        self.note_member(member, e.node);
        // The assignment is the member's whole one: what it held and is not in it has ended.
        let held: Vec<TopicPartition> = self
            .open
            .iter()
            .filter(|((g, tp), v)| {
                g == group && !tps.contains(tp) && v.iter().any(|s| s.what.member == member)
            })
            .map(|((_, tp), _)| tp.clone())
            .collect();
        for tp in &held {
            self.close(group, tp, member, e.at_us, "reassigned");
        }
        let lanes = self.t.groups.entry(group.to_string()).or_default();
        for tp in tps {
            lanes.owners.entry(tp.clone()).or_default();
            let open = self
                .open
                .entry((group.to_string(), tp.clone()))
                .or_default();
            if let Some(s) = open.iter_mut().find(|s| s.what.member == member) {
                s.what.generation = gen; // Kept across the rebalance (cooperative).
                continue;
            }
            open.push(Span {
                start_us: e.at_us,
                end_us: u64::MAX,
                what: Owner {
                    member: member.to_string(),
                    generation: gen,
                    ended_by: String::new(),
                },
            });
        }
    }

    fn close(&mut self, group: &str, tp: &TopicPartition, member: &str, at: u64, how: &str) {
        let Some(open) = self.open.get_mut(&(group.to_string(), tp.clone())) else {
            return;
        };
        let Some(i) = open.iter().position(|s| s.what.member == member) else {
            return;
        };
        let mut s = open.remove(i);
        s.end_us = at;
        s.what.ended_by = how.to_string();
        let lanes = self.t.groups.entry(group.to_string()).or_default();
        lanes.owners.entry(tp.clone()).or_default().push(s);
    }

    /// Ends every ownership of `member` (in `group`, or in any group).
    fn member_gone(&mut self, group: Option<&str>, member: &str, at: u64, how: &str) {
        let keys: Vec<(String, TopicPartition)> = self
            .open
            .iter()
            .filter(|((g, _), v)| {
                group.is_none_or(|x| x == g) && v.iter().any(|s| s.what.member == member)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for (g, tp) in keys {
            self.close(&g, &tp, member, at, how);
        }
    }

    /// A consumer crash ends everything its members owned.
    fn consumer_down(&mut self, e: &Event) {
        let members: Vec<String> = self
            .t
            .members
            .iter()
            .filter(|(_, n)| *n == e.node)
            .map(|(m, _)| m.clone())
            .collect();
        for m in members {
            self.member_gone(None, &m, e.at_us, "crash");
        }
    }

    fn group_state(&mut self, e: &Event) {
        let EventKind::GroupState {
            group,
            state,
            generation,
            members,
            leader,
        } = &e.kind
        else {
            return;
        };
        let lanes = self.t.groups.entry(group.clone()).or_default();
        if let Some(last) = lanes.phases.last_mut() {
            last.end_us = e.at_us;
        }
        if lanes.generations.last().map(|g| g.1) != Some(*generation) {
            lanes.generations.push((e.at_us, *generation));
        }
        lanes.phases.push(Span {
            start_us: e.at_us,
            end_us: u64::MAX,
            what: GroupPhase {
                state: state.clone(),
                generation: *generation,
                coordinator: e.node.to_string(),
                members: members.clone(),
                leader: leader.clone(),
            },
        });
    }

    /// A commit answered by the coordinator, or failed in the client.
    fn commit(&mut self, e: &Event) {
        let (group, member_id, offsets, outcome, ok) = match &e.kind {
            EventKind::CommitResult {
                group,
                generation,
                member_id,
                offsets,
                error,
            } => (
                group,
                format!("{member_id} g{generation}"),
                offsets,
                error.to_string(),
                error.is_ok(),
            ),
            EventKind::CommitFailed {
                group,
                member_id,
                offsets,
                exception,
            } => (group, member_id.clone(), offsets, exception.clone(), false),
            _ => return,
        };
        let failed = u32::from(!ok);
        let bucket = self.bucket_us;
        let lanes = self.t.groups.entry(group.clone()).or_default();
        for (tp, offset) in offsets {
            let ticks = lanes.commits.entry(tp.clone()).or_default();
            let detail = format!("{member_id} {tp}@{offset} {outcome}");
            match ticks.last_mut() {
                Some(t) if t.at_us / bucket == e.at_us / bucket => {
                    t.count += 1;
                    t.failed += failed;
                    t.last_offset = *offset;
                    t.detail = detail;
                }
                _ => ticks.push(CommitTick {
                    at_us: e.at_us,
                    count: 1,
                    failed,
                    last_offset: *offset,
                    detail,
                }),
            }
        }
    }

    fn partition_changed(&mut self, at: u64, state: &PartitionState, reason: &str) {
        let lane = self.t.partitions.entry(state.tp.clone()).or_default();
        if let Some(last) = lane.states.last_mut() {
            last.end_us = at;
        }
        lane.states.push(Span {
            start_us: at,
            end_us: u64::MAX,
            what: (state.clone(), reason.to_string()),
        });
    }

    /// The controller's current leader of `tp`.
    fn leader(&self, tp: &TopicPartition) -> Option<BrokerId> {
        let lane = self.t.partitions.get(tp)?;
        lane.states.last()?.what.0.leader
    }

    fn replica(&mut self, e: &Event) {
        let NodeId::Broker(b) = e.node else { return };
        let (tp, leo) = match &e.kind {
            EventKind::Appended {
                tp,
                base_offset,
                entries,
            } => (tp, base_offset + entries.len() as u64),
            EventKind::Truncated {
                tp,
                log_end_offset,
                reason,
            } => {
                let text = format!("b{b} truncated to {log_end_offset} ({reason:?})");
                let lane = self.t.partitions.entry(tp.clone()).or_default();
                lane.truncations.push((e.at_us, text));
                (tp, *log_end_offset)
            }
            EventKind::HighWatermark { tp, high_watermark } => {
                if self.leader(tp) == Some(b) {
                    let lane = self.t.partitions.entry(tp.clone()).or_default();
                    push_sample(&mut lane.hw, e.at_us, *high_watermark, self.bucket_us);
                }
                return;
            }
            _ => return,
        };
        self.leo.insert((b, tp.clone()), leo);
        if self.leader(tp) == Some(b) {
            let lane = self.t.partitions.entry(tp.clone()).or_default();
            push_sample(&mut lane.leo, e.at_us, leo, self.bucket_us);
        }
    }

    fn finish(mut self, violations: &[Violation]) -> Timeline {
        let end = self.t.end_us;
        for ((g, tp), open) in std::mem::take(&mut self.open) {
            for mut s in open {
                s.end_us = end;
                s.what.ended_by = "end of run".into();
                let lanes = self.t.groups.entry(g.clone()).or_default();
                lanes.owners.entry(tp.clone()).or_default().push(s);
            }
        }
        for lanes in self.t.groups.values_mut() {
            for spans in lanes.owners.values_mut() {
                spans.sort_by_key(|s| (s.start_us, s.end_us));
            }
            close_last(&mut lanes.phases, end);
        }
        for lane in self.t.partitions.values_mut() {
            close_last(&mut lane.states, end);
        }
        self.t.faults = self.faults.finish(end);
        self.t.violations = violations.to_vec();
        self.t
            .violations
            .sort_by_key(|v| (v.at_us, v.kind == Kind::Liveness));
        self.t
    }
}

fn close_last<T>(spans: &mut [Span<T>], end: u64) {
    if let Some(last) = spans.last_mut() {
        if last.end_us == u64::MAX {
            last.end_us = end;
        }
    }
}

/// Appends `(at, v)` to a step series, replacing the previous point in the same time bucket so
/// that a series never has more than [`BUCKETS`] points however many changes there were.
fn push_sample(series: &mut Vec<(u64, u64)>, at: u64, v: u64, bucket_us: u64) {
    match series.last_mut() {
        Some(last) if last.1 == v => {}
        Some(last) if last.0 / bucket_us == at / bucket_us => last.1 = v,
        _ => series.push((at, v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::CrashMode;

    fn tp(p: u32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    fn ev(at_us: u64, node: NodeId, kind: EventKind) -> Event {
        Event { at_us, node, kind }
    }

    fn assigned(at: u64, c: u32, member: &str, gen: i32, tps: &[u32]) -> Event {
        let kind = EventKind::Assigned {
            group: "g".into(),
            generation: gen,
            member_id: member.into(),
            partitions: tps.iter().map(|p| tp(*p)).collect(),
        };
        ev(at, NodeId::Consumer(c), kind)
    }

    fn owners(t: &Timeline, p: u32) -> Vec<(u64, u64, String, String)> {
        t.groups["g"].owners[&tp(p)]
            .iter()
            .map(|s| {
                (
                    s.start_us,
                    s.end_us,
                    s.what.member.clone(),
                    s.what.ended_by.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn ownership_runs_from_assigned_to_revoked_crash_or_end() {
        let revoke = EventKind::Revoked {
            group: "g".into(),
            generation: 1,
            member_id: "m1".into(),
            partitions: vec![tp(0)],
            lost: false,
        };
        let history = vec![
            assigned(10, 1, "m1", 1, &[0, 1]),
            assigned(12, 2, "m2", 1, &[2]),
            ev(50, NodeId::Consumer(1), revoke),
            ev(
                60,
                NodeId::Consumer(2),
                EventKind::Crashed {
                    mode: CrashMode::Process,
                },
            ),
            assigned(70, 1, "m1", 2, &[0, 1, 2]),
        ];
        let t = build(&history, &[], 100);
        let s = |a, b, m: &str, how: &str| (a, b, m.to_string(), how.to_string());
        assert_eq!(
            owners(&t, 0),
            vec![s(10, 50, "m1", "revoked"), s(70, 100, "m1", "end of run")]
        );
        // Kept across the rebalance: one span, now in generation 2.
        assert_eq!(owners(&t, 1), vec![s(10, 100, "m1", "end of run")]);
        assert_eq!(t.groups["g"].owners[&tp(1)][0].what.generation, 2);
        assert_eq!(
            owners(&t, 2),
            vec![s(12, 60, "m2", "crash"), s(70, 100, "m1", "end of run")]
        );
        assert_eq!(t.member_index("m2"), 1);
    }

    #[test]
    fn a_new_assignment_ends_what_it_leaves_out() {
        let history = vec![
            assigned(10, 1, "m1", 1, &[0, 1]),
            assigned(30, 1, "m1", 2, &[1]),
        ];
        let t = build(&history, &[], 40);
        assert_eq!(owners(&t, 0)[0].1, 30);
        assert_eq!(owners(&t, 0)[0].3, "reassigned");
    }

    #[test]
    fn generations_are_marked_once_each_and_hw_is_sampled() {
        let gs = |at, state: &str, generation| {
            let kind = EventKind::GroupState {
                group: "g".into(),
                state: state.into(),
                generation,
                members: vec![],
                leader: None,
            };
            ev(at, NodeId::Broker(1), kind)
        };
        let mut history = vec![
            gs(1, "PreparingRebalance", 0),
            gs(2, "CompletingRebalance", 1),
        ];
        history.push(gs(3, "Stable", 1));
        let state = PartitionState {
            tp: tp(0),
            replicas: vec![1, 2],
            leader: Some(1),
            leader_epoch: 0,
            isr: vec![1, 2],
            partition_epoch: 0,
            elr: Vec::new(),
            last_known_elr: Vec::new(),
        };
        let reason = "create".to_string();
        history.push(ev(
            4,
            NodeId::Controller,
            EventKind::PartitionChanged {
                state,
                reason,
                unclean_election: false,
            },
        ));
        for i in 0..100_000u64 {
            let kind = EventKind::HighWatermark {
                tp: tp(0),
                high_watermark: i,
            };
            history.push(ev(10 + i, NodeId::Broker(1 + (i % 2) as u32), kind));
        }
        let t = build(&history, &[], 200_000);
        assert_eq!(t.groups["g"].generations, vec![(1, 0), (2, 1)]);
        assert_eq!(t.groups["g"].phases.len(), 3);
        let hw = &t.partitions[&tp(0)].hw;
        assert!(hw.len() <= BUCKETS as usize + 1, "{} points", hw.len());
        assert_eq!(
            hw.last().unwrap().1,
            99_998,
            "only the leader b1's high watermark counts"
        );
    }
}
