//! Validation of a parsed scenario: every rule is a check with a message naming the limit or
//! the reference at fault. Absurd sizes are refused here, before the simulator allocates
//! anything per broker, partition, client or record.

use super::load::node_ref;
use super::locate::FieldPath;
use super::model::*;
use super::NodeRef;
use crate::protocol::{NodeId, CONSUMER_OFFSETS};
use std::collections::BTreeSet;

/// The largest run a scenario may describe. Each bound keeps one run within memory and time on
/// a 2-core, 24 GiB machine; raise them deliberately, not by accident.
pub use crate::config::limits;
use limits::*;

type Check = Result<(), (FieldPath, String)>;

fn ensure(ok: bool, path: FieldPath, msg: impl FnOnce() -> String) -> Check {
    if ok {
        Ok(())
    } else {
        Err((path, msg()))
    }
}

/// A delay that may be 0 (none), at most [`MAX_TIMEOUT_MS`].
fn at_most_ms(v: u64, path: FieldPath) -> Check {
    ensure(v <= MAX_TIMEOUT_MS, path, || {
        format!("must be between 0 and {MAX_TIMEOUT_MS} ms, not {v}")
    })
}

fn records_per_fetch(v: u32, path: FieldPath) -> Check {
    ensure((1..=MAX_RECORDS_PER_FETCH).contains(&v), path, || {
        format!("must be between 1 and {MAX_RECORDS_PER_FETCH}, not {v}")
    })
}

fn positive_ms(v: u64, path: FieldPath) -> Check {
    ensure(v > 0 && v <= MAX_TIMEOUT_MS, path, || {
        format!("must be between 1 and {MAX_TIMEOUT_MS} ms, not {v}")
    })
}

/// Validates the whole scenario; the first problem found is returned with its field path.
pub fn validate(s: &Scenario) -> Check {
    ensure(!s.name.trim().is_empty(), FieldPath::key("name"), || {
        "must not be empty".into()
    })?;
    ensure(
        s.duration_ms > 0 && s.duration_ms <= MAX_DURATION_MS,
        FieldPath::key("duration_ms"),
        || {
            format!(
                "must be between 1 and {MAX_DURATION_MS} ms (24 h), not {}",
                s.duration_ms
            )
        },
    )?;
    cluster(&s.cluster)?;
    network(&s.network)?;
    topics(s)?;
    producers(s)?;
    readers(s)?;
    groups(s)?;
    faults(s)?;
    positive_ms(
        s.liveness.bound_ms,
        FieldPath::key("liveness").field("bound_ms"),
    )?;
    ensure(
        s.limits.max_events > 0 && s.limits.max_events <= MAX_EVENTS,
        FieldPath::key("limits").field("max_events"),
        || format!("must be between 1 and {MAX_EVENTS}"),
    )?;
    swarm(&s.swarm)
}

/// The `[swarm]` bounds: whatever a seed draws within them must again be a valid scenario (at
/// most [`MAX_FAULTS`] faults, each crash with its restart; times that cannot overflow).
fn swarm(sw: &SwarmConfig) -> Check {
    let at = FieldPath::key("swarm");
    let max_faults = MAX_FAULTS / 2;
    ensure(
        sw.max_faults as usize <= max_faults,
        at.field("max_faults"),
        || {
            format!(
                "must be at most {max_faults} (each crash brings its restart; {MAX_FAULTS} \
                 faults in all), not {}",
                sw.max_faults
            )
        },
    )?;
    positive_ms(sw.max_fault_duration_ms, at.field("max_fault_duration_ms"))?;
    ensure(
        sw.min_gap_ms <= MAX_DURATION_MS,
        at.field("min_gap_ms"),
        || {
            format!(
                "must be between 0 and {MAX_DURATION_MS} ms (the longest run), not {}",
                sw.min_gap_ms
            )
        },
    )?;
    for (i, kind) in sw.kinds.iter().enumerate() {
        let name = match kind {
            FaultKind::Heal => "heal",
            FaultKind::Restart => "restart",
            _ => continue,
        };
        return Err((
            at.field("kinds").at(i),
            format!("`{name}` is not drawn: heals and restarts come with the other faults"),
        ));
    }
    Ok(())
}

