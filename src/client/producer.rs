//! A Kafka producer as a sans-IO core: records at a steady rate, keyed (murmur2) or keyless
//! (sticky partitioner, KIP-480), batched per partition (`linger.ms`, `batch.size`), one batch in
//! flight per partition, retried on retriable errors until `retries` or `delivery.timeout.ms`
//! runs out. Not idempotent: a retry after an ambiguous failure may write a duplicate, as
//! Kafka's non-idempotent producer does.
//!
//! Every batch ends in exactly one outcome event: `Acked` (with its offset), or `SendFailed` —
//! definite when no attempt can have been appended, otherwise unknown (a timeout, or an error
//! after append such as NOT_LEADER_OR_FOLLOWER from a parked request: KAFKA-13574). acks=0
//! batches have no outcome: Kafka never learns one.

use super::metadata::ClientMetadata;
use super::network::{Arrival, ClientTimer, NetworkClient};
use super::partitioner;
use crate::config::{AcksConfig, ProducerConfig};
use crate::effects::Effects;
use crate::history::EventKind;
use crate::protocol::message::*;
use crate::protocol::{
    ErrorCode, Millis, NodeId, Payload, ProducedValue, TopicName, TopicPartition,
};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

#[derive(Clone, Debug)]
struct Batch {
    partition: u32,
    created_ms: Millis,
    values: Vec<ProducedValue>,
    keys: Vec<Option<u32>>,
    first_send_ms: Option<Millis>,
    attempts: u32,
    /// Some attempt may have been appended (its outcome is not definite).
    maybe_appended: bool,
    not_before_ms: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Timer {
    NextRecord,
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
    Produce(Batch),
}

pub struct Producer {
    index: u32,
    cfg: ProducerConfig,
    /// The topic's name, shared by every partition this producer names.
    tp_topic: TopicName,
    partitions: u32,
    stop_ms: Millis,
    /// Records are spaced from here: record `origin_seq + k` is due at `origin_ms + k / rate`.
    origin_ms: Millis,
    origin_seq: u64,
    incarnation: u64,
    rng: ChaCha8Rng,
    next_seq: u64,
    sticky: Option<u32>,
    /// Per partition, the batches not yet acknowledged (Kafka's `RecordAccumulator` deques).
    /// Records go into the last batch while it is unsent and not full.
    ready: BTreeMap<u32, VecDeque<Batch>>,
    busy: BTreeSet<u32>,
    net: NetworkClient<Inflight, Timer>,
}

fn acks(a: AcksConfig) -> Acks {
    match a {
        AcksConfig::All => Acks::All,
        AcksConfig::Leader => Acks::Leader,
        AcksConfig::None => Acks::None,
    }
}

/// Whether Kafka's producer retries this error.
fn retriable(e: ErrorCode) -> bool {
    matches!(
        e,
        ErrorCode::NotLeaderOrFollower
            | ErrorCode::NotEnoughReplicas
            | ErrorCode::NotEnoughReplicasAfterAppend
            | ErrorCode::RequestTimedOut
            | ErrorCode::LeaderNotAvailable
            | ErrorCode::UnknownTopicOrPartition
            | ErrorCode::NetworkException
    )
}

/// Whether a response with this error proves the batch was not appended.
fn proves_not_appended(e: ErrorCode) -> bool {
    matches!(
        e,
        ErrorCode::NotEnoughReplicas
            | ErrorCode::UnknownTopicOrPartition
            | ErrorCode::LeaderNotAvailable
    )
}

impl Producer {
    /// A producer `p{index}` writing to a topic with `partitions` partitions in a cluster of
    /// `brokers` brokers. `rng` is this producer's own seeded stream (keys, sticky partitions).
    pub fn new(
        index: u32,
        cfg: ProducerConfig,
        partitions: u32,
        brokers: u32,
        duration_ms: Millis,
        rng: ChaCha8Rng,
    ) -> Self {
        let stop_ms = cfg.stop_ms.unwrap_or(duration_ms).min(duration_ms);
        let metadata = ClientMetadata::new(brokers, index as usize);
        let mut net = NetworkClient::new(metadata, cfg.request_timeout_ms);
        net.timers.schedule(cfg.start_ms, Timer::NextRecord);
        Producer {
            index,
            tp_topic: crate::protocol::topic_name(&cfg.topic),
            cfg,
            partitions,
            stop_ms,
            origin_ms: 0,
            origin_seq: 0,
            incarnation: 0,
            rng,
            next_seq: 0,
            sticky: None,
            ready: BTreeMap::new(),
            busy: BTreeSet::new(),
            net,
        }
    }

