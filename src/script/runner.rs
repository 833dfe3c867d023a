//! Running a script: one coordinator core, driven at the steps' times, every append committed at
//! once, every response recorded with the time it was given, every expectation checked.
//!
//! Time: before a step at `at_ms`, every timer due at or before it fires, each at its own deadline
//! (so a check at a deadline sees the state after the timer). Aliases: a JoinGroup response with a
//! member id binds the sending member's alias if it is unbound; an expected `member_id` of
//! `"<new:A>"` (re)binds A, and holds only for a non-empty id different from A's id when the
//! request was sent.

use super::build::{self, RequestKind};
use super::render;
use super::spec::{Expect, Script, Step, StepKind};
use crate::coordinator::{CoordinatorOutput, GroupCoordinator, RequestToken};
use crate::protocol::Millis;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Appends committed per input are bounded, so a coordinator bug cannot loop forever.
const MAX_APPEND_ROUNDS: usize = 10_000;

/// The counts printed on the summary line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    pub steps: usize,
    pub failed: usize,
}

/// The result of one step, as printed on its line.
#[derive(Clone, Debug, PartialEq)]
pub struct StepLine {
    /// 1-based position in the file.
    pub step: usize,
    pub id: Option<String>,
    pub ok: bool,
    /// What really happened.
    pub actual: Value,
    /// What was expected, on failure.
    pub expected: Option<Value>,
}

impl StepLine {
    /// The line's JSON text, keys in the contract's order.
    pub fn to_json_line(&self) -> String {
        let mut s = format!("{{\"step\": {}", self.step);
        if let Some(id) = &self.id {
            s += &format!(", \"id\": {}", json!(id));
        }
        s += &format!(", \"ok\": {}, \"actual\": {}", self.ok, self.actual);
        if let Some(e) = &self.expected {
            s += &format!(", \"expected\": {e}");
        }
        s + "}"
    }
}

/// A request a step sent.
struct Sent {
    kind: RequestKind,
    member: String,
    /// When it was answered, and the answer.
    answered: Option<(Millis, Value)>,
    /// Alias bindings when it was sent (for `<new:A>`).
    aliases_at_send: BTreeMap<String, String>,
}

struct Runner {
    coordinator: GroupCoordinator,
    aliases: BTreeMap<String, String>,
    sent: BTreeMap<usize, Sent>,
    by_token: BTreeMap<RequestToken, usize>,
    next_token: u64,
}

/// Runs `script`, handing each step's result line to `emit`.
pub fn run(script: &Script, mut emit: impl FnMut(&StepLine)) -> Summary {
    let mut runner = Runner {
        coordinator: GroupCoordinator::new(script.config.clone(), 0),
        aliases: BTreeMap::new(),
        sent: BTreeMap::new(),
        by_token: BTreeMap::new(),
        next_token: 0,
    };
    let mut failed = 0;
    for (i, step) in script.steps.iter().enumerate() {
        runner.advance(step.at_ms);
        let (ok, actual) = runner.step(i, step);
        if !ok {
            failed += 1;
        }
        emit(&StepLine {
            step: i + 1,
            id: step.id.clone(),
            ok,
            actual,
            expected: if ok { None } else { expected_of(step) },
        });
    }
    Summary {
        steps: script.steps.len(),
        failed,
    }
}

fn expected_of(step: &Step) -> Option<Value> {
    match &step.kind {
        StepKind::Request { expect, .. } => match expect {
            Some(Expect::Pending) => Some(json!("pending")),
            Some(Expect::Fields(m)) => Some(Value::Object(m.clone())),
            None => None,
        },
        StepKind::CheckResponse { expect, .. } | StepKind::CheckGroup { expect, .. } => {
            Some(Value::Object(expect.clone()))
        }
        StepKind::CheckStillPending { .. } => Some(json!("pending")),
    }
}

impl Runner {
    /// Fires every timer due at or before `t`, each at its deadline.
    fn advance(&mut self, t: Millis) {
        while let Some(deadline) = self.coordinator.next_deadline() {
            if deadline > t {
                break;
            }
            let out = self.coordinator.tick(deadline);
            self.absorb(out, deadline);
        }
    }

    /// Records responses and commits every append at once.
    fn absorb(&mut self, out: CoordinatorOutput, now: Millis) {
        let mut queue = vec![out];
        let mut rounds = 0;
        while let Some(out) = queue.pop() {
            for (token, response) in &out.responses {
                self.record_response(*token, render::response(response), now);
            }
            for append in out.appends {
                rounds += 1;
                assert!(
                    rounds < MAX_APPEND_ROUNDS,
                    "the coordinator keeps appending"
                );
                queue.push(self.coordinator.append_completed(now, append.id, Ok(())));
            }
        }
    }

    fn record_response(&mut self, token: RequestToken, response: Value, now: Millis) {
        let Some(step) = self.by_token.get(&token) else {
            return;
        };
        let sent = self.sent.get_mut(step).expect("sent step");
        if sent.kind == RequestKind::JoinGroup && !self.aliases.contains_key(&sent.member) {
            if let Some(id) = response["member_id"].as_str().filter(|s| !s.is_empty()) {
                self.aliases.insert(sent.member.clone(), id.to_string());
            }
        }
        sent.answered = Some((now, response));
    }

