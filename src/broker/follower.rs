//! The follower's side of a broker: one fetch session per leader broker (Kafka's replica fetcher
//! threads), the OffsetsForLeaderEpoch exchange before fetching, and applying fetched entries.

use super::replica::{FollowerPhase, FollowerState};
use super::{Broker, Inflight};
use crate::effects::Effects;
use crate::history::{EventKind, TruncateReason};
use crate::protocol::message::*;
use crate::protocol::{BrokerId, ErrorCode, LeaderEpoch, Millis, NodeId, TopicPartition};
use std::collections::BTreeMap;

/// An OffsetsForLeaderEpoch request in flight: its partition, the leader it went to and the
/// leader epoch the follower was in when it sent it.
#[derive(Clone, Debug)]
pub struct EpochLookup {
    pub tp: TopicPartition,
    pub leader: BrokerId,
    pub current_leader_epoch: LeaderEpoch,
}

/// Per leader broker: is a fetch in flight, and until when to back off after a failure.
#[derive(Clone, Debug, Default)]
pub struct Fetchers {
    sessions: BTreeMap<BrokerId, Session>,
}

#[derive(Clone, Debug, Default)]
struct Session {
    in_flight: bool,
    backoff_until: Millis,
}

impl Fetchers {
    /// The fetch to `leader` failed or timed out: back off (`replica.fetch.backoff.ms`).
    pub fn failed(&mut self, now: Millis, leader: BrokerId, backoff_ms: u64) {
        let s = self.sessions.entry(leader).or_default();
        s.in_flight = false;
        s.backoff_until = now + backoff_ms;
    }

    fn ready(&self, now: Millis, leader: BrokerId) -> bool {
        self.sessions
            .get(&leader)
            .is_none_or(|s| !s.in_flight && s.backoff_until <= now)
    }

    /// The earliest backoff end still ahead of `now`.
    pub fn next_backoff_end(&self, now: Millis) -> Option<Millis> {
        self.sessions
            .values()
            .filter(|s| !s.in_flight && s.backoff_until > now)
            .map(|s| s.backoff_until)
            .min()
    }
}

impl Broker {
    /// Sends every follower request that is due: leader-epoch lookups for partitions that must
    /// truncate, and one fetch per leader for partitions that are fetching.
    pub(super) fn send_follower_requests(&mut self, now: Millis, out: &mut Effects) {
        self.send_epoch_lookups(now, out);
        let mut by_leader: BTreeMap<BrokerId, Vec<FetchPartition>> = BTreeMap::new();
        for r in self.replicas.values() {
            let super::replica::Role::Follower(f) = &r.role else {
                continue;
            };
            let (Some(leader), FollowerPhase::Fetching) = (f.leader, f.phase) else {
                continue;
            };
            if f.backoff_until > now || !self.fetchers.ready(now, leader) {
                continue;
            }
            by_leader.entry(leader).or_default().push(FetchPartition {
                tp: r.tp.clone(),
                fetch_offset: r.log.log_end_offset(),
                current_leader_epoch: r.leader_epoch,
                last_fetched_epoch: r.log.last_entry_epoch(),
            });
        }
        for (leader, partitions) in by_leader {
            tracing::debug!(broker = self.id, leader, n = partitions.len(), "fetch sent");
            let req = FetchRequest {
                replica_state: Some(ReplicaState {
                    replica_id: self.id,
                    replica_epoch: self.incarnation,
                }),
                max_wait_ms: self.cfg.cluster.replica_fetch_wait_max_ms,
                max_records: self.cfg.cluster.replica_fetch_max_records,
                partitions,
            };
            self.send_request(
                now,
                NodeId::Broker(leader),
                Inflight::Fetch(leader),
                Request::Fetch(req),
                out,
            );
            self.fetchers.sessions.entry(leader).or_default().in_flight = true;
        }
        if let Some(at) = self.fetchers.next_backoff_end(now) {
            self.wake_at(at);
        }
    }

