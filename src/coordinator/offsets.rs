//! OffsetCommit, OffsetFetch and offset expiration (`OffsetMetadataManager`, `ClassicGroup.
//! validateOffsetCommit`, KafkaApis' topic check).
//!
//! Rules (reference sections 3.5, 3.6, 7): partitions of unknown topics get
//! `UNKNOWN_TOPIC_OR_PARTITION` before the coordinator sees them; an unknown group accepts a commit
//! with generation < 0 (creating an Empty "simple" group) and otherwise answers `GROUP_ID_NOT_FOUND`
//! (v9+) or `ILLEGAL_GENERATION`; member validation, then the generation (unless the legacy
//! `commit_ignores_generation` switch, KAFKA-2555), then `REBALANCE_IN_PROGRESS` in
//! CompletingRebalance; metadata longer than `offset.metadata.max.bytes` fails that partition only.
//! A commit from a member of a Stable or PreparingRebalance group resets its session. Offsets are
//! visible to OffsetFetch once their records are committed. Expiration: Empty groups with a protocol
//! type from the time they became Empty, simple groups from the commit time; an Empty group left
//! without offsets is deleted. (The Stable-consumer-group case, offsets of topics no longer
//! subscribed, needs the consumer protocol's subscription format and is not modelled.)

use super::api::*;
use super::group::ClassicGroup;
use super::group::ClassicGroupState::*;
use super::record::{CoordinatorRecord, OffsetCommitValue};
use super::{AppendCallback, GroupCoordinator};
use crate::protocol::{ErrorCode, TopicPartition};
use std::collections::BTreeMap;

/// A committed offset as OffsetFetch returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedOffset {
    pub offset: i64,
    pub leader_epoch: Option<i32>,
    pub metadata: String,
    pub commit_timestamp_ms: i64,
    pub expire_timestamp_ms: Option<i64>,
}

/// Committed offsets per group and partition.
#[derive(Clone, Debug, Default)]
pub(super) struct OffsetStore {
    groups: BTreeMap<String, BTreeMap<TopicPartition, CommittedOffset>>,
}

impl OffsetStore {
    pub fn put(&mut self, v: &OffsetCommitValue) {
        self.groups.entry(v.group.clone()).or_default().insert(
            TopicPartition::new(v.topic.clone(), v.partition),
            CommittedOffset {
                offset: v.offset,
                leader_epoch: v.leader_epoch,
                metadata: v.metadata.clone(),
                commit_timestamp_ms: v.commit_timestamp_ms,
                expire_timestamp_ms: v.expire_timestamp_ms,
            },
        );
    }

    pub fn remove(&mut self, group: &str, topic: &str, partition: u32) {
        if let Some(offsets) = self.groups.get_mut(group) {
            offsets.remove(&TopicPartition::new(topic, partition));
            if offsets.is_empty() {
                self.groups.remove(group);
            }
        }
    }

    pub fn get(&self, group: &str, tp: &TopicPartition) -> Option<&CommittedOffset> {
        self.groups.get(group).and_then(|o| o.get(tp))
    }

    pub fn of_group(
        &self,
        group: &str,
    ) -> impl Iterator<Item = (&TopicPartition, &CommittedOffset)> {
        self.groups.get(group).into_iter().flat_map(|o| o.iter())
    }

    pub fn has_offsets(&self, group: &str) -> bool {
        self.groups.get(group).is_some_and(|o| !o.is_empty())
    }
}

impl GroupCoordinator {
    pub(super) fn handle_offset_commit(&mut self, token: RequestToken, req: OffsetCommitRequest) {
        // KafkaApis answers partitions of unknown topics before the coordinator sees the request.
        let known: Vec<bool> = req
            .partitions
            .iter()
            .map(|p| self.topic_exists(&p.tp))
            .collect();
        let mut partitions: Vec<(TopicPartition, ErrorCode)> = req
            .partitions
            .iter()
            .map(|p| (p.tp.clone(), ErrorCode::UnknownTopicOrPartition))
            .collect();
        if known.iter().any(|k| *k) {
            match self.validate_offset_commit(&req) {
                Err(e) => set_known(&mut partitions, &known, |_| e),
                Ok(()) => {
                    let records = self.commit_records(&req, &known, &mut partitions);
                    self.maintain_session_on_commit(&req);
                    if !records.is_empty() {
                        let response = OffsetCommitResponse { partitions };
                        return self
                            .append(records, AppendCallback::OffsetCommit { token, response });
                    }
                }
            }
        }
        self.respond(
            token,
            GroupResponse::OffsetCommit(OffsetCommitResponse { partitions }),
        );
    }

    fn topic_exists(&self, tp: &TopicPartition) -> bool {
        match &self.config.cluster_topics {
            None => true,
            Some(topics) => topics.get(tp.topic()).is_some_and(|n| tp.partition < *n),
        }
    }