    fn step(&mut self, index: usize, step: &Step) -> (bool, Value) {
        match &step.kind {
            StepKind::Request {
                member,
                kind,
                args,
                expect,
            } => self.request(index, step.at_ms, member, *kind, args, expect.as_ref()),
            StepKind::CheckResponse { of, expect } => self.check_response(*of, step.at_ms, expect),
            StepKind::CheckStillPending { of } => match self.sent.get(of).map(|s| &s.answered) {
                Some(None) => (true, json!("pending")),
                Some(Some((t, r))) => (false, answered_at(*t, r)),
                None => (false, json!("not sent")),
            },
            StepKind::CheckGroup { group_id, expect } => {
                let actual = render::group(&self.coordinator, group_id);
                (self.matches(expect, &actual, None), actual)
            }
        }
    }

    fn request(
        &mut self,
        index: usize,
        at_ms: Millis,
        member: &str,
        kind: RequestKind,
        args: &Map<String, Value>,
        expect: Option<&Expect>,
    ) -> (bool, Value) {
        let aliases = self.aliases.clone();
        let resolve = |alias: &str| {
            aliases
                .get(alias)
                .cloned()
                .ok_or_else(|| format!("alias `{alias}` has no member id yet"))
        };
        let request = match build::build_request(kind, member, args, &resolve) {
            Ok(r) => r,
            Err(e) => {
                return (
                    false,
                    json!({"unresolved": format!("args{}: {}", e.path, e.message)}),
                )
            }
        };
        let token = RequestToken(self.next_token);
        self.next_token += 1;
        self.by_token.insert(token, index);
        self.sent.insert(
            index,
            Sent {
                kind,
                member: member.to_string(),
                answered: None,
                aliases_at_send: self.aliases.clone(),
            },
        );
        let out = self.coordinator.handle(at_ms, token, request);
        self.absorb(out, at_ms);
        let answer = self.sent[&index].answered.clone();
        match (expect, answer) {
            (Some(Expect::Pending), None) => (true, json!("pending")),
            (Some(Expect::Pending), Some((_, r))) => (false, r),
            (_, None) => (expect.is_none(), json!("pending")),
            (None, Some((_, r))) => (true, r),
            (Some(Expect::Fields(m)), Some((_, r))) => (self.matches(m, &r, Some(index)), r),
        }
    }

    fn check_response(
        &mut self,
        of: usize,
        at_ms: Millis,
        expect: &Map<String, Value>,
    ) -> (bool, Value) {
        match self.sent.get(&of).map(|s| s.answered.clone()) {
            None => (false, json!("not sent")),
            Some(None) => (false, json!("pending")),
            Some(Some((t, r))) if t == at_ms => (self.matches(expect, &r, Some(of)), r),
            Some(Some((t, r))) => (false, answered_at(t, &r)),
        }
    }

    /// Whether every expected field matches; binds `<new:A>` member ids of request `of`.
    fn matches(&mut self, expect: &Map<String, Value>, actual: &Value, of: Option<usize>) -> bool {
        let mut ok = true;
        // `<new:A>` binds first, so that `$A` elsewhere in the same expectation sees it.
        for (key, want) in expect {
            if let Some(alias) = want.as_str().and_then(new_alias) {
                ok &= self.bind_new(alias, &actual[key.as_str()], of);
            }
        }
        for (key, want) in expect {
            let got = &actual[key.as_str()];
            if want.as_str().and_then(new_alias).is_some() {
                continue;
            }
            ok &= match self.resolve(want) {
                None => false,
                Some(want) if key == "members" || key == "pending_members" => same_set(&want, got),
                Some(want) => &want == got,
            };
        }
        ok
    }

    fn bind_new(&mut self, alias: &str, got: &Value, of: Option<usize>) -> bool {
        let Some(id) = got.as_str().filter(|s| !s.is_empty()) else {
            return false;
        };
        let before = of.and_then(|i| self.sent[&i].aliases_at_send.get(alias));
        let fresh = before.is_none_or(|b| b != id);
        self.aliases.insert(alias.to_string(), id.to_string());
        fresh
    }

    /// `want` with every `"$A"` replaced; `None` if an alias is unbound.
    fn resolve(&self, want: &Value) -> Option<Value> {
        Some(match want {
            Value::String(s) => match s.strip_prefix('$') {
                Some(alias) => Value::String(self.aliases.get(alias)?.clone()),
                None => want.clone(),
            },
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.resolve(v))
                    .collect::<Option<_>>()?,
            ),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| Some((k.clone(), self.resolve(v)?)))
                    .collect::<Option<_>>()?,
            ),
            other => other.clone(),
        })
    }
}

fn new_alias(s: &str) -> Option<&str> {
    s.strip_prefix("<new:")?.strip_suffix('>')
}

/// Two lists with the same elements, in any order.
fn same_set(want: &Value, got: &Value) -> bool {
    match (want.as_array(), got.as_array()) {
        (Some(w), Some(g)) => {
            let mut w: Vec<String> = w.iter().map(Value::to_string).collect();
            let mut g: Vec<String> = g.iter().map(Value::to_string).collect();
            w.sort();
            g.sort();
            w == g
        }
        _ => want == got,
    }
}

fn answered_at(t: Millis, response: &Value) -> Value {
    let mut v = json!({"answered_at_ms": t});
    if let (Some(obj), Some(r)) = (v.as_object_mut(), response.as_object()) {
        obj.extend(r.clone());
    }
    v
}