    /// Makes sure `tick` runs when a backoff ends, without piling up wake-ups.
    fn wake_at(&mut self, at: Millis) {
        if self.wake_scheduled_at.is_none_or(|w| w > at) {
            self.wake_scheduled_at = Some(at);
            self.timers.schedule(at, super::Timer::Wake);
        }
    }

    fn send_epoch_lookups(&mut self, now: Millis, out: &mut Effects) {
        let due: Vec<(TopicPartition, BrokerId)> = self
            .replicas
            .values()
            .filter_map(|r| match &r.role {
                super::replica::Role::Follower(f)
                    if f.phase == (FollowerPhase::Truncating { in_flight: false })
                        && f.backoff_until <= now =>
                {
                    f.leader.map(|l| (r.tp.clone(), l))
                }
                _ => None,
            })
            .collect();
        for (tp, leader) in due {
            let r = self.replicas.get_mut(&tp).expect("listed above");
            let latest = r.log.latest_epoch();
            if latest == crate::protocol::NO_EPOCH {
                // An empty log has nothing to truncate.
                if let Some(f) = r.follower_state_mut() {
                    f.phase = FollowerPhase::Fetching;
                }
                continue;
            }
            let req = OffsetsForLeaderEpochRequest {
                replica_id: self.id,
                tp: tp.clone(),
                current_leader_epoch: r.leader_epoch,
                leader_epoch: latest,
            };
            if let Some(f) = r.follower_state_mut() {
                f.phase = FollowerPhase::Truncating { in_flight: true };
            }
            tracing::debug!(broker = self.id, %tp, leader, epoch = latest, "OffsetsForLeaderEpoch sent");
            let lookup = EpochLookup {
                tp,
                leader,
                current_leader_epoch: req.current_leader_epoch,
            };
            self.send_request(
                now,
                NodeId::Broker(leader),
                Inflight::OffsetsForLeaderEpoch(lookup),
                Request::OffsetsForLeaderEpoch(req),
                out,
            );
        }
    }

    /// The follower state of `lookup`'s partition if the lookup is the one in flight now: the
    /// replica still follows the leader it asked, in the leader epoch it asked in. Kafka's
    /// `AbstractFetcherThread.truncateToEpochEndOffsets` drops an answer whose
    /// `currentLeaderEpoch` differs from the partition's fetch state ("no leadership and no
    /// leader epoch changes happened whilst we were unlocked"): an answer from a deposed leader
    /// describes a log this replica no longer follows.
    pub(super) fn current_lookup(&mut self, lookup: &EpochLookup) -> Option<&mut FollowerState> {
        let r = self.replicas.get_mut(&lookup.tp)?;
        if r.leader_epoch != lookup.current_leader_epoch {
            return None;
        }
        r.follower_state_mut().filter(|f| {
            f.leader == Some(lookup.leader)
                && f.phase == (FollowerPhase::Truncating { in_flight: true })
        })
    }

    /// Truncates per the leader's answer (KIP-101/279), then fetches, or asks again.
    pub(super) fn on_offsets_for_leader_epoch_response(
        &mut self,
        now: Millis,
        lookup: EpochLookup,
        resp: OffsetsForLeaderEpochResponse,
        out: &mut Effects,
    ) {
        let kip101 = self.cfg.switches.kip101_epoch_lookup;
        let skip_truncation = self.cfg.switches.skip_follower_truncation;
        let backoff = now + self.cfg.cluster.replica_fetch_backoff_ms;
        let tp = lookup.tp.clone();
        tracing::debug!(broker = self.id, %tp, leader = lookup.leader, error = %resp.error, epoch = resp.leader_epoch, end = resp.end_offset, "OffsetsForLeaderEpoch answered");
        if self.current_lookup(&lookup).is_none() {
            tracing::debug!(broker = self.id, %tp, "stale OffsetsForLeaderEpoch answer ignored");
            return;
        }
        let r = self.replicas.get_mut(&tp).expect("current_lookup found it");
        if !resp.error.is_ok() {
            let f = r.follower_state_mut().expect("checked above");
            f.phase = FollowerPhase::Truncating { in_flight: false };
            f.backoff_until = backoff;
            return;
        }
        let (offset, complete) = if skip_truncation {
            (r.log.log_end_offset(), true)
        } else {
            r.truncation_offset(resp.leader_epoch, resp.end_offset, kip101)
        };
        if r.truncate_to(offset) {
            out.event(EventKind::Truncated {
                tp: tp.clone(),
                log_end_offset: r.log.log_end_offset(),
                reason: TruncateReason::LeaderEpoch,
            });
        }
        let f = r.follower_state_mut().expect("checked above");
        f.phase = if complete {
            FollowerPhase::Fetching
        } else {
            FollowerPhase::Truncating { in_flight: false }
        };
    }

