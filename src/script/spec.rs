//! The script file: its serde model, parsing (JSON or TOML) with located errors, and validation into
//! typed steps. Every error names the file and the JSON path (`steps[3].args.offsets[0]`), or for a
//! TOML syntax or type error the line and column.

use super::build::{self, RequestKind};
use crate::coordinator::CoordinatorConfig;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// Why a script could not be loaded (exit 2).
#[derive(Debug)]
pub struct ScriptError {
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptFile {
    name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    protocol: Option<String>,
    #[serde(default)]
    config: BTreeMap<String, Value>,
    #[serde(default)]
    defaults: Map<String, Value>,
    cluster_topics: Option<BTreeMap<String, u32>>,
    initial_state: Option<Value>,
    steps: Vec<StepSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepSpec {
    id: Option<String>,
    at_ms: u64,
    member: Option<String>,
    request: Option<String>,
    args: Option<Map<String, Value>>,
    expect: Option<Value>,
    check: Option<String>,
    of: Option<String>,
    group_id: Option<String>,
    #[allow(dead_code)]
    note: Option<String>,
}

/// What a request step expects.
#[derive(Clone, Debug)]
pub enum Expect {
    /// The request must be parked.
    Pending,
    /// These fields of the response (absent keys are not checked).
    Fields(Map<String, Value>),
}

#[derive(Clone, Debug)]
pub enum StepKind {
    Request {
        member: String,
        kind: RequestKind,
        /// The step's args over the script's defaults, aliases unresolved.
        args: Map<String, Value>,
        expect: Option<Expect>,
    },
    /// The parked request of step `of` is answered at exactly this time.
    CheckResponse {
        of: usize,
        expect: Map<String, Value>,
    },
    CheckStillPending {
        of: usize,
    },
    CheckGroup {
        group_id: String,
        expect: Map<String, Value>,
    },
}

#[derive(Clone, Debug)]
pub struct Step {
    pub id: Option<String>,
    pub at_ms: u64,
    pub kind: StepKind,
}

/// A validated script.
#[derive(Clone, Debug)]
pub struct Script {
    pub path: String,
    pub name: Option<String>,
    pub config: CoordinatorConfig,
    pub steps: Vec<Step>,
}

/// Script files larger than this are refused before they are read.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Reads and validates a script file (`.json` or `.toml`).
pub fn load(path: &Path) -> Result<Script, ScriptError> {
    let shown = path.display().to_string();
    let text =
        crate::input::read_text(path, MAX_FILE_BYTES).map_err(|message| ScriptError { message })?;
    let file = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => parse_json(&shown, &text)?,
        Some("toml") => parse_toml(&shown, &text)?,
        _ => {
            return Err(ScriptError {
                message: format!("{shown}: a script must be a .json or .toml file"),
            })
        }
    };
    validate(&shown, file).map_err(|(at, message)| ScriptError {
        message: format!("{shown}: {at}: {message}"),
    })
}

fn parse_json(shown: &str, text: &str) -> Result<ScriptFile, ScriptError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ScriptError {
            message: format!(
                "{shown}:{}:{}: {}: {}",
                inner.line(),
                inner.column(),
                path_or_top(&path),
                strip_position(&inner.to_string())
            ),
        }
    })
}

fn parse_toml(shown: &str, text: &str) -> Result<ScriptFile, ScriptError> {
    toml::from_str::<ScriptFile>(text).map_err(|e| {
        let location = e
            .span()
            .map(|s| {
                let (line, col) = line_col(text, s.start);
                format!("{line}:{col}: ")
            })
            .unwrap_or_default();
        ScriptError {
            message: format!("{shown}:{location}{}", e.message()),
        }
    })
}

fn path_or_top(path: &str) -> &str {
    if path == "." || path.is_empty() {
        "(top level)"
    } else {
        path
    }
}

/// serde_json appends " at line L column C" to its messages; the location is printed up front.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, col)
}

type Located = (String, String);

/// The latest simulated time a step may be at: a year (offset expiry needs days).
pub const MAX_AT_MS: u64 = 365 * 24 * 3600 * 1000;

/// How often the periodic offsets-expiration check may fire before the last step: time passes
/// by firing every timer, so this bounds the run.
pub const MAX_PERIODIC_CHECKS: u64 = 1_000_000;