    fn validate_offset_commit(&mut self, req: &OffsetCommitRequest) -> Result<(), ErrorCode> {
        self.check_coordinator(&req.group_id)?;
        if !self.groups.contains_key(&req.group_id) {
            if req.generation_id >= 0 {
                return Err(if req.api_version >= 9 {
                    ErrorCode::GroupIdNotFound
                } else {
                    ErrorCode::IllegalGeneration
                });
            }
            // A commit without group management: a "simple" group, Empty, no protocol type.
            let group = ClassicGroup::new(&req.group_id, self.now);
            self.groups.insert(req.group_id.clone(), group);
        }
        self.groups[&req.group_id].validate_offset_commit(
            &req.member_id,
            req.group_instance_id.as_deref(),
            req.generation_id,
            self.config.commit_ignores_generation,
            self.config.commit_ignores_member,
        )
    }

    /// One record per accepted partition; too-large metadata fails its partition only.
    fn commit_records(
        &self,
        req: &OffsetCommitRequest,
        known: &[bool],
        partitions: &mut [(TopicPartition, ErrorCode)],
    ) -> Vec<CoordinatorRecord> {
        let mut records = Vec::new();
        for (i, p) in req.partitions.iter().enumerate() {
            if !known[i] {
                continue;
            }
            let metadata = p.metadata.clone().unwrap_or_default();
            if metadata.len() > self.config.offset_metadata_max_bytes {
                partitions[i].1 = ErrorCode::OffsetMetadataTooLarge;
                continue;
            }
            partitions[i].1 = ErrorCode::None;
            records.push(CoordinatorRecord::OffsetCommit(OffsetCommitValue {
                group: req.group_id.clone(),
                topic: p.tp.topic.to_string(),
                partition: p.tp.partition,
                offset: p.offset,
                leader_epoch: p.leader_epoch,
                metadata,
                commit_timestamp_ms: self.now as i64,
                expire_timestamp_ms: None,
            }));
        }
        records
    }

    /// In the classic protocol a commit keeps the member's session alive (Stable or
    /// PreparingRebalance).
    fn maintain_session_on_commit(&mut self, req: &OffsetCommitRequest) {
        let g = &self.groups[&req.group_id];
        if (g.is(Stable) || g.is(PreparingRebalance)) && g.has_member(&req.member_id) {
            self.reschedule_heartbeat(&req.group_id, &req.member_id, None);
        }
    }

    pub(super) fn handle_offset_fetch(&mut self, token: RequestToken, req: OffsetFetchRequest) {
        if let Err(error) = self.check_coordinator(&req.group_id) {
            let r = OffsetFetchResponse {
                error,
                partitions: Vec::new(),
            };
            return self.respond(token, GroupResponse::OffsetFetch(r));
        }
        let entry = |tp: &TopicPartition, c: Option<&CommittedOffset>| OffsetFetchPartition {
            tp: tp.clone(),
            offset: c.map_or(-1, |c| c.offset),
            leader_epoch: c.and_then(|c| c.leader_epoch),
            metadata: c.map(|c| c.metadata.clone()).unwrap_or_default(),
            error: ErrorCode::None,
        };
        let partitions = match &req.partitions {
            Some(tps) => tps
                .iter()
                .map(|tp| entry(tp, self.offsets.get(&req.group_id, tp)))
                .collect(),
            None => self
                .offsets
                .of_group(&req.group_id)
                .map(|(tp, c)| entry(tp, Some(c)))
                .collect(),
        };
        let r = OffsetFetchResponse {
            error: ErrorCode::None,
            partitions,
        };
        self.respond(token, GroupResponse::OffsetFetch(r));
    }

    /// The periodic expiration run: tombstones for expired offsets, and for Empty groups left
    /// without offsets. Tombstones are replayed as they are written.
    pub(super) fn expire_offsets(&mut self) {
        self.schedule_offset_expiration();
        let now = self.now as i64;
        let retention = self.config.offsets_retention_ms as i64;
        let mut records = Vec::new();
        let ids: Vec<String> = self.groups.keys().cloned().collect();
        for id in ids {
            let g = &self.groups[&id];
            let base_of_state = match (g.is(Empty), g.protocol_type.is_some()) {
                (true, true) => Some(g.state_timestamp_ms),
                (true, false) => Some(None),
                _ => None,
            };
            let Some(state_base) = base_of_state else {
                continue;
            };
            for (tp, c) in self.offsets.of_group(&id) {
                let expired = match c.expire_timestamp_ms {
                    Some(t) => now >= t,
                    None => now - state_base.unwrap_or(c.commit_timestamp_ms) >= retention,
                };
                if expired {
                    records.push(CoordinatorRecord::OffsetCommitTombstone {
                        group: id.clone(),
                        topic: tp.topic.to_string(),
                        partition: tp.partition,
                    });
                }
            }
        }
        for r in &records {
            self.replay(r);
        }
        let emptied: Vec<String> = self
            .groups
            .iter()
            .filter(|(id, g)| g.is(Empty) && !self.offsets.has_offsets(id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in emptied {
            let r = CoordinatorRecord::GroupMetadataTombstone { group: id };
            self.replay(&r);
            records.push(r);
        }
        if !records.is_empty() {
            self.append(records, AppendCallback::Nothing);
        }
    }
}

fn set_known(
    partitions: &mut [(TopicPartition, ErrorCode)],
    known: &[bool],
    error: impl Fn(usize) -> ErrorCode,
) {
    for (i, p) in partitions.iter_mut().enumerate() {
        if known[i] {
            p.1 = error(i);
        }
    }
}
