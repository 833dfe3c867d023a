//! Kafka's partition assignors, as pure functions: a group's members and topics go in, the
//! partitions of each member come out, partition for partition what Apache Kafka computes
//! (apache/kafka @ 1eb7644, see `shared/reference/kafka-group-coordinator.md` §9).
//!
//! Client side (classic protocol; the group leader runs them): [`range`], [`round_robin`],
//! [`sticky`] and [`cooperative_sticky`]. Server side (KIP-848; the coordinator runs them):
//! [`uniform`] and [`server_range`].
//!
//! Kafka's output sometimes depends on Java `HashMap` iteration order (member ids, partition
//! sets); [`java`] reproduces it. The members' order in [`AssignInput::members`] stands for the
//! order they were put into Kafka's maps, which only matters between keys sharing a bucket.
//!
//! Topics are named here, where KIP-848 assignors key them by topic id: where a server assignor
//! walks topic ids in hash order, we walk topic names in ascending order.

pub mod cooperative_sticky;
pub mod java;
pub mod range;
pub mod round_robin;
pub mod server_range;
pub mod sticky;
mod sticky_constrained;
mod sticky_general;
mod sticky_movements;
pub mod uniform;
mod uniform_heterogeneous;

use crate::protocol::TopicPartition;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// One assignor, by the name Kafka configures it with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Strategy {
    /// `RangeAssignor` (client, `range`).
    Range,
    /// `RoundRobinAssignor` (client, `roundrobin`).
    RoundRobin,
    /// `StickyAssignor` (client, eager, `sticky`).
    Sticky,
    /// `CooperativeStickyAssignor` (client, `cooperative-sticky`).
    CooperativeSticky,
    /// The KIP-848 `UniformAssignor` (server, `uniform`).
    Uniform,
    /// The KIP-848 `RangeAssignor` (server, `range`; named `server-range` here).
    ServerRange,
}

impl Strategy {
    pub const ALL: [Strategy; 6] = [
        Strategy::Range,
        Strategy::RoundRobin,
        Strategy::Sticky,
        Strategy::CooperativeSticky,
        Strategy::Uniform,
        Strategy::ServerRange,
    ];

    /// The name the `assign` verb takes.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Range => "range",
            Strategy::RoundRobin => "roundrobin",
            Strategy::Sticky => "sticky",
            Strategy::CooperativeSticky => "cooperative-sticky",
            Strategy::Uniform => "uniform",
            Strategy::ServerRange => "server-range",
        }
    }

    /// True for the KIP-848 assignors the group coordinator runs.
    pub fn is_server_side(self) -> bool {
        matches!(self, Strategy::Uniform | Strategy::ServerRange)
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Strategy {
    type Err = AssignError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Strategy::ALL
            .into_iter()
            .find(|strategy| strategy.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Strategy::ALL.iter().map(|s| s.name()).collect();
                AssignError::new(format!(
                    "unknown strategy `{s}` (expected one of: {})",
                    names.join(", ")
                ))
            })
    }
}

/// One group member as the assignor sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// `member.id`.
    pub id: String,
    /// The topics it subscribes to.
    pub subscriptions: Vec<String>,
    /// The partitions it owned before this rebalance (sticky assignors; the current assignment
    /// for `uniform`), in the order the member reports them: when the sticky assignor must give
    /// some up, it keeps the first ones.
    #[serde(default, with = "tp_list")]
    pub owned: Vec<TopicPartition>,
    /// The generation its `owned` partitions date from (sticky assignors).
    #[serde(default)]
    pub generation: Option<i32>,
    /// `group.instance.id` of a static member.
    #[serde(default)]
    pub group_instance_id: Option<String>,
    /// `client.rack`.
    #[serde(default)]
    pub rack: Option<String>,
}

impl Member {
    /// A dynamic member with no history, subscribed to `topics`.
    pub fn new(id: impl Into<String>, topics: &[&str]) -> Self {
        Member {
            id: id.into(),
            subscriptions: topics.iter().map(|t| t.to_string()).collect(),
            owned: Vec::new(),
            generation: None,
            group_instance_id: None,
            rack: None,
        }
    }
}

/// Everything an assignor is given: topic metadata and the members.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// Partition count of every existing topic.
    pub topics: BTreeMap<String, u32>,
    /// The group's members, in the order they joined.
    pub members: Vec<Member>,
    /// Racks of each partition's replicas: `partition_racks[topic][partition]`.
    #[serde(default)]
    pub partition_racks: BTreeMap<String, Vec<Vec<String>>>,
}

impl AssignInput {
    /// The racks of the replicas of `topic`-`partition` (empty when unknown).
    pub fn replica_racks(&self, topic: &str, partition: u32) -> &[String] {
        self.partition_racks
            .get(topic)
            .and_then(|racks| racks.get(partition as usize))
            .map_or(&[], Vec::as_slice)
    }

