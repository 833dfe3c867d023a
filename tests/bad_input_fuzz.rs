//! Bad input never panics, in any verb (CONTRACT.md: a panic is always a bug).
//!
//! Seeded mutations (byte flips, truncation, deleted, duplicated and swapped lines, numbers
//! replaced by huge, negative or zero values, strings replaced, types changed, absurd values
//! for known fields) of every shipped scenario, of a history written by `replay -o`, of the
//! coordinator scripts, of assignor inputs and of fuzz results go through the verbs that read
//! them (`check`, `run`, `check-history`, `script`, `assign`, `merge`), by spawning the binary.
//! Every exit must be 0, 1, 2 or 3 — never 101, an abort or a signal — and an exit 2 must name
//! the file. A failing case keeps its input under `target/tmp/bad-input/` and names it.
//!
//! `KAFKASIM_BAD_INPUT_CASES=N` sets the mutants per kind of input (default 40), and
//! `KAFKASIM_BAD_INPUT_SEED=S` the seed of the mutations (default 0).

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn cases() -> usize {
    env_number("KAFKASIM_BAD_INPUT_CASES").unwrap_or(40) as usize
}

fn seed() -> u64 {
    env_number("KAFKASIM_BAD_INPUT_SEED").unwrap_or(0)
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number"))
    })
}

/// One stream of mutations per kind of input, so that adding a kind changes no other.
fn rng(kind: &str) -> ChaCha8Rng {
    let salt = kind.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    ChaCha8Rng::seed_from_u64(seed() ^ salt)
}

fn work_dir(kind: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("bad-input")
        .join(kind);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// --- running the binary --------------------------------------------------------------------

struct Exit {
    code: Option<i32>,
    stderr: String,
}

/// Runs kafkasim with `args` (and `stdin`), killing it after `limit`.
fn kafkasim(args: &[&str], stdin: Option<&[u8]>, limit: Duration) -> Exit {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .env_remove("RUST_LOG")
        .spawn()
        .expect("the binary starts");
    if let Some(bytes) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        let _ = pipe.write_all(bytes);
    }
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stderr = reader.join().unwrap();
    Exit {
        code: status.and_then(|s| s.code()),
        stderr: if status.is_none() {
            format!("killed after {limit:?} (unbounded run?)\n{stderr}")
        } else {
            stderr
        },
    }
}

/// Asserts the exit is one of the contract's and that a bad-input exit names `names`.
fn assert_clean_exit(exit: &Exit, names: &str, what: &str) {
    let ok = matches!(exit.code, Some(0..=3));
    assert!(
        ok,
        "{what}: exit {:?} (0..=3 expected, never a panic)\nstderr:\n{}",
        exit.code, exit.stderr
    );
    if exit.code == Some(2) {
        assert!(
            exit.stderr.contains(names),
            "{what}: exit 2 must name `{names}`; stderr:\n{}",
            exit.stderr
        );
    }
}

/// Writes `bytes` to `dir/name` and runs `verb` on it (extra args after the file).
fn run_on_file(dir: &Path, name: &str, bytes: &[u8], verb: &[&str], extra: &[&str], limit: u64) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let shown = path.to_str().unwrap();
    let mut args: Vec<&str> = verb.to_vec();
    args.push(shown);
    args.extend_from_slice(extra);
    let exit = kafkasim(&args, None, Duration::from_secs(limit));
    let what = format!(
        "kafkasim {} (input kept at {shown}; KAFKASIM_BAD_INPUT_SEED={})",
        args.join(" "),
        seed()
    );
    assert_clean_exit(&exit, shown, &what);
}

// --- mutations of text -----------------------------------------------------------------------

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "255",
    "65536",
    "86400000",
    "86400001",
    "2147483647",
    "2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "1e308",
    "-1e308",
    "0.5",
    "1.5",
    "-0.0",
];

const STRINGS: &[&str] = &[
    "\"\"",
    "\"x\"",
    "\"b0\"",
    "\"b99\"",
    "\"c99\"",
    "\"p9\"",
    "\"r9\"",
    "\"controller\"",
    "\"last_crashed\"",
    "\"leader:orders/999\"",
    "\"leader:nope/0\"",
    "\"__consumer_offsets\"",
    "\"a/b\"",
    "\"é\u{1F600}\"",
    "\"NONE\"",
    "\"$Z\"",
];

