//! Reading a scenario file. (Minimal: parse and convert. Located validation is being built.)

use super::fault::{Fault, NodeRef, TimedFault};
use super::model::{FaultKind, FaultSpec, Scenario};
use crate::protocol::TopicPartition;
use std::fmt;
use std::path::Path;

/// A scenario that passed validation: the file's content plus its faults in typed form.
#[derive(Clone, Debug)]
pub struct ValidScenario {
    /// The path as given, for reports.
    pub path: String,
    pub spec: Scenario,
    /// Faults in firing order (stable: equal times keep file order).
    pub faults: Vec<TimedFault>,
}

/// Why a scenario could not be loaded.
#[derive(Debug)]
pub struct ScenarioError {
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<ValidScenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        message: format!("{}: cannot read: {e}", path.display()),
    })?;
    from_str(&path.display().to_string(), &text)
}

/// Parses and validates scenario text; `path` only names it in errors and reports.
pub fn from_str(path: &str, text: &str) -> Result<ValidScenario, ScenarioError> {
    let spec: Scenario = toml::from_str(text).map_err(|e| ScenarioError {
        message: format!("{path}: {e}"),
    })?;
    let mut faults = Vec::new();
    for (i, f) in spec.faults.iter().enumerate() {
        let fault = convert_fault(f).map_err(|m| ScenarioError {
            message: format!("{path}: fault[{i}]: {m}"),
        })?;
        faults.push(TimedFault {
            at_ms: f.at_ms,
            fault,
        });
    }
    faults.sort_by_key(|f| f.at_ms);
    Ok(ValidScenario {
        path: path.to_string(),
        spec,
        faults,
    })
}

fn node_ref(s: &str) -> Result<NodeRef, String> {
    if s == "last_crashed" {
        return Ok(NodeRef::LastCrashed);
    }
    if let Some(rest) = s.strip_prefix("leader:") {
        let (topic, p) = rest
            .rsplit_once('/')
            .ok_or("expected leader:TOPIC/PARTITION")?;
        let p: u32 = p.parse().map_err(|_| "bad partition number".to_string())?;
        return Ok(NodeRef::LeaderOf(TopicPartition::new(topic, p)));
    }
    s.parse().map(NodeRef::Node)
}

fn node_refs(v: &Option<Vec<String>>, field: &str) -> Result<Vec<NodeRef>, String> {
    v.as_ref()
        .ok_or(format!("missing field `{field}`"))?
        .iter()
        .map(|s| node_ref(s))
        .collect()
}

fn convert_fault(f: &FaultSpec) -> Result<Fault, String> {
    let node = || node_ref(f.node.as_deref().ok_or("missing field `node`")?);
    let duration = || {
        f.duration_ms
            .ok_or("missing field `duration_ms`".to_string())
    };
    Ok(match f.kind {
        FaultKind::Crash => Fault::Crash {
            node: node()?,
            mode: f.mode.unwrap_or(super::CrashMode::Process),
        },
        FaultKind::Restart => Fault::Restart { node: node()? },
        FaultKind::Heal => Fault::Heal,
        FaultKind::Partition => match &f.groups {
            Some(groups) => Fault::Partition {
                sides: groups
                    .iter()
                    .map(|g| g.iter().map(|s| node_ref(s)).collect())
                    .collect::<Result<_, _>>()?,
                one_way: false,
                duration_ms: f.duration_ms,
            },
            None => Fault::Partition {
                sides: vec![node_refs(&f.from, "from")?, node_refs(&f.to, "to")?],
                one_way: true,
                duration_ms: f.duration_ms,
            },
        },
        FaultKind::Pause => Fault::Pause {
            node: node()?,
            duration_ms: duration()?,
        },
        FaultKind::Slow => Fault::Slow {
            node: node()?,
            extra_latency_ms: f
                .extra_latency_ms
                .ok_or("missing field `extra_latency_ms`")?,
            duration_ms: duration()?,
        },
        FaultKind::Drop => Fault::Drop {
            from: node_refs(&f.from, "from")?,
            to: node_refs(&f.to, "to")?,
            probability: f.probability.ok_or("missing field `probability`")?,
            duration_ms: duration()?,
        },
        FaultKind::SlowPoll => Fault::SlowPoll {
            node: node()?,
            duration_ms: duration()?,
        },
        FaultKind::Delay => Fault::Delay {
            from: node_refs(&f.from, "from")?,
            to: node_refs(&f.to, "to")?,
            extra_latency_ms: f
                .extra_latency_ms
                .ok_or("missing field `extra_latency_ms`")?,
            duration_ms: duration()?,
        },
    })
}
