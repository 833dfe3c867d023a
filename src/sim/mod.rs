//! The madsim shell: runs one (scenario, seed) on a fresh, seeded madsim runtime on its own OS
//! thread (so nothing thread-local or static leaks between runs), catching panics.
//!
//! A run has two phases, as TigerBeetle's VOPR does: **chaos** until `duration_ms`, with the
//! scenario's faults; then **liveness**: every fault heals, crashed nodes restart, producers stop,
//! and the cluster must converge within `Scenario::liveness_bound_ms`. Safety invariants are checked on
//! every event of both phases.

pub mod faults;
pub mod network;
pub mod node;
pub mod rng;
#[cfg(test)]
mod transport_tests;
pub mod wire;
pub mod world;

use crate::broker::{Broker, BrokerConfig};
use crate::check::convergence::{self, Expectations};
use crate::check::{Checkers, Kind, SharedCheckers, Violation};
use crate::controller::{assign_replicas, ControllerConfig, ControllerDisk};
use crate::history::{Event, History};
use crate::protocol::{NodeId, TopicPartition};
use crate::scenario::{AcksConfig, OffsetReset, ValidScenario};
use madsim::runtime::{Handle, Runtime};
use network::Network;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use world::{lock, Slot, World};

/// How often the liveness phase asks whether the cluster converged.
const CONVERGENCE_POLL_MS: u64 = 100;
/// Slack on madsim's own time limit beyond the run's bound (a safety net: runs end by themselves).
const TIME_LIMIT_SLACK_MS: u64 = 60_000;

/// What to keep from a run.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Keep every event (for replay and snapshots); otherwise only the hash and the verdicts.
    pub keep_events: bool,
    /// Time the checkers with the wall clock (`bench`); the time never reaches the trace.
    pub measure_checkers: bool,
}

impl RunOptions {
    /// Keep every event (replay, timeline, snapshots); checkers untimed.
    pub fn keeping_events() -> Self {
        RunOptions {
            keep_events: true,
            ..Default::default()
        }
    }
}

/// The result of one run.
#[derive(Debug)]
pub struct RunOutcome {
    pub seed: u64,
    pub sim_time_ms: u64,
    pub events: u64,
    pub trace_hash: String,
    /// Messages handed to the simulated network for delivery (after fault rules dropped theirs).
    pub messages: u64,
    /// Wall time the checkers took, when measured.
    pub checker_wall_ns: Option<u64>,
    pub violations: Vec<Violation>,
    /// Violations the configuration allows (after an unclean election): reported, not failures.
    pub expected_violations: Vec<Violation>,
    /// Jepsen's client-visible anomalies (informational: the verdict is the violations').
    pub anomalies: crate::check::jepsen::Anomalies,
    pub stats: crate::check::ghost::Stats,
    /// Every event, when asked for.
    pub history: Vec<Event>,
    /// What `check-history` needs besides the events.
    pub meta: crate::history::json::Meta,
}

impl RunOutcome {
    pub fn has_safety_violation(&self) -> bool {
        self.violations.iter().any(|v| v.kind == Kind::Safety)
    }

    pub fn has_liveness_violation(&self) -> bool {
        self.violations.iter().any(|v| v.kind == Kind::Liveness)
    }
}

/// A run that did not finish: a panic is always a kafkasim bug.
#[derive(Debug)]
pub struct RunPanic {
    pub seed: u64,
    pub message: String,
}

/// Runs one scenario for one seed.
pub fn run_scenario(
    scenario: Arc<ValidScenario>,
    seed: u64,
    opts: RunOptions,
) -> Result<RunOutcome, RunPanic> {
    let thread = std::thread::Builder::new()
        .name(format!("kafkasim-seed-{seed}"))
        .spawn(move || {
            std::panic::catch_unwind(AssertUnwindSafe(|| run_in_runtime(scenario, seed, opts)))
        })
        .map_err(|e| RunPanic {
            seed,
            message: format!("cannot start the run's thread: {e}"),
        })?;
    match thread.join() {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(panic)) | Err(panic) => Err(RunPanic {
            seed,
            message: panic_message(panic),
        }),
    }
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic with a non-string payload".into())
}

fn run_in_runtime(scenario: Arc<ValidScenario>, seed: u64, opts: RunOptions) -> RunOutcome {
    let spec = &scenario.spec;
    // Messages travel on kafkasim's own wire (`network`), not on madsim's network.
    let mut config = madsim::Config::default();
    config.net.packet_loss_rate = 0.0;
    let mut rt = Runtime::with_seed_and_config(seed, config);
    let limit = spec.duration_ms + spec.liveness_bound_ms() + TIME_LIMIT_SLACK_MS;
    rt.set_time_limit(Duration::from_millis(limit));
    rt.block_on(simulate(scenario, seed, opts))
}

