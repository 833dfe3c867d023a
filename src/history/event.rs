//! The events of a run. Every role core reports what it did as [`EventKind`]s; the simulator
//! stamps them with simulated time and node and appends them to the [`super::History`].
//!
//! Events say what a node *did or saw*, never what it *is*: checkers rebuild the state they need
//! (ghost logs, true high watermark, ownership) from these alone.

use crate::config::CrashMode;
use crate::protocol::message::{Acks, PartitionState};
use crate::protocol::{
    BrokerId, ErrorCode, LeaderEpoch, LogEntry, NodeId, ProducedValue, TopicPartition,
};
use std::fmt;

/// One event: when (simulated microseconds from the start), where, what.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct Event {
    pub at_us: u64,
    pub node: NodeId,
    pub kind: EventKind,
}

/// What happened. Offsets are Kafka's: `base_offset` is the offset of the first entry listed.
#[derive(Clone, Debug, PartialEq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    // --- nodes and faults -------------------------------------------------------------------
    /// The node stopped (a crash fault).
    Crashed {
        mode: CrashMode,
    },
    /// The node started again after a crash.
    Restarted,
    /// A fault began or ended; `what` is its one-line description.
    Fault {
        what: String,
    },

    // --- a broker's partition replica ---------------------------------------------------------
    /// Entries were appended to this broker's log (as leader, or fetched as follower).
    Appended {
        tp: TopicPartition,
        base_offset: u64,
        entries: Vec<LogEntry>,
    },
    /// The log was cut back so that its end offset is now `log_end_offset`.
    Truncated {
        tp: TopicPartition,
        log_end_offset: u64,
        reason: TruncateReason,
    },
    /// Retention (or a follower catching up with its leader) moved the log start offset.
    LogStartMoved {
        tp: TopicPartition,
        log_start_offset: u64,
    },
    /// This broker's high watermark for the partition is now `high_watermark`.
    HighWatermark {
        tp: TopicPartition,
        high_watermark: u64,
    },
    /// This broker became leader in `leader_epoch`; its epoch starts at `epoch_start_offset`.
    BecameLeader {
        tp: TopicPartition,
        leader_epoch: LeaderEpoch,
        epoch_start_offset: u64,
        isr: Vec<BrokerId>,
    },
    /// This broker follows `leader` (none: the partition is offline) in `leader_epoch`.
    BecameFollower {
        tp: TopicPartition,
        leader_epoch: LeaderEpoch,
        leader: Option<BrokerId>,
    },
    /// The leader's own view of the ISR changed (AlterPartition committed or metadata applied).
    LeaderIsr {
        tp: TopicPartition,
        leader_epoch: LeaderEpoch,
        isr: Vec<BrokerId>,
    },

    // --- the controller -----------------------------------------------------------------------
    /// The controller committed a new state for a partition (leader, epoch, ISR).
    PartitionChanged {
        state: PartitionState,
        reason: String,
        /// The new leader came from neither the ISR nor the ELR (Kafka's unclean election: the
        /// last known leader, or `unclean.leader.election.enable`): records may be lost.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        unclean_election: bool,
    },
    BrokerFenced {
        broker: BrokerId,
        reason: String,
    },
    BrokerUnfenced {
        broker: BrokerId,
    },
    /// The controller registered a new process of `broker` (KRaft's `RegisterBrokerRecord`):
    /// from here on it knows the old process is gone and how it ended.
    BrokerRegistered {
        broker: BrokerId,
        incarnation: u64,
    },

    // --- clients ------------------------------------------------------------------------------
    /// A producer handed values to a batch for `tp`.
    Sent {
        tp: TopicPartition,
        values: Vec<ProducedValue>,
    },
    /// The partition leader acknowledged a batch: `values[i]` is at `base_offset + i`.
    Acked {
        tp: TopicPartition,
        acks: Acks,
        base_offset: u64,
        values: Vec<ProducedValue>,
    },
    /// A batch failed. `definite` is false when the write may still have happened (a timeout).
    SendFailed {
        tp: TopicPartition,
        values: Vec<ProducedValue>,
        error: ErrorCode,
        definite: bool,
    },
    /// A reader received entries: `values[i]` is at `base_offset + i`; the leader served it
    /// with this high watermark.
    Polled {
        tp: TopicPartition,
        base_offset: u64,
        values: Vec<ProducedValue>,
        high_watermark: u64,
    },
    /// A reader moved its position without reading (`auto.offset.reset`, or its start).
    PositionReset {
        tp: TopicPartition,
        offset: u64,
        reason: String,
    },

    // --- group consumers ------------------------------------------------------------------------
    /// JoinGroup succeeded: this member is in `generation` (and leads it).
    MemberJoined {
        group: String,
        generation: i32,
        member_id: String,
        leader: bool,
    },
    /// After SyncGroup: the member's whole assignment in `generation`.
    Assigned {
        group: String,
        generation: i32,
        member_id: String,
        partitions: Vec<TopicPartition>,
    },
    /// The member gave partitions up (`lost`: it was fenced and could not commit them).
    Revoked {
        group: String,
        generation: i32,
        member_id: String,
        partitions: Vec<TopicPartition>,
        lost: bool,
    },
    /// The member left the group (LeaveGroup sent, or a fatal error).
    MemberLeft {
        group: String,
        member_id: String,
        reason: String,
    },
    /// The application finished processing records: `values[i]` is at `base_offset + i`.
    Processed {
        group: String,
        generation: i32,
        member_id: String,
        tp: TopicPartition,
        base_offset: u64,
        values: Vec<ProducedValue>,
    },
    /// An OffsetCommit was answered.
    CommitResult {
        group: String,
        generation: i32,
        member_id: String,
        offsets: Vec<(TopicPartition, u64)>,
        error: ErrorCode,
    },
    /// The member learned the committed offset it starts from (none: nothing committed).
    OffsetFetched {
        group: String,
        tp: TopicPartition,
        offset: Option<u64>,
    },

    // --- the group coordinator ------------------------------------------------------------------
    /// A group's state or generation changed at its coordinator.
    GroupState {
        group: String,
        state: String,
        generation: i32,
        members: Vec<String>,
        leader: Option<String>,
    },
    /// The coordinator answered an OffsetFetch with these committed offsets.
    OffsetsServed {
        group: String,
        offsets: Vec<(TopicPartition, Option<u64>)>,
    },
    /// The coordinator accepted an OffsetCommit (its records are being appended).
    CommitApplied {
        group: String,
        generation: i32,
        member_id: String,
        offsets: Vec<(TopicPartition, u64)>,
    },

    // --- added later; kept last so that earlier variants keep their discriminants, which the
    // trace hash covers -----------------------------------------------------------------------
    /// `commitSync` failed in the client, no request sent: the member is not in a stable
    /// generation (Kafka's `generationIfStable()` is null). `exception` is
    /// `RebalanceInProgressException` while the member rejoins, else `CommitFailedException`
    /// (its generation was reset, e.g. when `max.poll.interval.ms` passed).
    CommitFailed {
        group: String,
        member_id: String,
        offsets: Vec<(TopicPartition, u64)>,
        exception: String,
    },
}