fn validate(shown: &str, file: ScriptFile) -> Result<Script, Located> {
    match file.protocol.as_deref().unwrap_or("classic") {
        "classic" => {}
        "consumer" => {
            return Err((
                "protocol".into(),
                "unsupported protocol `consumer` (KIP-848 scripts are not supported yet)".into(),
            ))
        }
        other => return Err(("protocol".into(), format!("unknown protocol `{other}`"))),
    }
    if file.initial_state.is_some() {
        return Err((
            "initial_state".into(),
            "`initial_state` seeds KIP-848 groups; it is not allowed with the classic protocol"
                .into(),
        ));
    }
    let mut config = config_from(&file.config)?;
    config.cluster_topics = file.cluster_topics.clone();
    for key in file.defaults.keys() {
        if !build::DEFAULTABLE_ARGS.contains(&key.as_str()) {
            return Err((
                format!("defaults.{key}"),
                format!("unknown default `{key}`"),
            ));
        }
    }
    let mut ids: BTreeMap<String, (usize, bool)> = BTreeMap::new();
    let mut steps = Vec::new();
    let mut last_at = 0;
    for (i, spec) in file.steps.into_iter().enumerate() {
        let at = format!("steps[{i}]");
        if spec.at_ms < last_at {
            return Err((
                format!("{at}.at_ms"),
                format!(
                    "at_ms {} is before the previous step's {last_at}",
                    spec.at_ms
                ),
            ));
        }
        if spec.at_ms > MAX_AT_MS {
            return Err((
                format!("{at}.at_ms"),
                format!("at most {MAX_AT_MS} ms (a year), not {}", spec.at_ms),
            ));
        }
        last_at = spec.at_ms;
        let step = validate_step(&at, spec, &file.defaults, &ids)?;
        if let Some(id) = &step.id {
            let is_request = matches!(step.kind, StepKind::Request { .. });
            if ids.insert(id.clone(), (i, is_request)).is_some() {
                return Err((format!("{at}.id"), format!("duplicate step id `{id}`")));
            }
        }
        steps.push(step);
    }
    let interval = config.offsets_retention_check_interval_ms.max(1);
    if last_at / interval > MAX_PERIODIC_CHECKS {
        return Err((
            "config.offsets.retention.check.interval.ms".into(),
            format!(
                "{interval} ms would fire the offsets-expiration check {} times before the last \
                 step (at {last_at} ms); at most {MAX_PERIODIC_CHECKS}",
                last_at / interval
            ),
        ));
    }
    Ok(Script {
        path: shown.to_string(),
        name: file.name,
        config,
        steps,
    })
}

fn validate_step(
    at: &str,
    spec: StepSpec,
    defaults: &Map<String, Value>,
    ids: &BTreeMap<String, (usize, bool)>,
) -> Result<Step, Located> {
    let kind = match (&spec.request, &spec.check) {
        (Some(_), Some(_)) => {
            return Err((
                at.into(),
                "a step has either `request` or `check`, not both".into(),
            ))
        }
        (None, None) => return Err((at.into(), "a step needs `request` or `check`".into())),
        (Some(request), None) => request_step(at, &spec, request, defaults)?,
        (None, Some(check)) => check_step(at, &spec, check, defaults, ids)?,
    };
    Ok(Step {
        id: spec.id,
        at_ms: spec.at_ms,
        kind,
    })
}

fn request_step(
    at: &str,
    spec: &StepSpec,
    request: &str,
    defaults: &Map<String, Value>,
) -> Result<StepKind, Located> {
    let kind = RequestKind::from_name(request).ok_or_else(|| {
        (
            format!("{at}.request"),
            format!(
                "unknown request `{request}` (expected one of {})",
                RequestKind::NAMES
            ),
        )
    })?;
    let member = spec.member.clone().ok_or_else(|| {
        (
            format!("{at}.member"),
            "a request step needs a `member`".to_string(),
        )
    })?;
    if spec.of.is_some() || spec.group_id.is_some() {
        return Err((
            at.into(),
            "`of` and `group_id` belong to check steps".into(),
        ));
    }
    let args = build::merge_args(kind, spec.args.clone().unwrap_or_default(), defaults)
        .map_err(|(key, m)| (format!("{at}.args.{key}"), m))?;
    // Build once with placeholder member ids, so that shape errors surface before running.
    build::build_request(kind, &member, &args, &|alias| Ok(format!("${alias}")))
        .map_err(|e| (format!("{at}.args{}", e.path), e.message))?;
    let expect = match &spec.expect {
        None => None,
        Some(Value::String(s)) if s == "pending" => Some(Expect::Pending),
        Some(Value::Object(m)) => Some(Expect::Fields(m.clone())),
        Some(_) => {
            return Err((
                format!("{at}.expect"),
                "expected an object of response fields or \"pending\"".into(),
            ))
        }
    };
    Ok(StepKind::Request {
        member,
        kind,
        args,
        expect,
    })
}