    /// Applies a fetch response from `leader`.
    pub(super) fn on_fetch_response(
        &mut self,
        now: Millis,
        leader: BrokerId,
        resp: FetchResponse,
        out: &mut Effects,
    ) {
        self.fetchers.sessions.entry(leader).or_default().in_flight = false;
        for p in resp.partitions {
            self.apply_fetched_partition(now, leader, p, out);
        }
    }

    fn apply_fetched_partition(
        &mut self,
        now: Millis,
        leader: BrokerId,
        p: FetchPartitionResponse,
        out: &mut Effects,
    ) {
        let backoff = now + self.cfg.cluster.replica_fetch_backoff_ms;
        let Some(r) = self.replicas.get_mut(&p.tp) else {
            return;
        };
        let epoch = r.leader_epoch;
        let Some(f) = r.follower_state_mut() else {
            return;
        };
        tracing::debug!(broker = self.id, tp = %p.tp, leader, error = %p.error, their_epoch = p.leader_epoch, epoch, phase = ?f.phase, "fetched");
        if f.leader != Some(leader) || f.phase != FollowerPhase::Fetching || p.leader_epoch != epoch
        {
            if !p.error.is_ok() {
                f.backoff_until = backoff;
            }
            return;
        }
        match p.error {
            ErrorCode::None => {}
            ErrorCode::OffsetOutOfRange => {
                self.on_fetch_out_of_range(p, out);
                return;
            }
            _ => {
                f.backoff_until = backoff;
                return;
            }
        }
        if p.base_offset != r.log.log_end_offset() {
            return; // a stale answer to an older fetch position
        }
        if !p.entries.is_empty() {
            let base_offset = r.log.log_end_offset();
            r.log.append(p.entries.iter().cloned());
            out.event(EventKind::Appended {
                tp: p.tp.clone(),
                base_offset,
                entries: p.entries,
            });
        }
        if p.log_start_offset > r.log.log_start_offset()
            && r.log
                .advance_log_start(p.log_start_offset, r.high_watermark.max(p.log_start_offset))
        {
            out.event(EventKind::LogStartMoved {
                tp: p.tp.clone(),
                log_start_offset: r.log.log_start_offset(),
            });
        }
        let hw = p.high_watermark.min(r.log.log_end_offset());
        if hw > r.high_watermark {
            r.high_watermark = hw;
            out.event(EventKind::HighWatermark {
                tp: p.tp.clone(),
                high_watermark: hw,
            });
        }
    }

    /// The follower's position is outside the leader's log: below its start means retention
    /// deleted what we need, so start over at the leader's log start (Kafka's
    /// `truncateFullyAndStartAt`); above its end means we must truncate again.
    fn on_fetch_out_of_range(&mut self, p: FetchPartitionResponse, out: &mut Effects) {
        let Some(r) = self.replicas.get_mut(&p.tp) else {
            return;
        };
        if r.log.log_end_offset() < p.log_start_offset {
            let old_start = r.log.log_start_offset();
            r.log = super::log::PartitionLog::starting_at(p.log_start_offset);
            r.high_watermark = p.log_start_offset;
            out.event(EventKind::Truncated {
                tp: p.tp.clone(),
                log_end_offset: old_start,
                reason: TruncateReason::OutOfRange,
            });
            out.event(EventKind::LogStartMoved {
                tp: p.tp.clone(),
                log_start_offset: p.log_start_offset,
            });
        } else if let Some(f) = r.follower_state_mut() {
            f.phase = FollowerPhase::Truncating { in_flight: false };
        }
    }
}