/// Why a log was truncated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TruncateReason {
    /// KIP-101/279 truncation after OffsetsForLeaderEpoch.
    LeaderEpoch,
    /// Pre-KIP-101 truncation to the high watermark.
    HighWatermark,
    /// A power loss destroyed what was not flushed.
    PowerLoss,
    /// The follower's fetch offset was below the leader's log start: start again there.
    OutOfRange,
}

/// `tp@offset` pairs, comma-separated.
fn at(offsets: &[(TopicPartition, u64)]) -> String {
    let o: Vec<String> = offsets.iter().map(|(tp, o)| format!("{tp}@{o}")).collect();
    o.join(",")
}

fn values(v: &[ProducedValue]) -> String {
    match v {
        [] => "[]".into(),
        [one] => format!("[{one}]"),
        [first, .., last] => format!("[{first}..{last}; {}]", v.len()),
    }
}

fn tps(v: &[TopicPartition]) -> String {
    let names: Vec<String> = v.iter().map(|tp| tp.to_string()).collect();
    format!("[{}]", names.join(","))
}

fn brokers(v: &[BrokerId]) -> String {
    let names: Vec<String> = v.iter().map(|b| format!("b{b}")).collect();
    format!("[{}]", names.join(","))
}

impl fmt::Display for Event {
    /// The one-line text form: `t=120.532ms b1 append orders-0 [41..44] e3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "t={}.{:03}ms {} ",
            self.at_us / 1000,
            self.at_us % 1000,
            self.node
        )?;
        write!(f, "{}", self.kind)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EventKind::*;
        match self {
            Crashed { mode } => write!(f, "crash {mode:?}"),
            Restarted => write!(f, "restart"),
            Fault { what } => write!(f, "fault {what}"),
            Appended {
                tp,
                base_offset,
                entries,
            } => {
                let last = base_offset + entries.len() as u64;
                let epochs: std::collections::BTreeSet<_> =
                    entries.iter().map(|e| e.epoch).collect();
                let epochs: Vec<String> = epochs.iter().map(|e| e.to_string()).collect();
                write!(
                    f,
                    "append {tp} [{base_offset}..{last}) e{}",
                    epochs.join(",")
                )
            }
            Truncated {
                tp,
                log_end_offset,
                reason,
            } => {
                write!(f, "truncate {tp} leo={log_end_offset} ({reason:?})")
            }
            LogStartMoved {
                tp,
                log_start_offset,
            } => write!(f, "log-start {tp} {log_start_offset}"),
            HighWatermark { tp, high_watermark } => write!(f, "hw {tp} {high_watermark}"),
            BecameLeader {
                tp,
                leader_epoch,
                epoch_start_offset,
                isr,
            } => write!(
                f,
                "leader {tp} e{leader_epoch} start={epoch_start_offset} isr={}",
                brokers(isr)
            ),
            BecameFollower {
                tp,
                leader_epoch,
                leader,
            } => match leader {
                Some(l) => write!(f, "follow {tp} e{leader_epoch} leader=b{l}"),
                None => write!(f, "follow {tp} e{leader_epoch} leader=none"),
            },
            LeaderIsr {
                tp,
                leader_epoch,
                isr,
            } => write!(f, "isr {tp} e{leader_epoch} {}", brokers(isr)),
            PartitionChanged {
                state,
                reason,
                unclean_election,
            } => {
                write!(
                    f,
                    "partition {} leader={} e{} isr={}",
                    state.tp,
                    state
                        .leader
                        .map(|l| format!("b{l}"))
                        .unwrap_or_else(|| "none".into()),
                    state.leader_epoch,
                    brokers(&state.isr),
                )?;
                // KIP-966's lists, only when present (most runs never need them).
                if !state.elr.is_empty() {
                    write!(f, " elr={}", brokers(&state.elr))?;
                }
                if !state.last_known_elr.is_empty() {
                    write!(f, " last-known={}", brokers(&state.last_known_elr))?;
                }
                write!(f, " pe{} ({reason})", state.partition_epoch)?;
                if *unclean_election {
                    write!(f, " unclean election")?;
                }
                Ok(())
            }
            BrokerFenced { broker, reason } => write!(f, "fence b{broker} ({reason})"),
            BrokerUnfenced { broker } => write!(f, "unfence b{broker}"),
            BrokerRegistered {
                broker,
                incarnation,
            } => write!(f, "register b{broker} incarnation {incarnation}"),
            Sent { tp, values: v } => write!(f, "send {tp} {}", values(v)),
            Acked {
                tp,
                acks,
                base_offset,
                values: v,
            } => {
                write!(f, "ack {tp} @{base_offset} {} acks={acks:?}", values(v))
            }
            SendFailed {
                tp,
                values: v,
                error,
                definite,
            } => {
                let how = if *definite { "failed" } else { "unknown" };
                write!(f, "send-{how} {tp} {} {error}", values(v))
            }
            Polled {
                tp,
                base_offset,
                values: v,
                high_watermark,
            } => {
                let end = base_offset + v.len() as u64;
                write!(
                    f,
                    "poll {tp} [{base_offset}..{end}) {} hw={high_watermark}",
                    values(v)
                )
            }
            PositionReset { tp, offset, reason } => write!(f, "seek {tp} {offset} ({reason})"),
            MemberJoined {
                group,
                generation,
                member_id,
                leader,
            } => {
                let role = if *leader { " leader" } else { "" };
                write!(f, "joined {group} g{generation} {member_id}{role}")
            }
            Assigned {
                group,
                generation,
                member_id,
                partitions,
            } => {
                write!(
                    f,
                    "assigned {group} g{generation} {member_id} {}",
                    tps(partitions)
                )
            }
            Revoked {
                group,
                generation,
                member_id,
                partitions,
                lost,
            } => {
                let how = if *lost { "lost" } else { "revoked" };
                write!(
                    f,
                    "{how} {group} g{generation} {member_id} {}",
                    tps(partitions)
                )
            }
            MemberLeft {
                group,
                member_id,
                reason,
            } => write!(f, "left {group} {member_id} ({reason})"),
            Processed {
                group,
                generation,
                tp,
                base_offset,
                values: v,
                ..
            } => {
                let end = base_offset + v.len() as u64;
                write!(
                    f,
                    "processed {group} g{generation} {tp} [{base_offset}..{end})"
                )
            }
            CommitResult {
                group,
                generation,
                offsets,
                error,
                ..
            } => write!(f, "commit {group} g{generation} [{}] {error}", at(offsets)),
            CommitFailed {
                group,
                offsets,
                exception,
                ..
            } => write!(f, "commit-failed {group} [{}] {exception}", at(offsets)),
            GroupState {
                group,
                state,
                generation,
                members,
                leader,
            } => write!(
                f,
                "group {group} {state} g{generation} members=[{}] leader={}",
                members.join(","),
                leader.as_deref().unwrap_or("none")
            ),
            OffsetsServed { group, offsets } => {
                let o: Vec<String> = offsets
                    .iter()
                    .map(|(tp, o)| format!("{tp}@{o:?}"))
                    .collect();
                write!(f, "offsets-served {group} [{}]", o.join(","))
            }
            CommitApplied {
                group,
                generation,
                member_id,
                offsets,
            } => write!(
                f,
                "commit-applied {group} g{generation} {member_id} [{}]",
                at(offsets)
            ),
            OffsetFetched { group, tp, offset } => match offset {
                Some(o) => write!(f, "committed-offset {group} {tp} {o}"),
                None => write!(f, "committed-offset {group} {tp} none"),
            },
        }
    }
}