fn cluster(c: &ClusterConfig) -> Check {
    let at = FieldPath::key("cluster");
    ensure(
        c.brokers >= 1 && c.brokers <= MAX_BROKERS,
        at.field("brokers"),
        || format!("must be between 1 and {MAX_BROKERS}, not {}", c.brokers),
    )?;
    for (name, v) in [
        ("broker_session_timeout_ms", c.broker_session_timeout_ms),
        (
            "broker_heartbeat_interval_ms",
            c.broker_heartbeat_interval_ms,
        ),
        ("replica_lag_time_max_ms", c.replica_lag_time_max_ms),
        ("replica_fetch_backoff_ms", c.replica_fetch_backoff_ms),
        ("flush_interval_ms", c.flush_interval_ms),
        ("hw_checkpoint_interval_ms", c.hw_checkpoint_interval_ms),
        ("retention_check_interval_ms", c.retention_check_interval_ms),
        ("request_timeout_ms", c.request_timeout_ms),
    ] {
        positive_ms(v, at.field(name))?;
    }
    for (name, v) in [
        ("replica_fetch_wait_max_ms", c.replica_fetch_wait_max_ms),
        (
            "group_initial_rebalance_delay_ms",
            c.group_initial_rebalance_delay_ms,
        ),
        (
            "group_min_session_timeout_ms",
            c.group_min_session_timeout_ms,
        ),
        ("coordinator_load_base_ms", c.coordinator_load_base_ms),
    ] {
        at_most_ms(v, at.field(name))?;
    }
    positive_ms(
        c.group_max_session_timeout_ms,
        at.field("group_max_session_timeout_ms"),
    )?;
    ensure(c.group_max_size >= 1, at.field("group_max_size"), || {
        "must be at least 1".into()
    })?;
    ensure(
        c.broker_heartbeat_interval_ms < c.broker_session_timeout_ms,
        at.field("broker_heartbeat_interval_ms"),
        || "must be shorter than broker_session_timeout_ms".into(),
    )?;
    records_per_fetch(
        c.replica_fetch_max_records,
        at.field("replica_fetch_max_records"),
    )?;
    ensure(
        c.offsets_topic_num_partitions >= 1 && c.offsets_topic_num_partitions <= 1000,
        at.field("offsets_topic_num_partitions"),
        || "must be between 1 and 1000".into(),
    )?;
    ensure(
        c.offsets_topic_replication_factor >= 1,
        at.field("offsets_topic_replication_factor"),
        || "must be at least 1".into(),
    )?;
    ensure(
        c.group_min_session_timeout_ms <= c.group_max_session_timeout_ms,
        at.field("group_min_session_timeout_ms"),
        || "must not exceed group_max_session_timeout_ms".into(),
    )
}

fn network(n: &NetworkConfig) -> Check {
    let at = FieldPath::key("network");
    ensure(
        n.latency_max_ms <= MAX_LATENCY_MS,
        at.field("latency_max_ms"),
        || format!("at most {MAX_LATENCY_MS} ms"),
    )?;
    ensure(
        n.latency_min_ms <= n.latency_max_ms,
        at.field("latency_min_ms"),
        || "must not exceed latency_max_ms".into(),
    )?;
    ensure(
        n.loss.is_finite() && (0.0..=1.0).contains(&n.loss),
        at.field("loss"),
        || format!("must be a probability in [0, 1], not {}", n.loss),
    )
}

fn topics(s: &Scenario) -> Check {
    ensure(
        s.topics.len() <= MAX_TOPICS,
        FieldPath::key("topic"),
        || format!("at most {MAX_TOPICS} topics"),
    )?;
    let mut names = BTreeSet::new();
    let mut replicas: u64 = 0;
    for (i, t) in s.topics.iter().enumerate() {
        let at = FieldPath::key("topic").at(i);
        ensure(
            !t.name.is_empty() && !t.name.contains('/'),
            at.field("name"),
            || "must be non-empty and without '/'".into(),
        )?;
        ensure(t.name != CONSUMER_OFFSETS, at.field("name"), || {
            format!("{CONSUMER_OFFSETS} is internal (it exists when there are groups)")
        })?;
        ensure(names.insert(t.name.as_str()), at.field("name"), || {
            format!("topic `{}` is defined twice", t.name)
        })?;
        ensure(
            t.partitions >= 1 && t.partitions <= MAX_PARTITIONS_PER_TOPIC,
            at.field("partitions"),
            || {
                format!(
                    "must be between 1 and {MAX_PARTITIONS_PER_TOPIC}, not {}",
                    t.partitions
                )
            },
        )?;
        ensure(
            t.replication_factor >= 1 && t.replication_factor <= s.cluster.brokers,
            at.field("replication_factor"),
            || {
                format!(
                    "must be between 1 and the number of brokers ({}), not {}",
                    s.cluster.brokers, t.replication_factor
                )
            },
        )?;
        ensure(
            t.min_insync_replicas >= 1 && t.min_insync_replicas <= t.replication_factor,
            at.field("min_insync_replicas"),
            || {
                format!(
                    "must be between 1 and replication_factor ({}), not {}",
                    t.replication_factor, t.min_insync_replicas
                )
            },
        )?;
        replicas += u64::from(t.partitions) * u64::from(t.replication_factor);
    }
    ensure(
        replicas <= MAX_REPLICAS_TOTAL,
        FieldPath::key("topic"),
        || format!("{replicas} partition replicas in all; the limit is {MAX_REPLICAS_TOTAL}"),
    )
}

