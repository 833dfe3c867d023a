//! A classic group's state (Kafka's `ClassicGroup` / `GroupMetadata`) and its records in
//! `__consumer_offsets`: `group:{id}` holds the group metadata written when a rebalance completes
//! or the group empties; `offset:{id}:{topic}:{partition}` holds a committed offset.

use crate::protocol::{Millis, TopicPartition};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum State {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Empty => "Empty",
            State::PreparingRebalance => "PreparingRebalance",
            State::CompletingRebalance => "CompletingRebalance",
            State::Stable => "Stable",
            State::Dead => "Dead",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Member {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub session_timeout_ms: u64,
    pub rebalance_timeout_ms: u64,
    pub protocols: Vec<(String, String)>,
    pub assignment: String,
    /// Token of the parked JoinGroup, if any.
    #[serde(skip)]
    pub awaiting_join: Option<u64>,
    #[serde(skip)]
    pub awaiting_sync: Option<u64>,
    #[serde(skip)]
    pub session_deadline: Millis,
    /// Joined but not yet through its first join (Kafka's `isNew`: 300 s join timeout).
    #[serde(skip)]
    pub is_new: bool,
}

impl Member {
    pub fn metadata_for(&self, protocol: &str) -> String {
        self.protocols
            .iter()
            .find(|p| p.0 == protocol)
            .map(|p| p.1.clone())
            .unwrap_or_default()
    }
}

/// A committed offset as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedOffset {
    pub offset: u64,
    pub leader_epoch: Option<i32>,
    pub metadata: String,
    pub commit_timestamp: Millis,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub id: String,
    pub state: State,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    pub members: BTreeMap<String, Member>,
    /// Member ids handed out with MEMBER_ID_REQUIRED, with their expiry.
    pub pending: BTreeMap<String, Millis>,
    pub join_deadline: Option<Millis>,
    /// The initial delayed join (`group.initial.rebalance.delay.ms`): (delay, remaining).
    pub initial_delay: Option<(u64, u64)>,
    pub new_member_added: bool,
    pub sync_deadline: Option<Millis>,
    pub offsets: BTreeMap<TopicPartition, CommittedOffset>,
}

impl Group {
    pub fn new(id: &str) -> Self {
        Group {
            id: id.to_string(),
            state: State::Empty,
            generation: 0,
            protocol_type: None,
            protocol: None,
            leader: None,
            members: BTreeMap::new(),
            pending: BTreeMap::new(),
            join_deadline: None,
            initial_delay: None,
            new_member_added: false,
            sync_deadline: None,
            offsets: BTreeMap::new(),
        }
    }

    pub fn member_of_instance(&self, instance: &str) -> Option<String> {
        self.members
            .values()
            .find(|m| m.instance_id.as_deref() == Some(instance))
            .map(|m| m.member_id.clone())
    }

    /// The group's rebalance timeout: the largest of its members'.
    pub fn rebalance_timeout_ms(&self) -> u64 {
        self.members
            .values()
            .map(|m| m.rebalance_timeout_ms)
            .max()
            .unwrap_or(0)
    }

    pub fn all_joined(&self) -> bool {
        self.pending.is_empty() && self.members.values().all(|m| m.awaiting_join.is_some())
    }

    /// Protocol selection: among protocols every member supports, each member votes for its
    /// most preferred; most votes wins (ties: the first in the leader's order).
    pub fn select_protocol(&self) -> Option<String> {
        let first = self.members.values().next()?;
        let candidates: Vec<&String> = first
            .protocols
            .iter()
            .map(|p| &p.0)
            .filter(|name| {
                self.members
                    .values()
                    .all(|m| m.protocols.iter().any(|p| &p.0 == *name))
            })
            .collect();
        let mut votes: BTreeMap<&String, usize> = BTreeMap::new();
        for m in self.members.values() {
            if let Some(v) = m
                .protocols
                .iter()
                .map(|p| &p.0)
                .find(|n| candidates.contains(n))
            {
                *votes.entry(v).or_default() += 1;
            }
        }
        let best = votes.values().max().copied()?;
        candidates
            .into_iter()
            .find(|c| votes.get(c) == Some(&best))
            .cloned()
    }

    pub fn supports(&self, protocols: &[(String, String)]) -> bool {
        let names: BTreeSet<&String> = protocols.iter().map(|p| &p.0).collect();
        self.members
            .values()
            .all(|m| m.protocols.iter().any(|p| names.contains(&p.0)))
    }
}

/// The value of a `group:` record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GroupRecord {
    pub protocol_type: Option<String>,
    pub generation: i32,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    pub members: Vec<Member>,
}

pub fn group_key(group: &str) -> String {
    format!("group:{group}")
}

pub fn offset_key(group: &str, tp: &TopicPartition) -> String {
    format!("offset:{group}:{}:{}", tp.topic, tp.partition)
}

/// Parses `offset:{group}:{topic}:{partition}`.
pub fn parse_offset_key(key: &str) -> Option<(String, TopicPartition)> {
    let rest = key.strip_prefix("offset:")?;
    let (rest, partition) = rest.rsplit_once(':')?;
    let (group, topic) = rest.split_once(':')?;
    Some((
        group.to_string(),
        TopicPartition::new(topic, partition.parse().ok()?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_keys_round_trip() {
        let tp = TopicPartition::new("orders", 7);
        assert_eq!(
            parse_offset_key(&offset_key("g1", &tp)),
            Some(("g1".into(), tp))
        );
        assert_eq!(parse_offset_key("group:g1"), None);
    }
}
