//! An assign-mode consumer (`KafkaConsumer.assign()`, no group) as a sans-IO core.
//!
//! For each assigned partition it finds its start with ListOffsets (`auto.offset.reset`), then
//! long-polls the leader with Fetch carrying its leader epoch (KIP-320), one request per leader
//! broker. OFFSET_OUT_OF_RANGE resets the position per `auto.offset.reset` (`none` stops reading
//! the partition, as Kafka's consumer throws); a moved leader means refreshing metadata.
//!
//! Designed to grow into the group consumer: positions and fetching do not care whether the
//! assignment came from `assign()` or from a rebalance.

use super::metadata::ClientMetadata;
use super::network::{Arrival, ClientTimer, NetworkClient};
use crate::config::{OffsetReset, ReaderConfig};
use crate::effects::Effects;
use crate::history::EventKind;
use crate::protocol::message::*;
use crate::protocol::{BrokerId, ErrorCode, Millis, NodeId, TopicName, TopicPartition};
use std::collections::{BTreeMap, BTreeSet};

/// Pause after an error before trying a partition again (`retry.backoff.ms`).
const RETRY_BACKOFF_MS: Millis = 100;

/// Where the reader is in one partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// Needs a ListOffsets per the reset policy.
    Reset(OffsetReset),
    /// The next offset to fetch.
    At(u64),
    /// `auto.offset.reset=none` hit an out-of-range position: Kafka's consumer throws.
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Timer {
    RequestTimeout(u64),
    Wake,
}

impl ClientTimer for Timer {
    fn request_timeout(correlation_id: u64) -> Self {
        Timer::RequestTimeout(correlation_id)
    }
    fn wake() -> Self {
        Timer::Wake
    }
}

/// What a request in flight is for.
#[derive(Clone, Debug)]
enum Inflight {
    Fetch { partitions: Vec<u32> },
    ListOffsets(u32),
}

pub struct Reader {
    cfg: ReaderConfig,
    /// The topic's name, shared by every partition this reader names.
    topic: TopicName,
    /// Broken variant (tests only): advance one offset too far after each poll.
    pub skips_after_poll: bool,
    positions: BTreeMap<u32, Position>,
    backoff_until: BTreeMap<u32, Millis>,
    busy: BTreeSet<u32>,
    net: NetworkClient<Inflight, Timer>,
}

impl Reader {
    /// A reader `r{index}` of `partitions` of its topic, in a cluster of `brokers` brokers.
    pub fn new(index: u32, cfg: ReaderConfig, partitions: Vec<u32>, brokers: u32) -> Self {
        let positions = partitions
            .iter()
            .map(|p| (*p, Position::Reset(cfg.auto_offset_reset)))
            .collect();
        let metadata = ClientMetadata::new(brokers, index as usize);
        let mut net = NetworkClient::new(metadata, cfg.request_timeout_ms);
        net.wake(0);
        Reader {
            skips_after_poll: false,
            topic: crate::protocol::topic_name(&cfg.topic),
            cfg,
            positions,
            backoff_until: BTreeMap::new(),
            busy: BTreeSet::new(),
            net,
        }
    }

    pub fn positions(&self) -> &BTreeMap<u32, Position> {
        &self.positions
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.net.timers.next_deadline()
    }

    fn tp(&self, partition: u32) -> TopicPartition {
        TopicPartition::new(self.topic.clone(), partition)
    }

    pub fn tick(&mut self, now: Millis, out: &mut Effects) {
        while let Some(t) = self.net.timers.pop_due(now) {
            match t {
                Timer::Wake => self.net.woke(),
                Timer::RequestTimeout(corr) => self.on_timeout(now, corr),
            }
        }
        self.poll(now, out);
    }

    /// Sends every request that is due: ListOffsets for partitions to reset, one Fetch per leader.
    fn poll(&mut self, now: Millis, out: &mut Effects) {
        let mut fetches: BTreeMap<BrokerId, Vec<FetchPartition>> = BTreeMap::new();
        let mut need_metadata = false;
        let idle: Vec<(u32, Position)> = self
            .positions
            .iter()
            .filter(|(p, _)| !self.busy.contains(p))
            .map(|(p, pos)| (*p, *pos))
            .collect();
        for (p, pos) in idle {
            if let Some(until) = self.backoff_until.get(&p).filter(|u| **u > now).copied() {
                self.net.wake(until);
                continue;
            }
            let Some((leader, epoch)) = self.net.metadata.leader(&self.tp(p)) else {
                need_metadata = pos != Position::Failed;
                continue;
            };
            match pos {
                Position::Failed => {}
                Position::Reset(policy) => {
                    self.send_list_offsets(now, p, policy, leader, epoch, out)
                }
                Position::At(offset) => fetches.entry(leader).or_default().push(FetchPartition {
                    tp: self.tp(p),
                    fetch_offset: offset,
                    current_leader_epoch: epoch,
                    last_fetched_epoch: crate::protocol::NO_EPOCH,
                }),
            }
        }
        for (broker, partitions) in fetches {
            let ids: Vec<u32> = partitions.iter().map(|p| p.tp.partition).collect();
            self.busy.extend(ids.iter().copied());
            let req = FetchRequest {
                replica_state: None,
                max_wait_ms: self.cfg.fetch_max_wait_ms,
                max_records: self.cfg.max_poll_records,
                partitions,
            };
            self.net.send(
                now,
                NodeId::Broker(broker),
                Inflight::Fetch { partitions: ids },
                Request::Fetch(req),
                out,
            );
        }
        if need_metadata {
            self.refresh_metadata(now, out);
        }
    }