fn topic_exists(s: &Scenario, name: &str, path: FieldPath) -> Check {
    ensure(s.topics.iter().any(|t| t.name == name), path, || {
        format!("unknown topic `{name}`")
    })
}

fn producers(s: &Scenario) -> Check {
    ensure(
        s.producers.len() <= MAX_CLIENTS,
        FieldPath::key("producer"),
        || format!("at most {MAX_CLIENTS} producers"),
    )?;
    let mut records = 0.0;
    for (i, p) in s.producers.iter().enumerate() {
        let at = FieldPath::key("producer").at(i);
        topic_exists(s, &p.topic, at.field("topic"))?;
        ensure(
            p.rate_per_s.is_finite() && p.rate_per_s > 0.0 && p.rate_per_s <= MAX_RATE_PER_S,
            at.field("rate_per_s"),
            || format!("must be in (0, {MAX_RATE_PER_S}], not {}", p.rate_per_s),
        )?;
        ensure(
            p.batch_records >= 1 && p.batch_records <= 100_000,
            at.field("batch_records"),
            || "must be between 1 and 100000".into(),
        )?;
        ensure(p.keys <= 1_000_000, at.field("keys"), || {
            "at most 1000000 keys".into()
        })?;
        ensure(p.linger_ms <= MAX_LATENCY_MS, at.field("linger_ms"), || {
            format!("at most {MAX_LATENCY_MS} ms")
        })?;
        at_most_ms(p.retry_backoff_ms, at.field("retry_backoff_ms"))?;
        positive_ms(p.request_timeout_ms, at.field("request_timeout_ms"))?;
        positive_ms(p.delivery_timeout_ms, at.field("delivery_timeout_ms"))?;
        ensure(p.start_ms < s.duration_ms, at.field("start_ms"), || {
            "must be before duration_ms".into()
        })?;
        if let Some(stop) = p.stop_ms {
            ensure(stop >= p.start_ms, at.field("stop_ms"), || {
                format!("must not be before start_ms ({})", p.start_ms)
            })?;
        }
        let stop = p.stop_ms.unwrap_or(s.duration_ms).min(s.duration_ms);
        records += p.rate_per_s * (stop.saturating_sub(p.start_ms)) as f64 / 1000.0;
    }
    ensure(
        records <= MAX_RECORDS_TOTAL,
        FieldPath::key("producer"),
        || {
            format!(
                "the producers would write {records:.0} records; the limit is {MAX_RECORDS_TOTAL}"
            )
        },
    )
}

fn readers(s: &Scenario) -> Check {
    ensure(
        s.readers.len() <= MAX_CLIENTS,
        FieldPath::key("reader"),
        || format!("at most {MAX_CLIENTS} readers"),
    )?;
    for (i, r) in s.readers.iter().enumerate() {
        let at = FieldPath::key("reader").at(i);
        topic_exists(s, &r.topic, at.field("topic"))?;
        let count = s
            .topics
            .iter()
            .find(|t| t.name == r.topic)
            .map(|t| t.partitions)
            .unwrap_or(0);
        if let Some(ps) = &r.partitions {
            let mut seen = BTreeSet::new();
            for (j, p) in ps.iter().enumerate() {
                ensure(*p < count, at.field("partitions").at(j), || {
                    format!("topic `{}` has partitions 0..{count}", r.topic)
                })?;
                ensure(seen.insert(*p), at.field("partitions").at(j), || {
                    format!("partition {p} is listed twice")
                })?;
            }
        }
        records_per_fetch(r.max_poll_records, at.field("max_poll_records"))?;
        ensure(
            r.fetch_max_wait_ms <= MAX_LATENCY_MS,
            at.field("fetch_max_wait_ms"),
            || format!("at most {MAX_LATENCY_MS} ms"),
        )?;
        positive_ms(r.request_timeout_ms, at.field("request_timeout_ms"))?;
    }
    Ok(())
}