/// The scenario's topics, plus `__consumer_offsets` when there are consumer groups (Kafka
/// creates it on the first FindCoordinator; here it exists from the start).
pub fn all_topics(v: &ValidScenario) -> Vec<crate::scenario::TopicConfig> {
    let mut topics = v.spec.topics.clone();
    if !v.spec.groups.is_empty() {
        let c = &v.spec.cluster;
        topics.push(crate::scenario::TopicConfig {
            name: crate::protocol::CONSUMER_OFFSETS.into(),
            partitions: c.offsets_topic_num_partitions,
            replication_factor: c.offsets_topic_replication_factor.min(c.brokers),
            min_insync_replicas: 1,
            unclean_leader_election: false,
            retention_ms: None,
            retention_records: None,
        });
    }
    topics
}

fn broker_config(v: &ValidScenario) -> BrokerConfig {
    BrokerConfig {
        cluster: v.spec.cluster.clone(),
        topics: all_topics(v)
            .into_iter()
            .map(|t| (t.name.clone(), t))
            .collect(),
        switches: v.spec.protocol.clone(),
    }
}

fn initial_slots(v: &ValidScenario) -> BTreeMap<NodeId, Slot> {
    let spec = &v.spec;
    let mut slots = BTreeMap::new();
    slots.insert(
        NodeId::Controller,
        Slot::ControllerDown(ControllerDisk::default()),
    );
    let topics = all_topics(v);
    for b in 1..=spec.cluster.brokers {
        let tps = topics.iter().flat_map(|t| {
            (0..t.partitions)
                .filter(move |p| {
                    assign_replicas(*p, t.replication_factor, spec.cluster.brokers).contains(&b)
                })
                .map(move |p| TopicPartition::new(t.name.clone(), p))
        });
        slots.insert(NodeId::Broker(b), Slot::BrokerDown(Broker::fresh_disk(tps)));
    }
    for p in 1..=spec.producers.len() as u32 {
        slots.insert(
            NodeId::Producer(p),
            Slot::ProducerDown {
                next_seq: 0,
                incarnation: 0,
            },
        );
    }
    for r in 1..=spec.readers.len() as u32 {
        slots.insert(NodeId::Reader(r), Slot::ReaderDown { incarnation: 0 });
    }
    let consumers: u32 = spec.groups.iter().map(|g| g.consumers).sum();
    for c in 1..=consumers {
        slots.insert(NodeId::Consumer(c), Slot::ConsumerDown { incarnation: 0 });
    }
    slots
}

pub fn expectations(v: &ValidScenario) -> Expectations {
    let spec = &v.spec;
    let producers = (1..)
        .zip(&spec.producers)
        .filter(|(_, p)| p.acks != AcksConfig::None)
        .map(|(i, _)| i)
        .collect();
    let mut readers = Vec::new();
    for (i, r) in (1..).zip(&spec.readers) {
        if r.auto_offset_reset == OffsetReset::None {
            continue;
        }
        let all = spec
            .topics
            .iter()
            .find(|t| t.name == r.topic)
            .map(|t| t.partitions)
            .unwrap_or(0);
        for p in r.partitions.clone().unwrap_or_else(|| (0..all).collect()) {
            readers.push((i, TopicPartition::new(r.topic.clone(), p)));
        }
    }
    let groups = spec
        .groups
        .iter()
        .map(|g| {
            let tps = spec
                .topics
                .iter()
                .filter(|t| g.topics.contains(&t.name))
                .flat_map(|t| {
                    (0..t.partitions).map(move |p| TopicPartition::new(t.name.clone(), p))
                })
                .collect();
            (g.id.clone(), tps)
        })
        .collect();
    Expectations {
        producers,
        readers,
        groups,
    }
}

/// The groups whose records must not be lost: every commit mode but at-most-once.
pub fn at_least_once_groups(v: &ValidScenario) -> std::collections::BTreeSet<String> {
    v.spec
        .groups
        .iter()
        .filter(|g| g.commit != crate::scenario::CommitMode::AtMostOnce)
        .map(|g| g.id.clone())
        .collect()
}