    fn send_list_offsets(
        &mut self,
        now: Millis,
        p: u32,
        policy: OffsetReset,
        leader: BrokerId,
        epoch: i32,
        out: &mut Effects,
    ) {
        let spec = match policy {
            OffsetReset::Earliest => OffsetSpec::Earliest,
            OffsetReset::Latest => OffsetSpec::Latest,
            OffsetReset::None => {
                // No committed position to fall back on and no reset allowed.
                self.positions.insert(p, Position::Failed);
                return;
            }
        };
        self.busy.insert(p);
        let req = ListOffsetsRequest {
            tp: self.tp(p),
            spec,
            current_leader_epoch: epoch,
        };
        self.net.send(
            now,
            NodeId::Broker(leader),
            Inflight::ListOffsets(p),
            Request::ListOffsets(req),
            out,
        );
    }

    fn refresh_metadata(&mut self, now: Millis, out: &mut Effects) {
        let topics = vec![self.cfg.topic.clone()];
        self.net
            .refresh_metadata(now, RETRY_BACKOFF_MS, topics, out);
    }

    fn on_timeout(&mut self, now: Millis, corr: u64) {
        if let Some(kind) = self.net.expire(corr) {
            self.release(now, kind, true);
        }
    }

    /// Frees the partitions of a finished request; after a failure they back off and the
    /// metadata is refreshed.
    fn release(&mut self, now: Millis, kind: Inflight, failed: bool) {
        let parts = match kind {
            Inflight::Fetch { partitions, .. } => partitions,
            Inflight::ListOffsets(p) => vec![p],
        };
        for p in parts {
            self.busy.remove(&p);
            if failed {
                self.backoff(now, p);
            }
        }
    }

    fn backoff(&mut self, now: Millis, p: u32) {
        self.backoff_until.insert(p, now + RETRY_BACKOFF_MS);
        let tp = self.tp(p);
        self.net.metadata.invalidate(&tp);
    }

    pub fn handle(&mut self, now: Millis, from: NodeId, message: Message, out: &mut Effects) {
        let kind = match self.net.receive(now, from, message) {
            Arrival::Response(kind, body) => {
                match (&kind, body) {
                    (Inflight::ListOffsets(p), Response::ListOffsets(resp)) => {
                        self.on_list_offsets(now, *p, resp, out)
                    }
                    (Inflight::Fetch { .. }, Response::Fetch(resp)) => {
                        for part in resp.partitions {
                            self.on_fetched(now, part, out);
                        }
                    }
                    _ => {}
                }
                kind
            }
            Arrival::MetadataUpdated => return self.poll(now, out),
            // `from`'s process died: its requests in flight fail as timed-out ones do (Kafka's
            // `Fetcher` handles a disconnected fetch as a failed one).
            Arrival::Closed(failed) => {
                for corr in failed {
                    self.on_timeout(now, corr);
                }
                return self.poll(now, out);
            }
            Arrival::Nothing => return,
        };
        self.release(now, kind, false);
        self.poll(now, out);
    }

    fn on_list_offsets(
        &mut self,
        now: Millis,
        p: u32,
        resp: ListOffsetsResponse,
        out: &mut Effects,
    ) {
        if !resp.error.is_ok() {
            self.backoff(now, p);
            return;
        }
        let reason = match self.positions.get(&p) {
            Some(Position::Reset(policy)) => format!("auto.offset.reset={policy:?}").to_lowercase(),
            _ => return,
        };
        self.positions.insert(p, Position::At(resp.offset));
        out.event(EventKind::PositionReset {
            tp: resp.tp,
            offset: resp.offset,
            reason,
        });
    }

    fn on_fetched(&mut self, now: Millis, part: FetchPartitionResponse, out: &mut Effects) {
        let p = part.tp.partition;
        let Some(Position::At(position)) = self.positions.get(&p).copied() else {
            return;
        };
        match part.error {
            ErrorCode::None if part.base_offset == position => {}
            ErrorCode::None => return,
            ErrorCode::OffsetOutOfRange => {
                self.positions
                    .insert(p, Position::Reset(self.cfg.auto_offset_reset));
                if self.cfg.auto_offset_reset == OffsetReset::None {
                    self.positions.insert(p, Position::Failed);
                    out.event(EventKind::PositionReset {
                        tp: part.tp,
                        offset: position,
                        reason: "OFFSET_OUT_OF_RANGE with auto.offset.reset=none".into(),
                    });
                }
                return;
            }
            _ => {
                self.backoff(now, p);
                return;
            }
        }
        if part.entries.is_empty() {
            return;
        }
        let values = part
            .entries
            .iter()
            .map(|e| e.payload.value())
            .collect::<Vec<_>>();
        self.positions.insert(
            p,
            Position::At(position + values.len() as u64 + u64::from(self.skips_after_poll)),
        );
        out.event(EventKind::Polled {
            tp: part.tp,
            base_offset: position,
            values,
            high_watermark: part.high_watermark,
        });
    }
}

#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;