fn groups(s: &Scenario) -> Check {
    let total: u64 = s.groups.iter().map(|g| u64::from(g.consumers)).sum();
    ensure(
        total <= MAX_CONSUMERS_TOTAL,
        FieldPath::key("group"),
        || format!("{total} consumers in all; the limit is {MAX_CONSUMERS_TOTAL}"),
    )?;
    let mut ids = BTreeSet::new();
    for (i, g) in s.groups.iter().enumerate() {
        let at = FieldPath::key("group").at(i);
        ensure(!g.id.is_empty(), at.field("id"), || {
            "must not be empty".into()
        })?;
        ensure(ids.insert(g.id.as_str()), at.field("id"), || {
            format!("group `{}` is defined twice", g.id)
        })?;
        ensure(!g.topics.is_empty(), at.field("topics"), || {
            "must name at least one topic".into()
        })?;
        for (j, t) in g.topics.iter().enumerate() {
            topic_exists(s, t, at.field("topics").at(j))?;
        }
        ensure(g.consumers >= 1, at.field("consumers"), || {
            "must be at least 1".into()
        })?;
        let (lo, hi) = (
            s.cluster.group_min_session_timeout_ms,
            s.cluster.group_max_session_timeout_ms,
        );
        ensure(
            g.session_timeout_ms >= lo && g.session_timeout_ms <= hi,
            at.field("session_timeout_ms"),
            || format!("must be within the brokers' group.min/max.session.timeout.ms [{lo}, {hi}]"),
        )?;
        positive_ms(g.heartbeat_interval_ms, at.field("heartbeat_interval_ms"))?;
        ensure(
            g.heartbeat_interval_ms < g.session_timeout_ms,
            at.field("heartbeat_interval_ms"),
            || "must be shorter than session_timeout_ms".into(),
        )?;
        positive_ms(g.max_poll_interval_ms, at.field("max_poll_interval_ms"))?;
        positive_ms(
            g.auto_commit_interval_ms,
            at.field("auto_commit_interval_ms"),
        )?;
        positive_ms(g.request_timeout_ms, at.field("request_timeout_ms"))?;
        records_per_fetch(g.max_poll_records, at.field("max_poll_records"))?;
        ensure(
            g.fetch_max_wait_ms <= MAX_LATENCY_MS,
            at.field("fetch_max_wait_ms"),
            || format!("at most {MAX_LATENCY_MS} ms"),
        )?;
        ensure(
            g.processing_ms_per_record.is_finite()
                && (0.0..=60_000.0).contains(&g.processing_ms_per_record),
            at.field("processing_ms_per_record"),
            || "must be between 0 and 60000".into(),
        )?;
        ensure(g.start_ms < s.duration_ms, at.field("start_ms"), || {
            "must be before duration_ms".into()
        })?;
    }
    Ok(())
}

/// Every node name this scenario has.
fn known(s: &Scenario, n: NodeId) -> bool {
    let consumers: u32 = s.groups.iter().map(|g| g.consumers).sum();
    match n {
        NodeId::Controller => true,
        NodeId::Broker(b) => b <= s.cluster.brokers,
        NodeId::Producer(p) => p as usize <= s.producers.len(),
        NodeId::Reader(r) => r as usize <= s.readers.len(),
        NodeId::Consumer(c) => c <= consumers,
    }
}