async fn simulate(scenario: Arc<ValidScenario>, seed: u64, opts: RunOptions) -> RunOutcome {
    let spec = scenario.spec.clone();
    let invariants = crate::check::all_invariants(at_least_once_groups(&scenario));
    let checkers = Arc::new(Mutex::new(Checkers::new(invariants)));
    let mut history = History::new(opts.keep_events);
    if opts.measure_checkers {
        history.measure_observers();
    }
    history.add_observer(Box::new(SharedCheckers(checkers.clone())));
    let broker_cfg = Arc::new(broker_config(&scenario));
    let controller_cfg = ControllerConfig {
        brokers: spec.cluster.brokers,
        broker_session_timeout_ms: spec.cluster.broker_session_timeout_ms,
        topics: all_topics(&scenario),
        switches: spec.protocol.clone(),
    };
    let network = Network::new(
        rng::stream(seed, "network", 0),
        (spec.network.latency_min_ms, spec.network.latency_max_ms),
        spec.network.loss,
    );
    let world = Arc::new(World::new(
        scenario.clone(),
        seed,
        history,
        network,
        initial_slots(&scenario),
        broker_cfg,
        controller_cfg,
    ));
    madsim::task::spawn(node::carry(world.clone()));
    start_nodes(&world);
    let fault_state = Arc::new(Mutex::new(faults::FaultState::default()));
    madsim::task::spawn(faults::inject(world.clone(), fault_state.clone()));

    let max_events = spec.limits.max_events;
    let budget_hit = wait_until(&world, spec.duration_ms, max_events).await;
    let expect = expectations(&scenario);
    let mut budget_exhausted = budget_hit;
    if !budget_hit && spec.liveness.check {
        faults::heal_everything(&world, &fault_state);
        let deadline = spec.duration_ms + spec.liveness_bound_ms();
        budget_exhausted =
            await_convergence(&world, &checkers, &expect, deadline, max_events).await;
    }
    let outcome = finish(&world, &checkers, seed, &expect, budget_exhausted);
    shut_down(&world).await;
    *lock(&checkers) = Checkers::new(Vec::new());
    outcome
}

/// Ends every node and lets the executor drop their tasks before the runtime goes: madsim's
/// executor keeps queued tasks (and with them this run's state) alive after it is dropped, so a
/// sweep of thousands of seeds would otherwise grow by megabytes per seed.
async fn shut_down(world: &Arc<World>) {
    let handle = Handle::current();
    let ids: Vec<NodeId> = world.node_ids().collect();
    for id in ids {
        if let Some(mid) = world.madsim_id(id) {
            handle.kill(mid);
        }
    }
    world.release();
    madsim::time::sleep(Duration::from_millis(1)).await;
}

fn start_nodes(world: &Arc<World>) {
    let handle = Handle::current();
    let ids: Vec<NodeId> = world.node_ids().collect();
    for id in ids {
        let w = world.clone();
        let node = handle
            .create_node()
            .name(id.to_string())
            .ip(world::address(id).ip())
            .init(move || node::node_main(w.clone(), id))
            .build();
        world.set_madsim_id(id, node.id());
    }
}

/// Sleeps until `until_ms`, watching the event budget. Returns true if the budget ran out.
async fn wait_until(world: &World, until_ms: u64, max_events: u64) -> bool {
    while world.now_ms() < until_ms {
        let step = (until_ms - world.now_ms()).min(CONVERGENCE_POLL_MS * 10);
        madsim::time::sleep(Duration::from_millis(step)).await;
        if lock(&world.history).len() > max_events {
            return true;
        }
    }
    false
}

/// Polls convergence until it holds or `deadline_ms` passes (the verdict is then taken from the
/// history at the end, exactly as `check-history` takes it). Returns true if the event budget
/// ran out first.
async fn await_convergence(
    world: &World,
    checkers: &Mutex<Checkers>,
    expect: &Expectations,
    deadline_ms: u64,
    max_events: u64,
) -> bool {
    loop {
        if convergence::converged(&lock(checkers).ghost, expect).is_ok()
            || world.now_ms() >= deadline_ms
        {
            return false;
        }
        if lock(&world.history).len() > max_events {
            return true;
        }
        madsim::time::sleep(Duration::from_millis(CONVERGENCE_POLL_MS)).await;
    }
}

fn finish(
    world: &World,
    checkers: &Mutex<Checkers>,
    seed: u64,
    expect: &Expectations,
    budget_exhausted: bool,
) -> RunOutcome {
    let spec = &world.scenario.spec;
    let meta = crate::history::json::Meta {
        scenario: world.scenario.path.clone(),
        seed,
        liveness_check: spec.liveness.check,
        liveness_bound_ms: spec.liveness_bound_ms(),
        producers: expect.producers.clone(),
        readers: expect
            .readers
            .iter()
            .map(|(r, tp)| (*r, tp.topic.to_string(), tp.partition))
            .collect(),
        groups: expect
            .groups
            .iter()
            .map(|(g, tps)| {
                (
                    g.clone(),
                    tps.iter()
                        .map(|tp| (tp.topic.to_string(), tp.partition))
                        .collect(),
                )
            })
            .collect(),
        at_least_once_groups: at_least_once_groups(&world.scenario).into_iter().collect(),
        end_us: world.now_us(),
        budget_exhausted,
    };
    let (violations, expected_violations) = crate::check::finish_run(&mut lock(checkers), &meta);
    let anomalies = crate::check::run_anomalies(&lock(checkers), &meta);
    let mut history = lock(&world.history);
    RunOutcome {
        seed,
        sim_time_ms: meta.end_us / 1000,
        events: history.len(),
        trace_hash: history.trace_hash(),
        messages: world.messages.load(std::sync::atomic::Ordering::Relaxed),
        checker_wall_ns: history.observer_wall_ns(),
        violations,
        expected_violations,
        anomalies,
        stats: lock(checkers).ghost.stats.clone(),
        history: history.take_events(),
        meta,
    }
}