    /// Member indices in the order a `new HashMap<String, _>()` keyed by member id iterates.
    pub(crate) fn members_in_hash_order(&self) -> Vec<usize> {
        let ids: Vec<&str> = self.members.iter().map(|m| m.id.as_str()).collect();
        java::hash_map_order(&ids)
    }
}

/// Each member's partitions, sorted by topic then partition; every member is present.
pub type Assignment = BTreeMap<String, Vec<TopicPartition>>;

/// Switches for reproducing historical Kafka bugs; the default is today's Kafka.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AssignOptions {
    /// KAFKA-7026 (fixed by KIP-341): the sticky assignors trust every member's owned partitions
    /// whatever its generation, so a member returning with partitions from an older generation
    /// keeps them even though another member owns them now. Two members then own one partition.
    pub trust_stale_owned: bool,
}

/// Input an assignor (or Kafka itself) rejects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignError {
    pub message: String,
}

impl AssignError {
    pub fn new(message: impl Into<String>) -> Self {
        AssignError {
            message: message.into(),
        }
    }
}

impl fmt::Display for AssignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AssignError {}

/// Runs `strategy` on `input` exactly as Kafka's assignor would.
pub fn assign(strategy: Strategy, input: &AssignInput) -> Result<Assignment, AssignError> {
    assign_with(strategy, input, &AssignOptions::default())
}

/// [`assign`] with historical-bug switches.
pub fn assign_with(
    strategy: Strategy,
    input: &AssignInput,
    options: &AssignOptions,
) -> Result<Assignment, AssignError> {
    validate(strategy, input)?;
    let raw = match strategy {
        Strategy::Range => range::assign(input),
        Strategy::RoundRobin => round_robin::assign(input),
        Strategy::Sticky => sticky::assign(input, options)?,
        Strategy::CooperativeSticky => cooperative_sticky::assign(input, options)?,
        Strategy::Uniform => uniform::assign(input)?,
        Strategy::ServerRange => server_range::assign(input)?,
    };
    Ok(normalize(input, raw))
}

/// Every member present, each list sorted by topic then partition.
fn normalize(input: &AssignInput, mut raw: Assignment) -> Assignment {
    for member in &input.members {
        raw.entry(member.id.clone()).or_default();
    }
    for partitions in raw.values_mut() {
        partitions.sort();
    }
    raw
}

/// Rejects input no Kafka group could present, and input Kafka's assignors themselves reject.
fn validate(strategy: Strategy, input: &AssignInput) -> Result<(), AssignError> {
    let mut ids = BTreeSet::new();
    for member in &input.members {
        if !ids.insert(member.id.as_str()) {
            return Err(AssignError::new(format!(
                "member id `{}` appears twice",
                member.id
            )));
        }
        let mut owned = BTreeSet::new();
        for tp in &member.owned {
            if !owned.insert(tp) {
                return Err(AssignError::new(format!(
                    "member `{}` lists owned partition {tp} twice",
                    member.id
                )));
            }
        }
    }
    match strategy {
        Strategy::Sticky | Strategy::CooperativeSticky => sticky::validate(input),
        Strategy::Uniform => uniform::validate(input),
        Strategy::ServerRange => server_range::validate(input),
        Strategy::Range | Strategy::RoundRobin => Ok(()),
    }
}

/// Owned partitions as `[["topic", partition], ...]` in JSON.
mod tp_list {
    use crate::protocol::TopicPartition;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(tps: &[TopicPartition], s: S) -> Result<S::Ok, S::Error> {
        let pairs: Vec<(&str, u32)> = tps.iter().map(|tp| (tp.topic(), tp.partition)).collect();
        pairs.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<TopicPartition>, D::Error> {
        let pairs: Vec<(String, u32)> = Vec::deserialize(d)?;
        Ok(pairs
            .into_iter()
            .map(|(topic, partition)| TopicPartition::new(topic, partition))
            .collect())
    }
}

/// An [`Assignment`] as the `assign` verb prints it: `{"member": [["topic", p], ...]}`.
pub fn assignment_to_json(assignment: &Assignment) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = assignment
        .iter()
        .map(|(member, tps)| {
            let list = tps
                .iter()
                .map(|tp| serde_json::json!([tp.topic, tp.partition]))
                .collect();
            (member.clone(), serde_json::Value::Array(list))
        })
        .collect();
    serde_json::Value::Object(map)
}

/// Reads an [`Assignment`] from the `assign` verb's JSON form.
pub fn assignment_from_json(value: &serde_json::Value) -> Result<Assignment, AssignError> {
    let pairs: BTreeMap<String, Vec<(String, u32)>> = serde_json::from_value(value.clone())
        .map_err(|e| AssignError::new(format!("not an assignment: {e}")))?;
    Ok(pairs
        .into_iter()
        .map(|(member, tps)| {
            let mut tps: Vec<TopicPartition> = tps
                .into_iter()
                .map(|(topic, partition)| TopicPartition::new(topic, partition))
                .collect();
            tps.sort();
            (member, tps)
        })
        .collect())
}
