//! Faults as typed, validated data: what the fault injector executes.

use super::model::CrashMode;
use crate::protocol::{NodeId, TopicPartition};
use std::fmt;

/// A node named in a fault: fixed, or resolved when the fault fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeRef {
    Node(NodeId),
    /// `leader:TOPIC/PARTITION`: the broker the controller names leader of the partition when the
    /// fault fires (nothing happens if the partition has no leader then).
    LeaderOf(TopicPartition),
    /// `last_crashed`: the node most recently crashed by a fault (for `restart`).
    LastCrashed,
}

impl fmt::Display for NodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeRef::Node(n) => write!(f, "{n}"),
            NodeRef::LeaderOf(tp) => write!(f, "leader:{}/{}", tp.topic, tp.partition),
            NodeRef::LastCrashed => write!(f, "last_crashed"),
        }
    }
}

/// One fault, validated.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    Crash {
        node: NodeRef,
        mode: CrashMode,
    },
    Restart {
        node: NodeRef,
    },
    /// Symmetric when `one_way` is false: no message crosses between two different sides. One-way:
    /// messages from `sides[0]` to `sides[1]` are lost, the other direction works. Nodes in no side
    /// belong to the first side.
    Partition {
        sides: Vec<Vec<NodeRef>>,
        one_way: bool,
        duration_ms: Option<u64>,
    },
    Heal,
    Pause {
        node: NodeRef,
        duration_ms: u64,
    },
    Slow {
        node: NodeRef,
        extra_latency_ms: u64,
        duration_ms: u64,
    },
    Drop {
        from: Vec<NodeRef>,
        to: Vec<NodeRef>,
        probability: f64,
        duration_ms: u64,
    },
    Delay {
        from: Vec<NodeRef>,
        to: Vec<NodeRef>,
        extra_latency_ms: u64,
        duration_ms: u64,
    },
    /// The consumer's next batch takes `duration_ms` longer to process.
    SlowPoll {
        node: NodeRef,
        duration_ms: u64,
    },
}

/// A fault and the simulated time at which it fires.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedFault {
    pub at_ms: u64,
    pub fault: Fault,
}
