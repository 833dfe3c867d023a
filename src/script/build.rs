//! Turning a step's `args` into a coordinator request: which args each request takes, which come
//! from `defaults`, and `$A` alias substitution. Errors carry the JSON path below `args`.

use crate::coordinator::api::*;
use crate::protocol::TopicPartition;
use serde_json::{Map, Value};

/// The requests a script can send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    JoinGroup,
    SyncGroup,
    Heartbeat,
    LeaveGroup,
    OffsetCommit,
    OffsetFetch,
    DescribeGroups,
    DeleteGroups,
}

impl RequestKind {
    pub const NAMES: &'static str = "JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, \
                                     OffsetFetch, DescribeGroups, DeleteGroups";

    pub fn from_name(name: &str) -> Option<RequestKind> {
        Some(match name {
            "JoinGroup" => RequestKind::JoinGroup,
            "SyncGroup" => RequestKind::SyncGroup,
            "Heartbeat" => RequestKind::Heartbeat,
            "LeaveGroup" => RequestKind::LeaveGroup,
            "OffsetCommit" => RequestKind::OffsetCommit,
            "OffsetFetch" => RequestKind::OffsetFetch,
            "DescribeGroups" => RequestKind::DescribeGroups,
            "DeleteGroups" => RequestKind::DeleteGroups,
            _ => return None,
        })
    }

    /// The args the request accepts.
    fn args(self) -> &'static [&'static str] {
        match self {
            RequestKind::JoinGroup => &[
                "group_id",
                "member_id",
                "group_instance_id",
                "protocols",
                "protocol_type",
                "session_timeout_ms",
                "rebalance_timeout_ms",
                "reason",
                "require_known_member_id",
                "support_skipping_assignment",
                "client_id",
                "client_host",
            ],
            RequestKind::SyncGroup => &[
                "group_id",
                "member_id",
                "group_instance_id",
                "generation_id",
                "protocol_type",
                "protocol_name",
                "assignments",
            ],
            RequestKind::Heartbeat => &[
                "group_id",
                "member_id",
                "group_instance_id",
                "generation_id",
            ],
            RequestKind::LeaveGroup => &[
                "group_id",
                "members",
                "member_id",
                "group_instance_id",
                "reason",
            ],
            RequestKind::OffsetCommit => &[
                "group_id",
                "member_id",
                "group_instance_id",
                "generation_id",
                "offsets",
                "api_version",
            ],
            RequestKind::OffsetFetch => &["group_id", "partitions", "require_stable"],
            RequestKind::DescribeGroups | RequestKind::DeleteGroups => &["group_id", "group_ids"],
        }
    }
}

/// Keys allowed in `defaults`.
pub const DEFAULTABLE_ARGS: &[&str] = &[
    "group_id",
    "session_timeout_ms",
    "rebalance_timeout_ms",
    "protocol_type",
    "protocols",
    "require_known_member_id",
    "support_skipping_assignment",
    "client_host",
    "api_version",
];

/// The step's args over the defaults that apply to this request. Unknown args are an error
/// (`(key, message)`).
pub fn merge_args(
    kind: RequestKind,
    mut args: Map<String, Value>,
    defaults: &Map<String, Value>,
) -> Result<Map<String, Value>, (String, String)> {
    if let Some(k) = args.keys().find(|k| !kind.args().contains(&k.as_str())) {
        return Err((k.clone(), format!("{kind:?} takes no arg `{k}`")));
    }
    for (k, v) in defaults {
        // SyncGroup's protocol type is checked only when given: never defaulted.
        let applies = kind.args().contains(&k.as_str())
            && !(k == "protocol_type" && kind != RequestKind::JoinGroup);
        if applies && !args.contains_key(k) {
            args.insert(k.clone(), v.clone());
        }
    }
    Ok(args)
}

/// A bad arg: its path below `args` (`.offsets[0][2]`) and what is wrong.
#[derive(Debug)]
pub struct ArgError {
    pub path: String,
    pub message: String,
}

/// Resolves an alias (`A` for `"$A"`) to the member id the coordinator gave it.
pub type Resolve<'a> = &'a dyn Fn(&str) -> Result<String, String>;

struct Args<'a> {
    map: &'a Map<String, Value>,
    resolve: Resolve<'a>,
    member: &'a str,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> ArgError {
    ArgError {
        path: path.into(),
        message: message.into(),
    }
}