fn check_ref(s: &Scenario, text: &str, path: FieldPath) -> Check {
    let r = node_ref(text).map_err(|m| (path.clone(), m))?;
    match r {
        NodeRef::Node(n) => ensure(known(s, n), path, || {
            format!("unknown node `{text}` (this scenario has controller, b1..b{}, {} producer(s), {} reader(s))", s.cluster.brokers, s.producers.len(), s.readers.len())
        }),
        NodeRef::LeaderOf(tp) => {
            let count = if tp.topic() == CONSUMER_OFFSETS && !s.groups.is_empty() {
                Some(s.cluster.offsets_topic_num_partitions)
            } else {
                s.topics
                    .iter()
                    .find(|t| t.name == tp.topic())
                    .map(|t| t.partitions)
            };
            ensure(count.is_some_and(|c| tp.partition < c), path, || {
                format!(
                    "no partition {}/{} in this scenario",
                    tp.topic, tp.partition
                )
            })
        }
        NodeRef::LastCrashed => Ok(()),
    }
}

/// Which optional fault fields a kind takes.
fn allowed_fields(kind: FaultKind) -> &'static [&'static str] {
    match kind {
        FaultKind::Crash => &["node", "mode"],
        FaultKind::Restart => &["node"],
        FaultKind::Partition => &["groups", "from", "to", "duration_ms"],
        FaultKind::Heal => &[],
        FaultKind::Pause | FaultKind::SlowPoll => &["node", "duration_ms"],
        FaultKind::Slow => &["node", "extra_latency_ms", "duration_ms"],
        FaultKind::Drop => &["from", "to", "probability", "duration_ms"],
        FaultKind::Delay => &["from", "to", "extra_latency_ms", "duration_ms"],
    }
}

fn present_fields(f: &FaultSpec) -> Vec<&'static str> {
    let mut v = Vec::new();
    for (name, present) in [
        ("node", f.node.is_some()),
        ("mode", f.mode.is_some()),
        ("groups", f.groups.is_some()),
        ("from", f.from.is_some()),
        ("to", f.to.is_some()),
        ("duration_ms", f.duration_ms.is_some()),
        ("probability", f.probability.is_some()),
        ("extra_latency_ms", f.extra_latency_ms.is_some()),
    ] {
        if present {
            v.push(name);
        }
    }
    v
}

fn faults(s: &Scenario) -> Check {
    ensure(
        s.faults.len() <= MAX_FAULTS,
        FieldPath::key("fault"),
        || format!("at most {MAX_FAULTS} faults"),
    )?;
    for (i, f) in s.faults.iter().enumerate() {
        let at = FieldPath::key("fault").at(i);
        ensure(f.at_ms < s.duration_ms, at.field("at_ms"), || {
            format!("must be before duration_ms ({})", s.duration_ms)
        })?;
        for field in present_fields(f) {
            ensure(
                allowed_fields(f.kind).contains(&field),
                at.field(field),
                || format!("a {:?} fault takes no `{field}`", f.kind),
            )?;
        }
        if let Some(n) = &f.node {
            check_ref(s, n, at.field("node"))?;
        }
        for (name, list) in [("from", &f.from), ("to", &f.to)] {
            for (j, n) in list.iter().flatten().enumerate() {
                check_ref(s, n, at.field(name).at(j))?;
            }
        }
        if let Some(groups) = &f.groups {
            ensure(
                groups.len() >= 2 && groups.iter().all(|g| !g.is_empty()),
                at.field("groups"),
                || "a partition needs at least two non-empty sides".into(),
            )?;
            let mut seen = BTreeSet::new();
            for (j, g) in groups.iter().enumerate() {
                for (k, n) in g.iter().enumerate() {
                    check_ref(s, n, at.field("groups").at(j).at(k))?;
                    ensure(
                        seen.insert(n.as_str()),
                        at.field("groups").at(j).at(k),
                        || format!("`{n}` is on two sides"),
                    )?;
                }
            }
        }
        if f.kind == FaultKind::Partition && f.groups.is_none() {
            ensure(f.from.is_some() && f.to.is_some(), at.clone(), || {
                "a partition needs `groups`, or `from` and `to` (one-way)".into()
            })?;
        }
        if let Some(p) = f.probability {
            ensure(
                p.is_finite() && (0.0..=1.0).contains(&p),
                at.field("probability"),
                || format!("must be a probability in [0, 1], not {p}"),
            )?;
        }
        if let Some(d) = f.duration_ms {
            positive_ms(d, at.field("duration_ms"))?;
        }
        if let Some(l) = f.extra_latency_ms {
            ensure(l <= MAX_LATENCY_MS, at.field("extra_latency_ms"), || {
                format!("at most {MAX_LATENCY_MS} ms")
            })?;
        }
    }
    Ok(())
}
