//! The fault injector: fires the scenario's timed faults against the running cluster, and at
//! the end heals everything for the liveness phase (TigerBeetle's `transition_to_liveness_mode`).

use super::node::{crash_core, send, Control};
use super::world::{lock, Slot, World};
use crate::history::EventKind;
use crate::protocol::message::Message;
use crate::protocol::{NodeId, TopicPartition};
use crate::scenario::{CrashMode, Fault, NodeRef};
use madsim::runtime::Handle;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Time a cleanly shutting-down broker waits for the controller to move its leadership away.
const CONTROLLED_SHUTDOWN_WAIT_MS: u64 = 200;

/// Injector state: what is paused, what crashed last.
#[derive(Default)]
pub struct FaultState {
    paused: BTreeSet<NodeId>,
    last_crashed: Option<NodeId>,
}

/// Runs every scheduled fault at its time; stops as soon as the liveness phase begins.
pub async fn inject(world: Arc<World>, state: Arc<Mutex<FaultState>>) {
    let faults = world.scenario.faults.clone();
    for f in faults {
        madsim::time::sleep_until(world.instant_at(f.at_ms)).await;
        if world.is_healed() {
            return;
        }
        apply(&world, &state, &f.fault).await;
    }
}

fn note(world: &World, what: String) {
    world.record(NodeId::Controller, vec![EventKind::Fault { what }]);
}

/// The broker the controller names leader of `tp` right now.
fn current_leader(world: &World, tp: &TopicPartition) -> Option<NodeId> {
    let leader = match &*world.slot(NodeId::Controller) {
        Slot::Controller(c) => c.partition(tp).and_then(|s| s.leader),
        Slot::ControllerDown(disk) => disk.log.iter().rev().find_map(|r| match r {
            crate::protocol::message::MetadataRecord::Partition(s) if &s.tp == tp => Some(s.leader),
            _ => None,
        })?,
        _ => None,
    };
    leader.map(NodeId::Broker)
}

fn resolve(world: &World, state: &Mutex<FaultState>, r: &NodeRef) -> Option<NodeId> {
    match r {
        NodeRef::Node(n) => Some(*n),
        NodeRef::LeaderOf(tp) => current_leader(world, tp),
        NodeRef::LastCrashed => lock(state).last_crashed,
    }
}

fn resolve_all(world: &World, state: &Mutex<FaultState>, refs: &[NodeRef]) -> Vec<NodeId> {
    refs.iter()
        .filter_map(|r| resolve(world, state, r))
        .collect()
}