impl Args<'_> {
    /// A string value, with `"$A"` replaced by A's member id.
    fn string_at(&self, path: &str, v: &Value) -> Result<String, ArgError> {
        let s = v.as_str().ok_or_else(|| err(path, "expected a string"))?;
        match s.strip_prefix('$') {
            Some(alias) => (self.resolve)(alias).map_err(|m| err(path, m)),
            None => Ok(s.to_string()),
        }
    }

    fn opt_string(&self, key: &str) -> Result<Option<String>, ArgError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self.string_at(&format!(".{key}"), v).map(Some),
        }
    }

    fn string_or(&self, key: &str, default: &str) -> Result<String, ArgError> {
        Ok(self.opt_string(key)?.unwrap_or_else(|| default.to_string()))
    }

    fn group_id(&self) -> Result<String, ArgError> {
        self.opt_string("group_id")?
            .ok_or_else(|| err(".group_id", "missing (give it in args or defaults)"))
    }

    /// The member id: the arg, else the id the member's alias is bound to, else `""`.
    fn member_id(&self) -> Result<String, ArgError> {
        match self.opt_string("member_id")? {
            Some(id) => Ok(id),
            None => Ok((self.resolve)(self.member).unwrap_or_default()),
        }
    }

    fn int(&self, key: &str, default: i64) -> Result<i64, ArgError> {
        match self.map.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_i64()
                .ok_or_else(|| err(format!(".{key}"), "expected an integer")),
        }
    }

    fn int32(&self, key: &str, default: i32) -> Result<i32, ArgError> {
        let v = self.int(key, default as i64)?;
        i32::try_from(v).map_err(|_| err(format!(".{key}"), "out of range for an int32"))
    }

    fn boolean(&self, key: &str, default: bool) -> Result<bool, ArgError> {
        match self.map.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| err(format!(".{key}"), "expected true or false")),
        }
    }

    fn array(&self, key: &str) -> Result<Option<&Vec<Value>>, ArgError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(err(format!(".{key}"), "expected a list")),
        }
    }
}

/// Builds the request of a step; `member` is the step's client alias.
pub fn build_request(
    kind: RequestKind,
    member: &str,
    map: &Map<String, Value>,
    resolve: Resolve<'_>,
) -> Result<GroupRequest, ArgError> {
    let a = Args {
        map,
        resolve,
        member,
    };
    Ok(match kind {
        RequestKind::JoinGroup => GroupRequest::JoinGroup(join_group(&a)?),
        RequestKind::SyncGroup => GroupRequest::SyncGroup(sync_group(&a)?),
        RequestKind::Heartbeat => GroupRequest::Heartbeat(HeartbeatRequest {
            group_id: a.group_id()?,
            generation_id: a.int32("generation_id", -1)?,
            member_id: a.member_id()?,
            group_instance_id: a.opt_string("group_instance_id")?,
        }),
        RequestKind::LeaveGroup => GroupRequest::LeaveGroup(leave_group(&a)?),
        RequestKind::OffsetCommit => GroupRequest::OffsetCommit(offset_commit(&a)?),
        RequestKind::OffsetFetch => GroupRequest::OffsetFetch(offset_fetch(&a)?),
        RequestKind::DescribeGroups => GroupRequest::DescribeGroups(DescribeGroupsRequest {
            group_ids: group_ids(&a)?,
        }),
        RequestKind::DeleteGroups => GroupRequest::DeleteGroups(DeleteGroupsRequest {
            group_ids: group_ids(&a)?,
        }),
    })
}

fn join_group(a: &Args) -> Result<JoinGroupRequest, ArgError> {
    let mut protocols = Vec::new();
    for (i, p) in a.array("protocols")?.into_iter().flatten().enumerate() {
        let path = format!(".protocols[{i}]");
        let pair = p
            .as_array()
            .filter(|p| p.len() == 2)
            .ok_or_else(|| err(&path, "expected [name, metadata]"))?;
        protocols.push(JoinGroupProtocol {
            name: a.string_at(&format!("{path}[0]"), &pair[0])?,
            metadata: a.string_at(&format!("{path}[1]"), &pair[1])?,
        });
    }
    Ok(JoinGroupRequest {
        group_id: a.group_id()?,
        session_timeout_ms: a.int32("session_timeout_ms", 45_000)?,
        rebalance_timeout_ms: a.int32("rebalance_timeout_ms", 300_000)?,
        member_id: a.opt_string("member_id")?.unwrap_or_default(),
        group_instance_id: a.opt_string("group_instance_id")?,
        protocol_type: a.string_or("protocol_type", "consumer")?,
        protocols,
        reason: a.opt_string("reason")?,
        client_id: a.string_or("client_id", a.member)?,
        client_host: a.string_or("client_host", "/127.0.0.1")?,
        require_known_member_id: a.boolean("require_known_member_id", true)?,
        support_skipping_assignment: a.boolean("support_skipping_assignment", true)?,
    })
}

fn sync_group(a: &Args) -> Result<SyncGroupRequest, ArgError> {
    let mut assignments = Vec::new();
    match a.map.get("assignments") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let path = format!(".assignments.{k}");
                let member = a.string_at(&path, &Value::String(k.clone()))?;
                assignments.push((member, a.string_at(&path, v)?));
            }
        }
        Some(_) => {
            return Err(err(
                ".assignments",
                "expected an object: member id -> assignment",
            ))
        }
    }
    Ok(SyncGroupRequest {
        group_id: a.group_id()?,
        generation_id: a.int32("generation_id", -1)?,
        member_id: a.member_id()?,
        group_instance_id: a.opt_string("group_instance_id")?,
        protocol_type: a.opt_string("protocol_type")?,
        protocol_name: a.opt_string("protocol_name")?,
        assignments,
    })
}

