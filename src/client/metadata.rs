//! A client's cache of partition leaders, refreshed with Metadata requests to any live broker
//! (Kafka's `Metadata` + `NetworkClient` bootstrap rotation).

use crate::protocol::message::{MetadataRequest, MetadataResponse, PartitionMetadata};
use crate::protocol::{BrokerId, LeaderEpoch, Millis, TopicPartition, NO_EPOCH};
use std::collections::BTreeMap;

/// What a client that wants fresher metadata does now ([`ClientMetadata::refresh`]).
#[derive(Debug)]
pub enum Refresh {
    /// Send this Metadata request to this broker (it is now in flight).
    Send(BrokerId, MetadataRequest),
    /// Too soon after the last answer: try again at this time.
    RetryAt(Millis),
    /// A refresh is in flight: its answer or its timeout will come.
    InFlight,
}

#[derive(Clone, Debug)]
pub struct ClientMetadata {
    /// Every broker of the cluster (the bootstrap list).
    brokers: Vec<BrokerId>,
    next_broker: usize,
    /// partition → (leader, leader epoch).
    leaders: BTreeMap<TopicPartition, (Option<BrokerId>, LeaderEpoch)>,
    /// topic → number of partitions, as last seen.
    partition_counts: BTreeMap<String, u32>,
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
            partition_counts: BTreeMap::new(),
            in_flight: false,
            stale: true,
            last_refresh_ms: None,
        }
    }

    /// A refresh for `topics`, the one way every client asks for metadata (Kafka's
    /// `NetworkClient.DefaultMetadataUpdater.maybeUpdate`): at most one in flight, and
    /// `backoff_ms` (`retry.backoff.ms`) after the last answer before the next.
    pub fn refresh(&mut self, now: Millis, backoff_ms: u64, topics: Vec<String>) -> Refresh {
        if self.in_flight {
            return Refresh::InFlight;
        }
        if !self.refresh_due(now, backoff_ms) {
            return Refresh::RetryAt(self.last_refresh_ms.unwrap_or(now) + backoff_ms);
        }
        self.in_flight = true;
        Refresh::Send(self.next_bootstrap(), MetadataRequest { topics })
    }

    /// The broker to ask next; rotates so that a dead broker is not asked forever.
    pub fn next_bootstrap(&mut self) -> BrokerId {
        let b = self.brokers[self.next_broker];
        self.next_broker = (self.next_broker + 1) % self.brokers.len();
        b
    }

    pub fn leader(&self, tp: &TopicPartition) -> Option<(BrokerId, LeaderEpoch)> {
        match self.leaders.get(tp) {
            Some((Some(l), e)) => Some((*l, *e)),
            _ => None,
        }
    }

    pub fn epoch(&self, tp: &TopicPartition) -> LeaderEpoch {
        self.leaders.get(tp).map(|l| l.1).unwrap_or(NO_EPOCH)
    }

    /// The number of partitions of `topic`, once metadata named it.
    pub fn partition_count(&self, topic: &str) -> Option<u32> {
        self.partition_counts.get(topic).copied()
    }

    /// Takes a Metadata response. Kafka ignores partition metadata whose leader epoch is older
    /// than what it already knows (KIP-320).
    pub fn update(&mut self, now: Millis, resp: &MetadataResponse) {
        self.in_flight = false;
        self.last_refresh_ms = Some(now);
        self.stale = false;
        for p in &resp.partitions {
            let count = self
                .partition_counts
                .entry(p.tp.topic.to_string())
                .or_default();
            *count = (*count).max(p.tp.partition + 1);
            self.update_partition(p);
        }
    }

    fn update_partition(&mut self, p: &PartitionMetadata) {
        if p.leader_epoch >= self.epoch(&p.tp) {
            self.leaders
                .insert(p.tp.clone(), (p.leader, p.leader_epoch));
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

    /// Kafka's `Metadata.updateLastSeenEpochIfNewer` (KIP-320): a leader epoch learned
    /// elsewhere (a committed offset's) that is newer than this partition's metadata makes that
    /// metadata stale. The leader is forgotten until a refresh names one at least that new, so
    /// the client never fetches from a deposed leader that does not know it yet.
    pub fn see_epoch(&mut self, tp: &TopicPartition, epoch: LeaderEpoch) {
        if epoch > self.epoch(tp) {
            self.leaders.insert(tp.clone(), (None, epoch));
            self.stale = true;
        }
    }

    /// Forgets the leader of a partition after an error that says it moved.
    pub fn invalidate(&mut self, tp: &TopicPartition) {
        if let Some(l) = self.leaders.get_mut(tp) {
            l.0 = None;
        }
        self.stale = true;
    }
}

#[cfg(test)]
mod refresh_tests {
    use super::*;

    #[test]
    fn one_refresh_in_flight_then_the_backoff_then_the_next_broker() {
        let mut m = ClientMetadata::new(3, 0);
        let topics = || vec!["t".to_string()];
        let Refresh::Send(first, _) = m.refresh(0, 100, topics()) else {
            panic!("a first refresh goes at once");
        };
        assert!(matches!(m.refresh(1, 100, topics()), Refresh::InFlight));
        m.update(
            10,
            &MetadataResponse {
                brokers: vec![1, 2, 3],
                partitions: vec![],
            },
        );
        assert!(matches!(
            m.refresh(50, 100, topics()),
            Refresh::RetryAt(110)
        ));
        let Refresh::Send(second, _) = m.refresh(110, 100, topics()) else {
            panic!("due after the backoff");
        };
        assert_ne!(first, second, "the bootstrap list rotates");
    }
}