fn check_step(
    at: &str,
    spec: &StepSpec,
    check: &str,
    defaults: &Map<String, Value>,
    ids: &BTreeMap<String, (usize, bool)>,
) -> Result<StepKind, Located> {
    if spec.request.is_some() || spec.args.is_some() || spec.member.is_some() {
        return Err((
            at.into(),
            "a check step takes no `member`, `request` or `args`".into(),
        ));
    }
    let expect_object = || match &spec.expect {
        Some(Value::Object(m)) => Ok(m.clone()),
        None => Ok(Map::new()),
        Some(_) => Err((format!("{at}.expect"), "expected an object".to_string())),
    };
    let of = || -> Result<usize, Located> {
        let of = spec
            .of
            .as_ref()
            .ok_or_else(|| (format!("{at}.of"), "this check needs `of`".to_string()))?;
        match ids.get(of) {
            Some((i, true)) => Ok(*i),
            Some((_, false)) => Err((format!("{at}.of"), format!("step `{of}` is not a request"))),
            None => Err((format!("{at}.of"), format!("no earlier step has id `{of}`"))),
        }
    };
    match check {
        "response" => Ok(StepKind::CheckResponse {
            of: of()?,
            expect: expect_object()?,
        }),
        "still_pending" => Ok(StepKind::CheckStillPending { of: of()? }),
        "group" => {
            let expect = expect_object()?;
            let allowed = [
                "state",
                "generation_id",
                "members",
                "leader",
                "pending_members",
                "exists",
                "group_epoch",
                "protocol_type",
                "protocol_name",
            ];
            if let Some(k) = expect.keys().find(|k| !allowed.contains(&k.as_str())) {
                return Err((
                    format!("{at}.expect.{k}"),
                    format!("unknown group field `{k}`"),
                ));
            }
            let group_id = spec
                .group_id
                .clone()
                .or_else(|| {
                    defaults
                        .get("group_id")
                        .and_then(|v| v.as_str())
                        .map(String::from)
                })
                .ok_or_else(|| {
                    (
                        format!("{at}.group_id"),
                        "no group_id here or in defaults".to_string(),
                    )
                })?;
            Ok(StepKind::CheckGroup { group_id, expect })
        }
        other => Err((
            format!("{at}.check"),
            format!("unknown check `{other}` (expected response, still_pending or group)"),
        )),
    }
}

/// The coordinator configuration from the script's `config`, Kafka's names.
fn config_from(config: &BTreeMap<String, Value>) -> Result<CoordinatorConfig, Located> {
    let mut c = CoordinatorConfig::default();
    for (key, value) in config {
        let at = format!("config.{key}");
        let int = || {
            value
                .as_u64()
                .ok_or_else(|| (at.clone(), "expected a non-negative integer".to_string()))
        };
        let small = || {
            int().and_then(|v| {
                i32::try_from(v).map_err(|_| (at.clone(), "out of range for an int".to_string()))
            })
        };
        match key.as_str() {
            "group.min.session.timeout.ms" => c.group_min_session_timeout_ms = small()?,
            "group.max.session.timeout.ms" => c.group_max_session_timeout_ms = small()?,
            // Kafka's INT configs are refused past i32::MAX, as Kafka's ConfigDef does; the
            // one LONG (the check interval) within a step's time bound.
            "group.initial.rebalance.delay.ms" => {
                c.group_initial_rebalance_delay_ms = small()? as u64
            }
            "group.max.size" => c.group_max_size = small()? as usize,
            "offset.metadata.max.bytes" => c.offset_metadata_max_bytes = small()? as usize,
            "offsets.retention.minutes" => c.offsets_retention_ms = small()? as u64 * 60_000,
            "offsets.retention.check.interval.ms" => {
                let v = int()?;
                if v == 0 || v > MAX_AT_MS {
                    return Err((at, format!("must be between 1 and {MAX_AT_MS}, not {v}")));
                }
                c.offsets_retention_check_interval_ms = v
            }
            "group.new.member.join.timeout.ms" => c.new_member_join_timeout_ms = small()? as u64,
            "commit_ignores_generation" => {
                c.commit_ignores_generation = value
                    .as_bool()
                    .ok_or_else(|| (at.clone(), "expected true or false".to_string()))?
            }
            "member_id_seed" => c.member_id_seed = int()?.to_string(),
            _ => return Err((at, format!("unknown config `{key}`"))),
        }
    }
    Ok(c)
}

/// Every alias a script names (`member` fields), for reports.
pub fn aliases(script: &Script) -> BTreeSet<String> {
    script
        .steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::Request { member, .. } => Some(member.clone()),
            _ => None,
        })
        .collect()
}
