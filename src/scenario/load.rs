//! Reading a scenario file: refuse an oversized file before reading it, parse with the path of
//! any field that fails (serde_path_to_error) and toml's span, convert the faults, validate;
//! every error names the file, line, column and field.

// Errors carry their location and source line for display; loading is a cold path.
#![allow(clippy::result_large_err)]

use super::error::ScenarioError;
use super::fault::{Fault, NodeRef, TimedFault};
use super::locate::{offset_of, FieldPath};
use super::model::{FaultKind, FaultSpec, Scenario};
use super::validate;
use crate::protocol::TopicPartition;
use std::path::Path;

/// Scenario files larger than this are refused before they are read.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// A scenario that passed validation: the file's content plus its faults in typed form.
#[derive(Clone, Debug)]
pub struct ValidScenario {
    /// The path as given, for reports.
    pub path: String,
    pub spec: Scenario,
    /// Faults in firing order (stable: equal times keep file order).
    pub faults: Vec<TimedFault>,
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<ValidScenario, ScenarioError> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path)
        .map_err(|e| ScenarioError::file(&name, format!("cannot read: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(ScenarioError::file(
            &name,
            format!(
                "{} bytes is larger than the {MAX_FILE_BYTES}-byte limit",
                meta.len()
            ),
        ));
    }
    let bytes =
        std::fs::read(path).map_err(|e| ScenarioError::file(&name, format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        ScenarioError::at(
            &name,
            &text,
            e.utf8_error().valid_up_to(),
            None,
            "the file is not valid UTF-8",
        )
    })?;
    from_str(&name, &text)
}

/// Parses and validates scenario text; `path` only names it in errors and reports.
pub fn from_str(path: &str, text: &str) -> Result<ValidScenario, ScenarioError> {
    let de = toml::Deserializer::new(text);
    let spec: Scenario = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let field = (!field.is_empty() && field != ".").then_some(field);
        let inner = e.into_inner();
        let offset = inner.span().map(|s| s.start).unwrap_or(0);
        let mut err = ScenarioError::at(
            path,
            text,
            offset,
            field,
            inner.message().trim().to_string(),
        );
        if err.field.is_none() {
            // A value TOML itself rejects (e.g. an integer too large): name the key on that line.
            err.field = err
                .source_line
                .as_deref()
                .and_then(|l| l.split_once('='))
                .map(|(k, _)| k.trim().to_string());
        }
        err
    })?;
    let locate = |(field, message): (FieldPath, String)| {
        ScenarioError::at(
            path,
            text,
            offset_of(text, &field),
            Some(field.to_string()),
            message,
        )
    };
    validate::validate(&spec).map_err(locate)?;
    let mut faults = Vec::new();
    for (i, f) in spec.faults.iter().enumerate() {
        let at = FieldPath::key("fault").at(i);
        let fault = convert_fault(f, &at).map_err(locate)?;
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

/// Parses a node reference: a node name, `leader:TOPIC/PARTITION` or `last_crashed`.
pub fn node_ref(s: &str) -> Result<NodeRef, String> {
    if s == "last_crashed" {
        return Ok(NodeRef::LastCrashed);
    }
    if let Some(rest) = s.strip_prefix("leader:") {
        let (topic, p) = rest
            .rsplit_once('/')
            .ok_or("expected leader:TOPIC/PARTITION")?;
        let p: u32 = p
            .parse()
            .map_err(|_| format!("`{p}` is not a partition number"))?;
        return Ok(NodeRef::LeaderOf(TopicPartition::new(topic, p)));
    }
    s.parse().map(NodeRef::Node)
}

type Located<T> = Result<T, (FieldPath, String)>;

fn node_refs(v: &Option<Vec<String>>, at: &FieldPath, field: &str) -> Located<Vec<NodeRef>> {
    let list = v
        .as_ref()
        .ok_or((at.field(field), format!("missing field `{field}`")))?;
    list.iter()
        .enumerate()
        .map(|(i, s)| node_ref(s).map_err(|m| (at.field(field).at(i), m)))
        .collect()
}

fn required<T: Copy>(v: Option<T>, at: &FieldPath, field: &str) -> Located<T> {
    v.ok_or((at.field(field), format!("missing field `{field}`")))
}

fn convert_fault(f: &FaultSpec, at: &FieldPath) -> Located<Fault> {
    let node = || {
        let s = f
            .node
            .as_deref()
            .ok_or((at.field("node"), "missing field `node`".to_string()))?;
        node_ref(s).map_err(|m| (at.field("node"), m))
    };
    let duration = || required(f.duration_ms, at, "duration_ms");
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
                    .enumerate()
                    .map(|(i, g)| {
                        g.iter()
                            .enumerate()
                            .map(|(j, s)| {
                                node_ref(s).map_err(|m| (at.field("groups").at(i).at(j), m))
                            })
                            .collect()
                    })
                    .collect::<Located<_>>()?,
                one_way: false,
                duration_ms: f.duration_ms,
            },
            None => Fault::Partition {
                sides: vec![node_refs(&f.from, at, "from")?, node_refs(&f.to, at, "to")?],
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
            extra_latency_ms: required(f.extra_latency_ms, at, "extra_latency_ms")?,
            duration_ms: duration()?,
        },
        FaultKind::SlowPoll => Fault::SlowPoll {
            node: node()?,
            duration_ms: duration()?,
        },
        FaultKind::Drop => Fault::Drop {
            from: node_refs(&f.from, at, "from")?,
            to: node_refs(&f.to, at, "to")?,
            probability: required(f.probability, at, "probability")?,
            duration_ms: duration()?,
        },
        FaultKind::Delay => Fault::Delay {
            from: node_refs(&f.from, at, "from")?,
            to: node_refs(&f.to, at, "to")?,
            extra_latency_ms: required(f.extra_latency_ms, at, "extra_latency_ms")?,
            duration_ms: duration()?,
        },
    })
}