const OTHERS: &[&str] = &["true", "[]", "{}", "null", "[[]]", "[1, 2]", "{\"a\": 1}"];

/// The byte spans of number tokens (not part of a name) in `text`.
fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = (b[i].is_ascii_digit()
            || (b[i] == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)))
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'));
        if starts {
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_digit() || b"._eE+-".contains(&b[j])) {
                j += 1;
            }
            spans.push((i, j));
            i = j;
        } else {
            i += 1;
        }
    }
    spans
}

/// The byte spans of double-quoted strings (escapes ignored) in `text`.
fn string_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut open = None;
    for (i, c) in text.char_indices() {
        if c == '"' {
            match open.take() {
                None => open = Some(i),
                Some(s) => spans.push((s, i + 1)),
            }
        } else if c == '\n' {
            open = None;
        }
    }
    spans
}

fn pick<'a>(rng: &mut ChaCha8Rng, list: &[&'a str]) -> &'a str {
    list.choose(rng).unwrap()
}

fn replace_span(text: &str, spans: &[(usize, usize)], with: &str, rng: &mut ChaCha8Rng) -> String {
    match spans.choose(rng) {
        Some(&(a, b)) => format!("{}{with}{}", &text[..a], &text[b..]),
        None => text.to_string(),
    }
}