fn names(nodes: &[NodeId]) -> String {
    nodes
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Runs `f` after `ms` unless the liveness phase began first.
fn after(world: &Arc<World>, ms: u64, f: impl FnOnce(&World) + Send + 'static) {
    let world = world.clone();
    madsim::task::spawn(async move {
        madsim::time::sleep(Duration::from_millis(ms)).await;
        if !world.is_healed() {
            f(&world);
        }
    });
}

async fn apply(world: &Arc<World>, state: &Arc<Mutex<FaultState>>, fault: &Fault) {
    match fault {
        Fault::Crash { node, mode } => {
            let Some(id) = resolve(world, state, node) else {
                return note(world, format!("crash {node}: no such node now"));
            };
            crash(world, state, id, *mode).await;
        }
        Fault::Restart { node } => {
            if let Some(id) = resolve(world, state, node) {
                restart(world, id);
            }
        }
        Fault::Partition {
            sides,
            one_way,
            duration_ms,
        } => partition(world, state, sides, *one_way, *duration_ms),
        Fault::Heal => {
            lock(&world.network).heal_partitions();
            note(world, "heal all partitions".into());
        }
        Fault::Pause { node, duration_ms } => {
            let Some(id) = resolve(world, state, node) else {
                return;
            };
            pause(world, state, id, *duration_ms);
        }
        Fault::Slow {
            node,
            extra_latency_ms,
            duration_ms,
        } => {
            let Some(id) = resolve(world, state, node) else {
                return;
            };
            let rule = lock(&world.network).add_slow(id, *extra_latency_ms);
            note(
                world,
                format!("slow {id} +{extra_latency_ms}ms for {duration_ms}ms"),
            );
            after(world, *duration_ms, move |w| {
                lock(&w.network).remove_slow(rule);
                note(w, format!("slow {id} ends"));
            });
        }
        Fault::SlowPoll { node, duration_ms } => {
            let Some(id) = resolve(world, state, node) else {
                return;
            };
            world.send_control(id, Control::SlowPoll(*duration_ms));
            note(
                world,
                format!("slow poll {id}: next batch takes {duration_ms}ms longer"),
            );
        }
        Fault::Drop {
            from,
            to,
            probability,
            duration_ms,
        } => {
            let (from, to) = (
                resolve_all(world, state, from),
                resolve_all(world, state, to),
            );
            let rule = lock(&world.network).add_rule(&from, &to, *probability, 0);
            note(
                world,
                format!(
                    "drop {}->{} p={probability} for {duration_ms}ms",
                    names(&from),
                    names(&to)
                ),
            );
            after(world, *duration_ms, move |w| {
                lock(&w.network).remove_rule(rule)
            });
        }
        Fault::Delay {
            from,
            to,
            extra_latency_ms,
            duration_ms,
        } => {
            let (from, to) = (
                resolve_all(world, state, from),
                resolve_all(world, state, to),
            );
            let rule = lock(&world.network).add_rule(&from, &to, 0.0, *extra_latency_ms);
            note(
                world,
                format!(
                    "delay {}->{} +{extra_latency_ms}ms for {duration_ms}ms",
                    names(&from),
                    names(&to)
                ),
            );
            after(world, *duration_ms, move |w| {
                lock(&w.network).remove_rule(rule)
            });
        }
    }
}

async fn crash(world: &Arc<World>, state: &Arc<Mutex<FaultState>>, id: NodeId, mode: CrashMode) {
    if !world.slot(id).is_up() {
        return note(world, format!("crash {id}: already down"));
    }
    note(world, format!("crash {id} ({mode:?})"));
    if mode == CrashMode::Clean && matches!(id, NodeId::Broker(_) | NodeId::Consumer(_)) {
        let ctl = if matches!(id, NodeId::Broker(_)) {
            Control::BeginShutdown
        } else {
            Control::Close
        };
        world.send_control(id, ctl);
        madsim::time::sleep(Duration::from_millis(CONTROLLED_SHUTDOWN_WAIT_MS)).await;
    }
    if let Some(mid) = world.madsim_id(id) {
        Handle::current().kill(mid);
    }
    if mode != CrashMode::PowerLoss {
        close_connections(world, id);
        world.refuse_connections(id);
    }
    crash_core(world, id, mode);
    {
        let mut s = lock(state);
        s.last_crashed = Some(id);
        s.paused.remove(&id);
    }
    if world.is_healed() {
        // The liveness phase began during the controlled shutdown and restarted every node that
        // was down then; this one went down after, so it comes back now.
        restart(world, id);
    }
}

/// A process that dies has its kernel close its TCP connections: every peer is sent a FIN
/// ([`Message::ConnectionClosed`]), which travels like any packet (a cut link loses it, and the
/// peer then finds out only by its request timeouts). Until the node's next process begins, its
/// kernel refuses new connections (`node::send`). A machine that loses power sends nothing and
/// refuses nothing: requests to it are lost, and time out.
fn close_connections(world: &World, id: NodeId) {
    let life = world.life(id);
    let peers: Vec<NodeId> = world.node_ids().filter(|p| *p != id).collect();
    for peer in peers {
        send(world, id, life, peer, Message::ConnectionClosed);
    }
}

fn restart(world: &World, id: NodeId) {
    if world.slot(id).is_up() {
        return note(world, format!("restart {id}: already running"));
    }
    world.record(id, vec![EventKind::Restarted]);
    if let Some(mid) = world.madsim_id(id) {
        Handle::current().restart(mid);
    }
}

fn pause(world: &Arc<World>, state: &Arc<Mutex<FaultState>>, id: NodeId, duration_ms: u64) {
    let Some(mid) = world.madsim_id(id) else {
        return;
    };
    if !lock(state).paused.insert(id) {
        return;
    }
    Handle::current().pause(mid);
    note(world, format!("pause {id} for {duration_ms}ms"));
    let state = state.clone();
    after(world, duration_ms, move |w| {
        if lock(&state).paused.remove(&id) {
            Handle::current().resume(mid);
            note(w, format!("resume {id}"));
        }
    });
}

fn partition(
    world: &Arc<World>,
    state: &Mutex<FaultState>,
    sides: &[Vec<NodeRef>],
    one_way: bool,
    duration_ms: Option<u64>,
) {
    let mut resolved: Vec<Vec<NodeId>> =
        sides.iter().map(|s| resolve_all(world, state, s)).collect();
    let listed: BTreeSet<NodeId> = resolved.iter().flatten().copied().collect();
    if !one_way {
        // Nodes not named in any side stay with the first side.
        resolved[0].extend(world.node_ids().filter(|n| !listed.contains(n)));
    }
    let mut links = Vec::new();
    for (i, a_side) in resolved.iter().enumerate() {
        for (j, b_side) in resolved.iter().enumerate() {
            let cut = if one_way { i == 0 && j == 1 } else { i != j };
            if cut {
                links.extend(
                    a_side
                        .iter()
                        .flat_map(|a| b_side.iter().map(move |b| (*a, *b))),
                );
            }
        }
    }
    lock(&world.network).cut(&links);
    let shape: Vec<String> = resolved.iter().map(|s| format!("[{}]", names(s))).collect();
    let arrow = if one_way { " -/-> " } else { " | " };
    note(world, format!("partition {}", shape.join(arrow)));
    if let Some(ms) = duration_ms {
        after(world, ms, move |w| {
            lock(&w.network).uncut(&links);
            note(w, "partition heals".into());
        });
    }
}

/// Ends every fault: the network heals, paused nodes resume, crashed nodes restart, producers
/// stop producing new records. From here on the cluster must converge.
pub fn heal_everything(world: &World, state: &Mutex<FaultState>) {
    world.set_healed();
    lock(&world.network).heal_all();
    note(world, "liveness phase: every fault heals".into());
    let paused: Vec<NodeId> = std::mem::take(&mut lock(state).paused)
        .into_iter()
        .collect();
    for id in paused {
        if let Some(mid) = world.madsim_id(id) {
            Handle::current().resume(mid);
        }
    }
    let ids: Vec<NodeId> = world.node_ids().collect();
    for id in ids {
        if !world.slot(id).is_up() {
            restart(world, id);
        }
        if matches!(id, NodeId::Producer(_)) {
            world.send_control(id, Control::StopProducing);
        }
    }
}
