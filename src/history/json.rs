//! The history as JSON Lines. The first line is a header (`{"meta": ...}`) with what the checkers
//! need besides the events (which clients must converge, the liveness bound, when the run ended);
//! every other line is one event: `{"at_us", "node", "event": {"type", ...}}`.

use super::{Event, EventKind};
use crate::protocol::{NodeId, TopicPartition};
use serde::{Deserialize, Serialize};

/// What convergence demands of the clients (the liveness checker's input, kept in the header).
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    /// Producers whose batches get outcomes (acks ≠ 0).
    pub producers: Vec<u32>,
    /// (reader, partition) pairs that must catch up.
    pub readers: Vec<(u32, TopicPartition)>,
    /// (group, its subscribed partitions): Stable, every partition owned by one current member,
    /// committed offset at the high watermark (lag 0).
    pub groups: Vec<(String, Vec<TopicPartition>)>,
}

/// The header line of a history file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub scenario: String,
    pub seed: u64,
    /// Whether the run had a liveness phase, and its bound.
    pub liveness_check: bool,
    pub liveness_bound_ms: u64,
    /// Producers whose batches must all get outcomes.
    pub producers: Vec<u32>,
    /// (reader, topic, partition) that must catch up.
    pub readers: Vec<(u32, String, u32)>,
    /// (group, subscribed partitions as (topic, partition)) that must converge.
    #[serde(default)]
    pub groups: Vec<(String, Vec<(String, u32)>)>,
    /// Groups whose records must not be lost (at-least-once commit modes).
    #[serde(default)]
    pub at_least_once_groups: Vec<String>,
    /// Simulated time at which the run ended.
    pub end_us: u64,
    /// Why the run's liveness phase failed, if it did for a reason the events alone cannot show
    /// (the event budget).
    pub budget_exhausted: bool,
}

impl Meta {
    pub fn expectations(&self) -> Expectations {
        Expectations {
            producers: self.producers.clone(),
            readers: self
                .readers
                .iter()
                .map(|(r, t, p)| (*r, TopicPartition::new(t.clone(), *p)))
                .collect(),
            groups: self
                .groups
                .iter()
                .map(|(g, tps)| {
                    (
                        g.clone(),
                        tps.iter()
                            .map(|(t, p)| TopicPartition::new(t.clone(), *p))
                            .collect(),
                    )
                })
                .collect(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    meta: Meta,
}

#[derive(Serialize, Deserialize)]
struct Line {
    at_us: u64,
    node: String,
    event: EventKind,
}

/// One event as a JSON line (no trailing newline).
pub fn to_json_line(e: &Event) -> String {
    let line = Line {
        at_us: e.at_us,
        node: e.node.to_string(),
        event: e.kind.clone(),
    };
    serde_json::to_string(&line).expect("events always serialize")
}

/// The whole history file: header, then one line per event.
pub fn to_jsonl(meta: &Meta, events: &[Event]) -> String {
    let mut out = serde_json::to_string(&Header { meta: meta.clone() }).expect("meta serializes");
    out.push('\n');
    for e in events {
        out.push_str(&to_json_line(e));
        out.push('\n');
    }
    out
}

/// Parses a history file; errors name the line. A history no run can have written (time going
/// back, offsets beyond what it appends, values outside the limits: see [`super::plausible`])
/// is refused too.
pub fn from_jsonl(text: &str) -> Result<(Meta, Vec<Event>), String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = lines
        .next()
        .ok_or("line 1: empty file, expected the {\"meta\": ...} header")?;
    let header: Header =
        serde_json::from_str(first).map_err(|e| format!("line 1: not a history header: {e}"))?;
    let mut events = Vec::new();
    let mut numbers = Vec::new();
    for (i, l) in lines {
        let line: Line = serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1))?;
        let node: NodeId = line
            .node
            .parse()
            .map_err(|e| format!("line {}: {e}", i + 1))?;
        events.push(Event {
            at_us: line.at_us,
            node,
            kind: line.event,
        });
        numbers.push(i + 1);
    }
    super::plausible::check(header.meta.end_us, &events, &numbers)?;
    Ok((header.meta, events))
}