    /// Continues after a restart: values go on from `next_seq` (so they stay unique) and the
    /// schedule restarts at `now` (records due while the producer was down are never produced).
    pub fn resume_from(&mut self, now: Millis, next_seq: u64, incarnation: u64) {
        self.next_seq = next_seq;
        self.origin_seq = next_seq;
        self.origin_ms = now.max(self.cfg.start_ms);
        self.incarnation = incarnation;
        self.net.timers.clear();
        self.net.timers.schedule(self.origin_ms, Timer::NextRecord);
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub fn incarnation(&self) -> u64 {
        self.incarnation
    }

    /// Stops producing new records (the workload ended); what is pending is still delivered.
    pub fn stop(&mut self, now: Millis) {
        self.stop_ms = self.stop_ms.min(now);
    }

    /// True when nothing is waiting to be sent or answered.
    pub fn is_idle(&self) -> bool {
        self.ready.values().all(|q| q.is_empty()) && self.busy.is_empty()
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.net.timers.next_deadline()
    }

    pub fn tick(&mut self, now: Millis, out: &mut Effects) {
        while let Some(t) = self.net.timers.pop_due(now) {
            match t {
                Timer::NextRecord => self.produce_record(now),
                Timer::RequestTimeout(corr) => self.on_timeout(now, corr, out),
                Timer::Wake => self.net.woke(),
            }
        }
        self.send_ready(now, out);
    }

    /// The time of record number `seq` at the configured rate.
    fn record_time(&self, seq: u64) -> Millis {
        let k = seq.saturating_sub(self.origin_seq);
        self.origin_ms.max(self.cfg.start_ms) + ((k as f64) * 1000.0 / self.cfg.rate_per_s) as u64
    }

    fn produce_record(&mut self, now: Millis) {
        if now >= self.stop_ms {
            return;
        }
        let value = ProducedValue {
            producer: self.index,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        let key = (self.cfg.keys > 0).then(|| self.rng.gen_range(0..self.cfg.keys));
        let partition = match key {
            Some(k) => partitioner::partition_for_key(k, self.partitions),
            None => *self
                .sticky
                .get_or_insert_with(|| self.rng.gen_range(0..self.partitions)),
        };
        let queue = self.ready.entry(partition).or_default();
        let appendable = queue
            .back()
            .is_some_and(|b| b.attempts == 0 && (b.values.len() as u32) < self.cfg.batch_records);
        if !appendable {
            if key.is_none() && !queue.is_empty() {
                // KIP-480: a keyless record that cannot join the batch moves to a new partition.
                self.sticky = None;
            }
            queue.push_back(Batch {
                partition,
                created_ms: now,
                values: Vec::new(),
                keys: Vec::new(),
                first_send_ms: None,
                attempts: 0,
                maybe_appended: false,
                not_before_ms: 0,
            });
        }
        let batch = queue.back_mut().expect("pushed above");
        batch.values.push(value);
        batch.keys.push(key);
        let next = self.record_time(self.next_seq).max(now);
        self.net.timers.schedule(next, Timer::NextRecord);
    }

    /// A batch may go once it is full or has lingered `linger.ms` (or is a retry past its
    /// backoff). Returns when it will be sendable.
    fn sendable_at(&self, b: &Batch) -> Millis {
        if b.attempts > 0 {
            b.not_before_ms
        } else if b.values.len() as u32 >= self.cfg.batch_records || self.stop_ms <= b.created_ms {
            b.created_ms
        } else {
            b.created_ms + self.cfg.linger_ms
        }
    }

    fn tp(&self, partition: u32) -> TopicPartition {
        TopicPartition::new(self.tp_topic.clone(), partition)
    }

    /// Sends the head batch of every partition that has a known leader and nothing in flight.
    fn send_ready(&mut self, now: Millis, out: &mut Effects) {
        let partitions: Vec<u32> = self
            .ready
            .iter()
            .filter(|(_, q)| !q.is_empty())
            .map(|(p, _)| *p)
            .collect();
        let mut need_metadata = false;
        let mut wake: Option<Millis> = None;
        for p in partitions {
            if self.busy.contains(&p) {
                continue;
            }
            let at = self.ready[&p]
                .front()
                .map(|b| self.sendable_at(b))
                .unwrap_or(now);
            if at > now {
                wake = Some(wake.map_or(at, |w: Millis| w.min(at)));
                continue;
            }
            let Some((leader, _)) = self.net.metadata.leader(&self.tp(p)) else {
                need_metadata = true;
                continue;
            };
            let mut batch = self
                .ready
                .get_mut(&p)
                .and_then(|q| q.pop_front())
                .expect("head checked");
            self.send_batch(now, leader, &mut batch, out);
        }
        if let Some(at) = wake {
            self.net.wake(at);
        }
        if need_metadata || self.net.metadata.stale {
            self.refresh_metadata(now, out);
        }
    }

    fn send_batch(&mut self, now: Millis, leader: u32, batch: &mut Batch, out: &mut Effects) {
        let tp = self.tp(batch.partition);
        if batch.first_send_ms.is_none() {
            batch.first_send_ms = Some(now);
            out.event(EventKind::Sent {
                tp: tp.clone(),
                values: batch.values.clone(),
            });
        }
        batch.attempts += 1;
        let entries = batch
            .values
            .iter()
            .zip(&batch.keys)
            .map(|(value, key)| Payload::Data {
                value: *value,
                key: *key,
            })
            .collect();
        let acks = acks(self.cfg.acks);
        let req = ProduceRequest {
            tp,
            acks,
            timeout_ms: self.cfg.request_timeout_ms,
            entries,
        };
        if acks == Acks::None {
            // Fire and forget: nothing will answer.
            out.send(
                NodeId::Broker(leader),
                Message::Request {
                    correlation_id: u64::MAX,
                    body: Request::Produce(req),
                },
            );
            return;
        }
        self.busy.insert(batch.partition);
        self.net.send(
            now,
            NodeId::Broker(leader),
            Inflight::Produce(batch.clone()),
            Request::Produce(req),
            out,
        );
    }

    fn refresh_metadata(&mut self, now: Millis, out: &mut Effects) {
        let topics = vec![self.tp_topic.to_string()];
        self.net
            .refresh_metadata(now, self.cfg.retry_backoff_ms, topics, out);
    }

    pub fn handle(&mut self, now: Millis, from: NodeId, message: Message, out: &mut Effects) {
        match self.net.receive(now, from, message) {
            Arrival::Response(Inflight::Produce(batch), Response::Produce(resp)) => {
                self.on_produce_response(now, batch, resp, out)
            }
            Arrival::Response(..) => {}
            Arrival::MetadataUpdated => {
                if self.net.metadata.stale {
                    // A partition has no leader yet: ask again after a backoff.
                    self.net.wake(now + self.cfg.retry_backoff_ms);
                }
            }
            // `from`'s process died: its requests in flight fail as timed-out ones do (Kafka's
            // `Sender.handleProduceResponse` treats a disconnected response as
            // `NETWORK_EXCEPTION`, retriable, as it does a timed-out one).
            Arrival::Closed(failed) => {
                for corr in failed {
                    self.on_timeout(now, corr, out);
                }
            }
            Arrival::Nothing => return,
        }
        self.send_ready(now, out);
    }

    fn on_produce_response(
        &mut self,
        now: Millis,
        mut batch: Batch,
        resp: ProduceResponse,
        out: &mut Effects,
    ) {
        self.busy.remove(&batch.partition);
        if resp.error.is_ok() {
            let base_offset = resp.base_offset.unwrap_or(0);
            let acks = acks(self.cfg.acks);
            out.event(EventKind::Acked {
                tp: resp.tp,
                acks,
                base_offset,
                values: batch.values,
            });
            return;
        }
        if !proves_not_appended(resp.error) {
            batch.maybe_appended = true;
        }
        if matches!(
            resp.error,
            ErrorCode::NotLeaderOrFollower | ErrorCode::LeaderNotAvailable
        ) {
            self.net.metadata.invalidate(&self.tp(batch.partition));
        }
        self.retry_or_fail(now, batch, resp.error, out);
    }

    fn on_timeout(&mut self, now: Millis, corr: u64, out: &mut Effects) {
        let Some(Inflight::Produce(mut batch)) = self.net.expire(corr) else {
            return;
        };
        self.busy.remove(&batch.partition);
        batch.maybe_appended = true;
        self.net.metadata.invalidate(&self.tp(batch.partition));
        self.retry_or_fail(now, batch, ErrorCode::RequestTimedOut, out);
    }

    fn retry_or_fail(
        &mut self,
        now: Millis,
        mut batch: Batch,
        error: ErrorCode,
        out: &mut Effects,
    ) {
        let deadline = batch.first_send_ms.unwrap_or(now) + self.cfg.delivery_timeout_ms;
        if retriable(error)
            && batch.attempts <= self.cfg.retries
            && now + self.cfg.retry_backoff_ms < deadline
        {
            batch.not_before_ms = now + self.cfg.retry_backoff_ms;
            self.ready
                .entry(batch.partition)
                .or_default()
                .push_front(batch);
            return;
        }
        out.event(EventKind::SendFailed {
            tp: self.tp(batch.partition),
            values: batch.values,
            error,
            definite: !batch.maybe_appended,
        });
    }
}

#[cfg(test)]
#[path = "producer_tests.rs"]
mod tests;
