//! A broker's copy of the cluster metadata: the controller's metadata log applied in offset order
//! (KRaft's `MetadataImage`). Records arrive pushed or pulled; a gap waits for the next pull.

use crate::protocol::message::{MetadataRecord, PartitionState};
use crate::protocol::{BrokerId, TopicPartition};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default)]
pub struct MetadataImage {
    /// The next metadata offset this broker needs.
    pub next_offset: u64,
    pub partitions: BTreeMap<TopicPartition, PartitionState>,
    pub fenced: BTreeSet<BrokerId>,
    /// Each broker's registered incarnation: KRaft's broker epoch, as `KRaftMetadataCache`'s
    /// `getAliveBrokerEpoch` gives it.
    pub broker_epochs: BTreeMap<BrokerId, u64>,
}

impl MetadataImage {
    /// Applies `records` that continue the log; returns the partition states that changed, in
    /// order. Records already applied are skipped; a record past a gap stops the batch.
    pub fn apply(&mut self, records: &[(u64, MetadataRecord)]) -> Vec<PartitionState> {
        let mut changed = Vec::new();
        for (offset, record) in records {
            if *offset < self.next_offset {
                continue;
            }
            if *offset > self.next_offset {
                break;
            }
            self.next_offset += 1;
            match record {
                MetadataRecord::RegisterBroker {
                    broker,
                    incarnation,
                } => {
                    self.broker_epochs.insert(*broker, *incarnation);
                }
                MetadataRecord::FenceBroker { broker } => {
                    self.fenced.insert(*broker);
                }
                MetadataRecord::UnfenceBroker { broker } => {
                    self.fenced.remove(broker);
                }
                MetadataRecord::Partition(state) => {
                    self.partitions.insert(state.tp.clone(), state.clone());
                    changed.push(state.clone());
                }
            }
        }
        changed
    }

    /// Kafka's `Partition.isReplicaIsrEligible` (KRaft): `broker` may join an ISR when it is not
    /// fenced (kafkasim fences a broker in controlled shutdown at once, so that covers
    /// `isBrokerShuttingDown` too) and, under KIP-903, when `fetched_epoch`, the broker epoch of
    /// its latest fetch, is the one it is registered with (`isBrokerEpochIsrEligible`).
    pub fn is_replica_isr_eligible(
        &self,
        broker: BrokerId,
        fetched_epoch: Option<u64>,
        check_epoch: bool,
    ) -> bool {
        if self.fenced.contains(&broker) {
            return false;
        }
        !check_epoch
            || matches!(
                (fetched_epoch, self.broker_epochs.get(&broker)),
                (Some(fetched), Some(registered)) if fetched == *registered
            )
    }

    /// Unfenced brokers among `candidates`.
    pub fn live_brokers(&self, all: impl Iterator<Item = BrokerId>) -> Vec<BrokerId> {
        all.filter(|b| !self.fenced.contains(b)).collect()
    }
}