fn line_op(text: &str, rng: &mut ChaCha8Rng) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return String::new();
    }
    let i = rng.gen_range(0..lines.len());
    let j = rng.gen_range(0..lines.len());
    match rng.gen_range(0..4) {
        0 => {
            lines.remove(i);
        }
        1 => lines.insert(j, lines[i]),
        2 => lines.swap(i, j),
        _ => {
            let l = lines.remove(i);
            lines.insert(j.min(lines.len()), l);
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// One textual mutation; may produce bytes that are not UTF-8.
fn mutate_text(text: &str, rng: &mut ChaCha8Rng) -> Vec<u8> {
    match rng.gen_range(0..10) {
        0 => {
            let mut b = text.as_bytes().to_vec();
            if !b.is_empty() {
                let i = rng.gen_range(0..b.len());
                b[i] = rng.gen();
            }
            b
        }
        1 => {
            let b = text.as_bytes();
            b[..rng.gen_range(0..=b.len())].to_vec()
        }
        2 | 3 => line_op(text, rng).into_bytes(),
        4..=6 => {
            let with = if rng.gen_bool(0.8) {
                pick(rng, NUMBERS)
            } else {
                pick(rng, OTHERS)
            };
            replace_span(text, &number_spans(text), with, rng).into_bytes()
        }
        7 => {
            let with = if rng.gen_bool(0.7) {
                pick(rng, STRINGS)
            } else {
                pick(rng, NUMBERS)
            };
            replace_span(text, &string_spans(text), with, rng).into_bytes()
        }
        _ => {
            let with = pick(rng, OTHERS);
            let spans = [number_spans(text), string_spans(text)].concat();
            replace_span(text, &spans, with, rng).into_bytes()
        }
    }
}

/// `mutate` applied one to three times (on the lossy text of the previous result).
fn mutate_repeatedly(
    text: &str,
    rng: &mut ChaCha8Rng,
    mutate: impl Fn(&str, &mut ChaCha8Rng) -> Vec<u8>,
) -> Vec<u8> {
    let mut bytes = mutate(text, rng);
    for _ in 0..rng.gen_range(0..3) {
        bytes = match String::from_utf8(bytes) {
            Ok(t) => mutate(&t, rng),
            Err(e) => e.into_bytes(),
        };
    }
    bytes
}

// --- mutations of scenarios: absurd values for the fields the format has -------------------------

/// (table header, numeric fields) of the scenario format; `""` is the top level.
const SCENARIO_FIELDS: &[(&str, &[&str])] = &[
    ("", &["duration_ms", "seed"]),
    (
        "[cluster]",
        &[
            "brokers",
            "broker_session_timeout_ms",
            "broker_heartbeat_interval_ms",
            "replica_lag_time_max_ms",
            "replica_fetch_wait_max_ms",
            "replica_fetch_backoff_ms",
            "replica_fetch_max_records",
            "flush_interval_ms",
            "hw_checkpoint_interval_ms",
            "retention_check_interval_ms",
            "request_timeout_ms",
            "offsets_topic_num_partitions",
            "offsets_topic_replication_factor",
            "group_initial_rebalance_delay_ms",
            "group_min_session_timeout_ms",
            "group_max_session_timeout_ms",
            "group_max_size",
            "offset_metadata_max_bytes",
            "coordinator_load_base_ms",
        ],
    ),
    ("[network]", &["latency_min_ms", "latency_max_ms", "loss"]),
    (
        "[[topic]]",
        &[
            "partitions",
            "replication_factor",
            "min_insync_replicas",
            "retention_ms",
            "retention_records",
        ],
    ),
    (
        "[[producer]]",
        &[
            "rate_per_s",
            "keys",
            "linger_ms",
            "batch_records",
            "retries",
            "retry_backoff_ms",
            "request_timeout_ms",
            "delivery_timeout_ms",
            "start_ms",
            "stop_ms",
        ],
    ),
    (
        "[[reader]]",
        &[
            "fetch_max_wait_ms",
            "max_poll_records",
            "request_timeout_ms",
        ],
    ),
    (
        "[[group]]",
        &[
            "consumers",
            "session_timeout_ms",
            "heartbeat_interval_ms",
            "max_poll_interval_ms",
            "auto_commit_interval_ms",
            "max_poll_records",
            "processing_ms_per_record",
            "fetch_max_wait_ms",
            "request_timeout_ms",
            "start_ms",
        ],
    ),
    (
        "[[fault]]",
        &["at_ms", "duration_ms", "probability", "extra_latency_ms"],
    ),
    ("[liveness]", &["bound_ms"]),
    ("[limits]", &["max_events"]),
    (
        "[swarm]",
        &[
            "max_faults",
            "max_fault_duration_ms",
            "min_gap_ms",
            "max_power_losses",
        ],
    ),
];

/// Sets one known numeric field to an absurd value: replaced where the file has it, else added
/// to its table (the table added when the file has none).
fn absurd_field(text: &str, rng: &mut ChaCha8Rng) -> String {
    let (table, fields) = *SCENARIO_FIELDS.choose(rng).unwrap();
    let field = *fields.choose(rng).unwrap();
    let value = pick(rng, NUMBERS);
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let header = if table.is_empty() {
        Some(0)
    } else {
        lines.iter().position(|l| l.trim() == table)
    };
    let Some(h) = header else {
        let table = table.replace("[[", "[").replace("]]", "]");
        return format!("{text}\n{table}\n{field} = {value}\n");
    };
    let start = if table.is_empty() { 0 } else { h + 1 };
    let end = lines[start..]
        .iter()
        .position(|l| l.trim_start().starts_with('['))
        .map_or(lines.len(), |i| start + i);
    let prefix = format!("{field} =");
    match (start..end).find(|&i| lines[i].trim_start().starts_with(&prefix)) {
        Some(i) => lines[i] = format!("{field} = {value}"),
        None => lines.insert(start, format!("{field} = {value}")),
    }
    lines.join("\n") + "\n"
}

fn mutate_scenario(text: &str, rng: &mut ChaCha8Rng) -> Vec<u8> {
    if rng.gen_bool(0.4) {
        absurd_field(text, rng).into_bytes()
    } else {
        mutate_text(text, rng)
    }
}

// --- mutations of JSON: a value, a key or an element at a random place --------------------------

fn palette(rng: &mut ChaCha8Rng) -> Value {
    let n = pick(rng, NUMBERS);
    let s = pick(rng, STRINGS);
    let o = pick(rng, OTHERS);
    let text = *[n, n, s, o].choose(rng).unwrap();
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// Every place in `v`, as a path of keys and indices.
fn places(v: &Value, here: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                here.push(Value::String(k.clone()));
                places(x, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                here.push(Value::from(i));
                places(x, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(v, |v, step| match step {
        Value::String(k) => &mut v[k.as_str()],
        _ => &mut v[step.as_u64().unwrap() as usize],
    })
}

fn mutate_json_value(v: &mut Value, rng: &mut ChaCha8Rng) {
    let mut all = Vec::new();
    places(v, &mut Vec::new(), &mut all);
    let path = all.choose(rng).unwrap().clone();
    let target = at_mut(v, &path);
    match (rng.gen_range(0..4), target) {
        (0, Value::Object(m)) if !m.is_empty() => {
            let k = m.keys().nth(rng.gen_range(0..m.len())).unwrap().clone();
            m.remove(&k);
        }
        (0, Value::Array(a)) if !a.is_empty() => {
            let i = rng.gen_range(0..a.len());
            a.remove(i);
        }
        (1, Value::Array(a)) if !a.is_empty() => {
            let i = rng.gen_range(0..a.len());
            let x = a[i].clone();
            a.insert(rng.gen_range(0..=a.len()), x);
        }
        // A number nudged stays plausible enough to reach the checkers.
        (2, target) if target.as_u64().is_some() => {
            let n = target.as_u64().unwrap();
            let nudged = match rng.gen_range(0..4) {
                0 => n.saturating_add(1),
                1 => n.saturating_sub(1),
                2 => n.saturating_mul(2),
                _ => n / 2,
            };
            *target = Value::from(nudged);
        }
        (_, target) => *target = palette(rng),
    }
}

/// A JSON document mutated structurally (most of the time) or as text.
fn mutate_json(text: &str, rng: &mut ChaCha8Rng) -> Vec<u8> {
    match serde_json::from_str::<Value>(text) {
        Ok(mut v) if rng.gen_bool(0.7) => {
            mutate_json_value(&mut v, rng);
            serde_json::to_vec_pretty(&v).unwrap()
        }
        _ => mutate_text(text, rng),
    }
}

/// A JSON Lines file: one line mutated as JSON, or the file as text (line and byte operations).
fn mutate_jsonl(text: &str, rng: &mut ChaCha8Rng) -> Vec<u8> {
    if rng.gen_bool(0.4) {
        return mutate_text(text, rng);
    }
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // The header half the time: it holds what the checkers take as given.
    let i = if rng.gen_bool(0.25) {
        0
    } else {
        rng.gen_range(0..lines.len())
    };
    if let Ok(mut v) = serde_json::from_str::<Value>(&lines[i]) {
        for _ in 0..rng.gen_range(1..=2) {
            mutate_json_value(&mut v, rng);
        }
        lines[i] = serde_json::to_string(&v).unwrap();
    }
    (lines.join("\n") + "\n").into_bytes()
}

// --- the inputs ------------------------------------------------------------------------------------

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_in(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

fn shipped_scenarios() -> Vec<(String, String)> {
    let mut v = files_in("scenarios", "toml");
    v.extend(files_in("scenarios/bugs", "toml"));
    v.into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// A scenario small enough to run in a debug build in a fraction of a second.
const SMALL: &str = r#"name = "small"
seed = 3
duration_ms = 1500

[cluster]
brokers = 2
group_initial_rebalance_delay_ms = 0
group_min_session_timeout_ms = 100
offsets_topic_num_partitions = 2

[network]
latency_min_ms = 1
latency_max_ms = 3

[[topic]]
name = "orders"
partitions = 2
replication_factor = 2
min_insync_replicas = 1

[[producer]]
topic = "orders"
rate_per_s = 100
keys = 4

[[reader]]
topic = "orders"

[[group]]
id = "g"
topics = ["orders"]
consumers = 2
session_timeout_ms = 1000
heartbeat_interval_ms = 200

[[fault]]
at_ms = 500
kind = "crash"
node = "leader:orders/0"

[[fault]]
at_ms = 900
kind = "restart"
node = "last_crashed"

[liveness]
bound_ms = 5000

[swarm]
max_faults = 4
max_fault_duration_ms = 400
"#;

/// Whether a valid mutant of SMALL is still cheap enough to run here; else it is only checked.
fn cheap(s: &kafkasim::scenario::ValidScenario) -> bool {
    let spec = &s.spec;
    let records: f64 = spec
        .producers
        .iter()
        .map(|p| p.rate_per_s * spec.duration_ms as f64 / 1000.0)
        .sum();
    let partitions: u64 = spec.topics.iter().map(|t| u64::from(t.partitions)).sum();
    let consumers: u64 = spec.groups.iter().map(|g| u64::from(g.consumers)).sum();
    spec.duration_ms <= 3000
        && spec.liveness.bound_ms <= 10_000
        && records <= 2000.0
        && spec.cluster.brokers <= 5
        && partitions <= 16
        && consumers <= 4
        && spec.cluster.offsets_topic_num_partitions <= 4
        && spec.limits.max_events <= 20_000_000
}

/// Runs `count` cases and reports every failing one at the end, not only the first.
fn run_cases(kind: &str, count: usize, case: impl Fn(usize, &mut ChaCha8Rng)) {
    let mut rng = rng(kind);
    let mut failures = Vec::new();
    for i in 0..count {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(i, &mut rng)));
        if let Err(p) = outcome {
            let message = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(message);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} {kind} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// --- the tests -------------------------------------------------------------------------------------

#[test]
fn mutated_scenarios_are_checked_or_refused_never_panic() {
    let dir = work_dir("scenario");
    let scenarios = shipped_scenarios();
    run_cases("check", cases() * 3, |i, rng| {
        let (name, text) = scenarios.choose(rng).unwrap();
        let bytes = mutate_repeatedly(text, rng, mutate_scenario);
        run_on_file(&dir, &format!("{i}-{name}"), &bytes, &["check"], &[], 60);
    });
}

#[test]
fn swarm_draws_a_valid_schedule_from_every_valid_mutant() {
    // In-process and cheap: `run --swarm`, `fuzz --swarm` and `shrink --swarm` all start here.
    let scenarios = shipped_scenarios();
    let mut rng = rng("swarm");
    let mut valid = 0;
    for _ in 0..cases() * 10 {
        let (name, text) = scenarios.choose(&mut rng).unwrap();
        let mut text = text.clone();
        for _ in 0..rng.gen_range(1..=3) {
            text = absurd_field(&text, &mut rng);
        }
        let Ok(s) = kafkasim::scenario::from_str(name, &text) else {
            continue;
        };
        valid += 1;
        let seed: u64 = rng.gen();
        let drawn =
            std::panic::catch_unwind(|| kafkasim::scenario::swarm::apply(&s, seed).faults.len());
        assert!(
            drawn.is_ok(),
            "swarm::apply panicked for seed {seed} on this mutant of {name}:\n{text}"
        );
    }
    assert!(valid > 0, "some mutants must be valid");
}

#[test]
fn mutated_small_scenarios_run_bounded_never_panic() {
    let dir = work_dir("run");
    let runs = std::sync::atomic::AtomicUsize::new(0);
    run_cases("run", cases(), |i, rng| {
        let bytes = mutate_repeatedly(SMALL, rng, mutate_scenario);
        let name = format!("{i}-small.toml");
        let runnable = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|t| kafkasim::scenario::from_str("small.toml", t).ok())
            .is_some_and(|s| cheap(&s));
        if !runnable {
            run_on_file(&dir, &name, &bytes, &["check"], &[], 60);
            return;
        }
        runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let seed = rng.gen_range(0..1000u64).to_string();
        let swarm = if rng.gen_bool(0.5) {
            "--swarm"
        } else {
            "--json"
        };
        run_on_file(
            &dir,
            &name,
            &bytes,
            &["run"],
            &["--seed", &seed, swarm],
            120,
        );
    });
    assert!(
        runs.into_inner() > 0,
        "some mutants must be small enough to run"
    );
}

/// `replay -o` of SMALL, once: the history every history mutant starts from.
fn small_history() -> Arc<String> {
    static HISTORY: std::sync::OnceLock<Arc<String>> = std::sync::OnceLock::new();
    HISTORY
        .get_or_init(|| {
            let dir = work_dir("history-base");
            let scenario = dir.join("small.toml");
            std::fs::write(&scenario, SMALL).unwrap();
            let out = dir.join("out");
            let exit = kafkasim(
                &[
                    "replay",
                    scenario.to_str().unwrap(),
                    "-o",
                    out.to_str().unwrap(),
                ],
                None,
                Duration::from_secs(120),
            );
            assert_eq!(exit.code, Some(0), "{}", exit.stderr);
            Arc::new(std::fs::read_to_string(out.join("history.jsonl")).unwrap())
        })
        .clone()
}

#[test]
fn mutated_histories_are_checked_or_refused_never_panic() {
    let dir = work_dir("history");
    let history = small_history();
    let exit = kafkasim(
        &[
            "check-history",
            work_dir("history-base")
                .join("out/history.jsonl")
                .to_str()
                .unwrap(),
        ],
        None,
        Duration::from_secs(60),
    );
    assert_eq!(exit.code, Some(0), "the unmutated history passes");
    run_cases("history", cases() * 3, |i, rng| {
        let bytes = mutate_repeatedly(&history, rng, mutate_jsonl);
        run_on_file(
            &dir,
            &format!("{i}-history.jsonl"),
            &bytes,
            &["check-history"],
            &["--json"],
            60,
        );
    });
}

#[test]
fn mutated_scripts_are_run_or_refused_never_panic() {
    let dir = work_dir("script");
    let scripts = files_in("scenarios/scripts", "json");
    run_cases("script", cases() * 2, |i, rng| {
        let path = scripts.choose(rng).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let bytes = mutate_repeatedly(&text, rng, mutate_json);
        let name = format!("{i}-{}", path.file_name().unwrap().to_string_lossy());
        run_on_file(&dir, &name, &bytes, &["script"], &[], 60);
    });
}

#[test]
fn mutated_assignor_inputs_are_assigned_or_refused_never_panic() {
    let mut inputs = Vec::new();
    for strategy in [
        "range",
        "roundrobin",
        "sticky",
        "cooperative-sticky",
        "uniform",
        "server-range",
    ] {
        for path in files_in(&format!("tests/data/assign/{strategy}"), "json") {
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            inputs.push((
                strategy,
                serde_json::to_string_pretty(&doc["input"]).unwrap(),
            ));
        }
    }
    run_cases("assign", cases() * 2, |i, rng| {
        let (strategy, text) = inputs.choose(rng).unwrap();
        let bytes = mutate_repeatedly(text, rng, mutate_json);
        let exit = kafkasim(
            &["assign", "--strategy", strategy],
            Some(&bytes),
            Duration::from_secs(60),
        );
        let kept = work_dir("assign").join(format!("{i}-{strategy}.json"));
        if !matches!(exit.code, Some(0..=3)) {
            std::fs::write(&kept, &bytes).unwrap();
        }
        let what = format!(
            "kafkasim assign --strategy {strategy} < {} (KAFKASIM_BAD_INPUT_SEED={})",
            kept.display(),
            seed()
        );
        assert_clean_exit(&exit, "assign", &what);
    });
}

#[test]
fn mutated_fuzz_results_are_merged_or_refused_never_panic() {
    let dir = work_dir("merge");
    let base = r#"{"runs": 4, "failures": [{"scenario": "scenarios/basic.toml", "seed": 17,
        "invariant": "no_lost_acked_write", "kind": "safety",
        "reproduce": "cargo run --release -- run scenarios/basic.toml --seed 17", "detail": "x"}],
        "wall_ms": 10, "sim_ms": 120000}"#;
    std::fs::write(dir.join("base.json"), base).unwrap();
    let other = dir.join("base.json");
    run_cases("merge", cases(), |i, rng| {
        let bytes = mutate_repeatedly(base, rng, mutate_json);
        run_on_file(
            &dir,
            &format!("{i}-result.json"),
            &bytes,
            &["merge"],
            &[other.to_str().unwrap()],
            60,
        );
    });
}

#[test]
fn files_that_are_not_files_are_bad_input() {
    let dir = work_dir("not-files");
    let empty = dir.join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let folder = dir.to_str().unwrap();
    let missing = dir.join("missing.toml");
    for path in [folder, empty.to_str().unwrap(), missing.to_str().unwrap()] {
        for verb in [
            &["check"][..],
            &["run"],
            &["replay"],
            &["timeline"],
            &["check-history"],
            &["script"],
            &["merge"],
            &["fuzz", "--seeds", "0..1"],
            &["shrink", "--seed", "0", "-o", "/dev/null"],
        ] {
            let mut args = verb.to_vec();
            args.push(path);
            let exit = kafkasim(&args, None, Duration::from_secs(60));
            assert_eq!(exit.code, Some(2), "{args:?}: {}", exit.stderr);
            assert!(exit.stderr.contains(path), "{args:?}: {}", exit.stderr);
        }
    }
}

#[test]
fn absurd_flags_are_bad_input() {
    let dir = work_dir("flags");
    let small = dir.join("small.toml");
    std::fs::write(&small, SMALL).unwrap();
    let basic = small.to_str().unwrap();
    let into_file = dir.join("x").to_str().unwrap().to_string();
    let cases: &[&[&str]] = &[
        &["fuzz", basic, "--seeds", "5..3"],
        &["fuzz", basic, "--seeds", "3..3"],
        &["fuzz", basic, "--seeds", "0..18446744073709551615"],
        &["fuzz", basic, "--seeds", "-1..3"],
        &["fuzz", basic, "--seeds", "0..1", "--shard", "0/0"],
        &["fuzz", basic, "--seeds", "0..1", "--shard", "3/2"],
        &["fuzz", basic, "--seeds", "0..1", "--jobs", "0"],
        &["fuzz", basic, "--seeds", "0..1", "--jobs", "100000"],
        &["run", basic, "--seed", "-1"],
        &["run", basic, "--seed", "18446744073709551616"],
        &[
            "shrink",
            basic,
            "--seed",
            "1",
            "-o",
            "/dev/null",
            "--max-runs",
            "0",
        ],
        &["replay", basic, "--seed", "1", "-o", "/dev/null/x"],
        &["timeline", basic, "--seed", "1", "-o", "/dev/null/x.html"],
        &["assign", "--strategy", "nope"],
        &["check", basic, "--nope"],
        &["merge", basic],
        &["check-history", basic],
        &["script", basic],
        &[
            "fuzz", basic, "--seeds", "0..1", "--out", &into_file, "--json",
        ],
    ];
    for args in cases {
        let exit = kafkasim(args, Some(b""), Duration::from_secs(120));
        assert_clean_exit(&exit, "", &format!("kafkasim {}", args.join(" ")));
    }
    for args in &cases[..10] {
        let exit = kafkasim(args, None, Duration::from_secs(60));
        assert_eq!(
            exit.code,
            Some(2),
            "kafkasim {}: {}",
            args.join(" "),
            exit.stderr
        );
    }
}

#[test]
fn absurd_sizes_are_refused_up_front_with_their_place() {
    let dir = work_dir("absurd");
    let bad = |args: &[&str], stdin: Option<&[u8]>, place: &str| {
        let exit = kafkasim(args, stdin, Duration::from_secs(60));
        assert_eq!(exit.code, Some(2), "{args:?}: {}", exit.stderr);
        assert!(exit.stderr.contains(place), "{args:?}: {}", exit.stderr);
    };
    // An assignor would allocate per partition.
    let huge =
        br#"{"topics": {"t1": 4000000000}, "members": [{"id": "c1", "subscriptions": ["t1"]}]}"#;
    bad(
        &["assign", "--strategy", "range"],
        Some(huge),
        "`topics.t1`",
    );
    // A step a lifetime away would fire periodic timers until then.
    let script: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("scenarios/scripts/commit-then-fetch.json")).unwrap(),
    )
    .unwrap();
    let mut late = script.clone();
    for step in late["steps"].as_array_mut().unwrap() {
        step["at_ms"] = Value::from(u64::MAX);
    }
    let path = dir.join("late.json");
    std::fs::write(&path, late.to_string()).unwrap();
    let shown = path.to_str().unwrap();
    bad(
        &["script", shown],
        None,
        &format!("{shown}: steps[0].at_ms"),
    );
    let mut busy = script;
    busy["config"]["offsets.retention.check.interval.ms"] = Value::from(1);
    busy["steps"].as_array_mut().unwrap().last_mut().unwrap()["at_ms"] =
        Value::from(30_000_000_000u64);
    let path = dir.join("busy.json");
    std::fs::write(&path, busy.to_string()).unwrap();
    let shown = path.to_str().unwrap();
    bad(
        &["script", shown],
        None,
        &format!("{shown}: config.offsets.retention.check.interval.ms"),
    );
    // An offset near u64::MAX would size the checkers' per-offset tables.
    let history = small_history();
    let mut lines: Vec<String> = history.lines().map(String::from).collect();
    let i = lines
        .iter()
        .position(|l| l.contains(r#""type":"appended""#))
        .unwrap();
    let mut v: Value = serde_json::from_str(&lines[i]).unwrap();
    v["event"]["base_offset"] = Value::from(u64::MAX - 1);
    lines[i] = v.to_string();
    let path = dir.join("offset.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let shown = path.to_str().unwrap();
    bad(
        &["check-history", shown],
        None,
        &format!("{shown}:line {}: offset", i + 1),
    );
}
