//! A client's cache of partition leaders, refreshed with Metadata requests to any live broker
//! (Kafka's `Metadata` + `NetworkClient` bootstrap rotation).

use crate::protocol::message::{MetadataResponse, PartitionMetadata};
use crate::protocol::{BrokerId, LeaderEpoch, Millis, NO_EPOCH};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct ClientMetadata {
    /// Every broker of the cluster (the bootstrap list).
    brokers: Vec<BrokerId>,
    next_broker: usize,
    /// partition → (leader, leader epoch), for the client's one topic.
    leaders: BTreeMap<u32, (Option<BrokerId>, LeaderEpoch)>,
    /// A refresh is in flight.
    pub in_flight: bool,
    /// Some error showed the cache is stale.
    pub stale: bool,
    /// When the last refresh was answered.
    pub last_refresh_ms: Option<Millis>,
}

impl ClientMetadata {
    pub fn new(brokers: u32, first: usize) -> Self {
        let brokers: Vec<BrokerId> = (1..=brokers).collect();
        let next_broker = first % brokers.len().max(1);
        ClientMetadata {
            brokers,
            next_broker,
            leaders: BTreeMap::new(),
            in_flight: false,
            stale: true,
            last_refresh_ms: None,
        }
    }

    /// The broker to ask next; rotates so that a dead broker is not asked forever.
    pub fn next_bootstrap(&mut self) -> BrokerId {
        let b = self.brokers[self.next_broker];
        self.next_broker = (self.next_broker + 1) % self.brokers.len();
        b
    }

    pub fn leader(&self, partition: u32) -> Option<(BrokerId, LeaderEpoch)> {
        match self.leaders.get(&partition) {
            Some((Some(l), e)) => Some((*l, *e)),
            _ => None,
        }
    }

    pub fn epoch(&self, partition: u32) -> LeaderEpoch {
        self.leaders
            .get(&partition)
            .map(|l| l.1)
            .unwrap_or(NO_EPOCH)
    }

    /// Takes a Metadata response for `topic`. Kafka ignores partition metadata whose leader epoch
    /// is older than what it already knows (KIP-320).
    pub fn update(&mut self, now: Millis, topic: &str, resp: &MetadataResponse) {
        self.in_flight = false;
        self.last_refresh_ms = Some(now);
        self.stale = false;
        for p in resp.partitions.iter().filter(|p| p.tp.topic == topic) {
            self.update_partition(p);
        }
    }

    fn update_partition(&mut self, p: &PartitionMetadata) {
        let known = self.epoch(p.tp.partition);
        if p.leader_epoch >= known {
            self.leaders
                .insert(p.tp.partition, (p.leader, p.leader_epoch));
        }
        if p.leader.is_none() {
            self.stale = true;
        }
    }

    /// Whether a refresh may be sent now: none in flight, and `backoff_ms` since the last answer
    /// (Kafka's `retry.backoff.ms` between metadata requests).
    pub fn refresh_due(&self, now: Millis, backoff_ms: u64) -> bool {
        !self.in_flight && self.last_refresh_ms.is_none_or(|t| now >= t + backoff_ms)
    }

    /// Forgets the leader of a partition after an error that says it moved.
    pub fn invalidate(&mut self, partition: u32) {
        if let Some(l) = self.leaders.get_mut(&partition) {
            l.0 = None;
        }
        self.stale = true;
    }
}
