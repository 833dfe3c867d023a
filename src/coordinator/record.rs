//! The records a group coordinator writes to its `__consumer_offsets` partition: the same stream the
//! replicated, compacted partition stores, so a newly elected coordinator rebuilds its state by
//! replaying them (`GroupCoordinator::load`).
//!
//! Kafka's record keys (`GroupCoordinatorRecordHelpers`): key version 1 `OffsetCommitKey{group,
//! topic, partition}` with `OffsetCommitValue{offset, leaderEpoch, metadata, commitTimestamp,
//! expireTimestamp}`; key version 2 `GroupMetadataKey{group}` with `GroupMetadataValue`. A tombstone
//! (null value) deletes the key; compaction keeps the latest value per key ([`RecordKey`]).

use serde::{Deserialize, Serialize};

/// One member as stored in `GroupMetadataValue.members`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberMetadataValue {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub rebalance_timeout_ms: i32,
    pub session_timeout_ms: i32,
    /// The member's metadata for the group's selected protocol.
    pub subscription: String,
    pub assignment: String,
}

/// `GroupMetadataValue`: a classic group as of a completed rebalance, an emptied group, a static
/// member replacement, or a freshly created group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMetadataValue {
    pub group: String,
    /// `""` for a simple group (no protocol type).
    pub protocol_type: String,
    pub generation: i32,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    /// When the group entered its current state, `-1` when unknown.
    pub current_state_timestamp_ms: i64,
    pub members: Vec<MemberMetadataValue>,
}

/// `OffsetCommitValue` with its key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetCommitValue {
    pub group: String,
    pub topic: String,
    pub partition: u32,
    pub offset: i64,
    pub leader_epoch: Option<i32>,
    pub metadata: String,
    pub commit_timestamp_ms: i64,
    /// Only for commits that carried an explicit retention (OffsetCommit v2-v4).
    pub expire_timestamp_ms: Option<i64>,
}

/// One record of a `__consumer_offsets` partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CoordinatorRecord {
    OffsetCommit(OffsetCommitValue),
    /// Deletes one committed offset (expiration, group deletion).
    OffsetCommitTombstone {
        group: String,
        topic: String,
        partition: u32,
    },
    GroupMetadata(GroupMetadataValue),
    /// Deletes a group (DeleteGroups, or an Empty group whose offsets all expired).
    GroupMetadataTombstone {
        group: String,
    },
}

/// The compaction key of a record: compaction keeps only the latest record per key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKey {
    OffsetCommit {
        group: String,
        topic: String,
        partition: u32,
    },
    GroupMetadata {
        group: String,
    },
}

impl CoordinatorRecord {
    pub fn key(&self) -> RecordKey {
        match self {
            CoordinatorRecord::OffsetCommit(v) => RecordKey::OffsetCommit {
                group: v.group.clone(),
                topic: v.topic.clone(),
                partition: v.partition,
            },
            CoordinatorRecord::OffsetCommitTombstone {
                group,
                topic,
                partition,
            } => RecordKey::OffsetCommit {
                group: group.clone(),
                topic: topic.clone(),
                partition: *partition,
            },
            CoordinatorRecord::GroupMetadata(v) => RecordKey::GroupMetadata {
                group: v.group.clone(),
            },
            CoordinatorRecord::GroupMetadataTombstone { group } => RecordKey::GroupMetadata {
                group: group.clone(),
            },
        }
    }

    /// The group the record belongs to.
    pub fn group(&self) -> &str {
        match self {
            CoordinatorRecord::OffsetCommit(v) => &v.group,
            CoordinatorRecord::OffsetCommitTombstone { group, .. } => group,
            CoordinatorRecord::GroupMetadata(v) => &v.group,
            CoordinatorRecord::GroupMetadataTombstone { group } => group,
        }
    }

    pub fn is_tombstone(&self) -> bool {
        matches!(
            self,
            CoordinatorRecord::OffsetCommitTombstone { .. }
                | CoordinatorRecord::GroupMetadataTombstone { .. }
        )
    }
}

/// The stored form of records in a `__consumer_offsets` log (Kafka's `CoordinatorRecordSerde`):
/// a readable key, `group:<group>` or `offset:<group>:<topic>:<partition>`, and the value as JSON
/// (`None` for a tombstone). Topic names cannot contain `:`, so an offset key is split from the
/// right and the group id may contain anything.
impl CoordinatorRecord {
    pub fn to_key_value(&self) -> (String, Option<String>) {
        match self {
            CoordinatorRecord::OffsetCommit(v) => {
                (offset_key(&v.group, &v.topic, v.partition), json(v))
            }
            CoordinatorRecord::OffsetCommitTombstone {
                group,
                topic,
                partition,
            } => (offset_key(group, topic, *partition), None),
            CoordinatorRecord::GroupMetadata(v) => (group_key(&v.group), json(v)),
            CoordinatorRecord::GroupMetadataTombstone { group } => (group_key(group), None),
        }
    }

    /// The record stored as `(key, value)`; `None` if it is not a coordinator record of ours.
    pub fn from_key_value(key: &str, value: Option<&str>) -> Option<Self> {
        if let Some(group) = key.strip_prefix("group:") {
            return Some(match value {
                Some(v) => CoordinatorRecord::GroupMetadata(serde_json::from_str(v).ok()?),
                None => CoordinatorRecord::GroupMetadataTombstone {
                    group: group.to_string(),
                },
            });
        }
        let rest = key.strip_prefix("offset:")?;
        let (rest, partition) = rest.rsplit_once(':')?;
        let (group, topic) = rest.rsplit_once(':')?;
        Some(match value {
            Some(v) => CoordinatorRecord::OffsetCommit(serde_json::from_str(v).ok()?),
            None => CoordinatorRecord::OffsetCommitTombstone {
                group: group.to_string(),
                topic: topic.to_string(),
                partition: partition.parse().ok()?,
            },
        })
    }
}

fn json(value: &impl Serialize) -> Option<String> {
    Some(serde_json::to_string(value).expect("records serialize"))
}

fn group_key(group: &str) -> String {
    format!("group:{group}")
}

fn offset_key(group: &str, topic: &str, partition: u32) -> String {
    format!("offset:{group}:{topic}:{partition}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_records_round_trip() {
        let records = [
            CoordinatorRecord::OffsetCommit(OffsetCommitValue {
                group: "g:1".into(),
                topic: "orders".into(),
                partition: 7,
                offset: 42,
                leader_epoch: Some(3),
                metadata: String::new(),
                commit_timestamp_ms: 5,
                expire_timestamp_ms: None,
            }),
            CoordinatorRecord::OffsetCommitTombstone {
                group: "g:1".into(),
                topic: "orders".into(),
                partition: 7,
            },
            CoordinatorRecord::GroupMetadata(GroupMetadataValue {
                group: "g".into(),
                protocol_type: "consumer".into(),
                generation: 2,
                protocol: Some("range".into()),
                leader: None,
                current_state_timestamp_ms: -1,
                members: Vec::new(),
            }),
            CoordinatorRecord::GroupMetadataTombstone { group: "g".into() },
        ];
        for r in records {
            let (key, value) = r.to_key_value();
            assert_eq!(
                CoordinatorRecord::from_key_value(&key, value.as_deref()),
                Some(r)
            );
        }
        assert_eq!(CoordinatorRecord::from_key_value("other", None), None);
    }
}