fn leave_group(a: &Args) -> Result<LeaveGroupRequest, ArgError> {
    let members = match a.array("members")? {
        None => vec![MemberIdentity {
            member_id: a.member_id()?,
            group_instance_id: a.opt_string("group_instance_id")?,
            reason: a.opt_string("reason")?,
        }],
        Some(list) => {
            let mut members = Vec::new();
            for (i, m) in list.iter().enumerate() {
                let path = format!(".members[{i}]");
                let obj = m
                    .as_object()
                    .ok_or_else(|| err(&path, "expected an object"))?;
                if let Some(k) = obj
                    .keys()
                    .find(|k| !["member_id", "group_instance_id", "reason"].contains(&k.as_str()))
                {
                    return Err(err(format!("{path}.{k}"), format!("unknown field `{k}`")));
                }
                let field = |k: &str| -> Result<Option<String>, ArgError> {
                    match obj.get(k) {
                        None | Some(Value::Null) => Ok(None),
                        Some(v) => a.string_at(&format!("{path}.{k}"), v).map(Some),
                    }
                };
                members.push(MemberIdentity {
                    member_id: field("member_id")?.unwrap_or_default(),
                    group_instance_id: field("group_instance_id")?,
                    reason: field("reason")?,
                });
            }
            members
        }
    };
    Ok(LeaveGroupRequest {
        group_id: a.group_id()?,
        members,
    })
}

fn partition_at(path: &str, v: &Value) -> Result<u32, ArgError> {
    v.as_u64()
        .and_then(|p| u32::try_from(p).ok())
        .ok_or_else(|| err(path, "expected a partition number"))
}

fn offset_commit(a: &Args) -> Result<OffsetCommitRequest, ArgError> {
    let mut partitions = Vec::new();
    for (i, o) in a.array("offsets")?.into_iter().flatten().enumerate() {
        let path = format!(".offsets[{i}]");
        let e = o.as_array().filter(|e| e.len() == 5).ok_or_else(|| {
            err(
                &path,
                "expected [topic, partition, offset, leader_epoch|null, metadata]",
            )
        })?;
        let leader_epoch = match &e[3] {
            Value::Null => None,
            v => match v.as_i64().and_then(|x| i32::try_from(x).ok()) {
                Some(-1) => None,
                Some(x) => Some(x),
                None => return Err(err(format!("{path}[3]"), "expected a leader epoch or null")),
            },
        };
        let metadata = match &e[4] {
            Value::Null => None,
            v => Some(a.string_at(&format!("{path}[4]"), v)?),
        };
        partitions.push(OffsetCommitPartition {
            tp: TopicPartition::new(
                a.string_at(&format!("{path}[0]"), &e[0])?,
                partition_at(&format!("{path}[1]"), &e[1])?,
            ),
            offset: e[2]
                .as_i64()
                .ok_or_else(|| err(format!("{path}[2]"), "expected an offset"))?,
            leader_epoch,
            metadata,
        });
    }
    let api_version = a.int("api_version", 9)?;
    Ok(OffsetCommitRequest {
        group_id: a.group_id()?,
        generation_id: a.int32("generation_id", -1)?,
        member_id: a.member_id()?,
        group_instance_id: a.opt_string("group_instance_id")?,
        api_version: i16::try_from(api_version).map_err(|_| err(".api_version", "out of range"))?,
        partitions,
    })
}

fn offset_fetch(a: &Args) -> Result<OffsetFetchRequest, ArgError> {
    let partitions = match a.array("partitions")? {
        None => None,
        Some(list) => {
            let mut tps = Vec::new();
            for (i, p) in list.iter().enumerate() {
                let path = format!(".partitions[{i}]");
                let pair = p
                    .as_array()
                    .filter(|p| p.len() == 2)
                    .ok_or_else(|| err(&path, "expected [topic, partition]"))?;
                tps.push(TopicPartition::new(
                    a.string_at(&format!("{path}[0]"), &pair[0])?,
                    partition_at(&format!("{path}[1]"), &pair[1])?,
                ));
            }
            Some(tps)
        }
    };
    Ok(OffsetFetchRequest {
        group_id: a.group_id()?,
        partitions,
        require_stable: a.boolean("require_stable", false)?,
    })
}

fn group_ids(a: &Args) -> Result<Vec<String>, ArgError> {
    match a.array("group_ids")? {
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(i, v)| a.string_at(&format!(".group_ids[{i}]"), v))
            .collect(),
        None => Ok(vec![a.group_id()?]),
    }
}
