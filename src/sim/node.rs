//! The madsim shell around one role core: start (or recover) the core, then loop: fire due
//! timers first, else handle the next control command or message, and carry out the core's
//! effects (record events, send messages on the network). Also the wire task, which hands each
//! message that arrives to its receiver's current process.
//!
//! A message is addressed to a process, not only a node: it belongs to the TCP connection
//! between the sender's process and the receiver's process of its send time, and that
//! connection dies with either process. [`admit`] is the one place that enforces it on arrival.

use super::wire::Connection;
use super::world::{lock, Slot, World};
use crate::broker::Broker;
use crate::client::producer::Producer;
use crate::client::reader::Reader;
use crate::controller::Controller;
use crate::effects::Effects;
use crate::history::EventKind;
use crate::protocol::message::Message;
use crate::protocol::{Millis, NodeId};
use std::sync::Arc;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// What the wire puts in a node's inbox: the sender's name, the receiver's process it was sent
/// to ([`World::life`]) and the Kafka message.
pub struct Envelope {
    pub from: NodeId,
    pub to_life: u64,
    pub message: Message,
}

/// Commands from the fault injector and the main task to a node.
#[derive(Clone, Copy, Debug)]
pub enum Control {
    /// A broker begins a clean shutdown (controlled shutdown heartbeat).
    BeginShutdown,
    /// A producer stops producing new records (the workload ended).
    StopProducing,
    /// A consumer closes cleanly (commit, LeaveGroup) before it is stopped.
    Close,
    /// A consumer's next batch takes this many ms longer.
    SlowPoll(u64),
}

/// The task a madsim node runs on every start and restart.
pub async fn node_main(world: Arc<World>, id: NodeId) {
    let life = world.begin_life(id);
    let (inbox, mut rx) = unbounded_channel();
    world.set_inbox(id, inbox);
    let (ctl_tx, mut ctl_rx) = unbounded_channel();
    world.set_control(id, ctl_tx);
    let mut out = Effects::default();
    start_core(&world, id, world.now_ms(), &mut out);
    dispatch(&world, id, life, out);
    loop {
        let deadline = world.slot(id).next_deadline();
        let mut out = Effects::default();
        let span = tracing::debug_span!("node", %id);
        tokio::select! {
            biased;
            _ = sleep_until(&world, deadline) => {
                let now = world.now_ms();
                let _in_node = span.enter();
                world.slot(id).tick(now, &mut out);
            }
            Some(ctl) = ctl_rx.recv() => control(&world, id, ctl, &mut out),
            Some(env) = rx.recv() => {
                let Some(env) = admit(env, life) else { continue };
                let now = world.now_ms();
                let _in_node = span.enter();
                world.slot(id).handle(now, env.from, env.message, &mut out);
            }
        }
        dispatch(&world, id, life, out);
    }
}

async fn sleep_until(world: &World, deadline: Option<Millis>) {
    match deadline {
        Some(ms) => madsim::time::sleep_until(world.instant_at(ms)).await,
        None => std::future::pending().await,
    }
}

/// Whether process `life` of the receiver takes a message that arrived: not if it was sent to
/// an earlier process of this node, nor if it answers a request of an earlier process (either
/// way its connection died with that process). A response gets back the correlation id its
/// core chose.
pub fn admit(env: Envelope, life: u64) -> Option<Envelope> {
    if env.to_life != life {
        return None;
    }
    let message = answer_to_this_life(env.message, life)?;
    Some(Envelope { message, ..env })
}

/// The wire task, on the simulator's main node (never crashed or paused): at each arrival time
/// it takes from the network what arrives and posts it to the receivers' inboxes. Ends when the
/// run is released.
pub async fn carry(world: Arc<World>) {
    loop {
        let (arrived, next_us) = {
            let mut network = lock(&world.network);
            (network.arrive(world.now_us()), network.next_arrival_us())
        };
        for (conn, message) in arrived {
            world.post(conn, message);
        }
        if world.is_released() {
            return;
        }
        let next = next_us.map(|us| world.instant_at_us(us));
        tokio::select! {
            biased;
            _ = world.wire_bell.notified() => {}
            _ = async {
                match next {
                    Some(at) => madsim::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => {}
        }
    }
}

fn control(world: &World, id: NodeId, ctl: Control, out: &mut Effects) {
    let now = world.now_ms();
    match (&mut *world.slot(id), ctl) {
        (Slot::Broker(b), Control::BeginShutdown) => b.begin_shutdown(now, out),
        (Slot::Producer(p), Control::StopProducing) => p.stop(now),
        (Slot::Consumer(c), Control::Close) => c.close(now, out),
        (Slot::Consumer(c), Control::SlowPoll(ms)) => c.slow_next_poll(ms),
        _ => {}
    }
}

/// Builds the node's core: fresh on first start, recovered from its disk after a crash.
fn start_core(world: &World, id: NodeId, now: Millis, out: &mut Effects) {
    let mut slot = world.slot(id);
    let placeholder = Slot::ReaderDown { incarnation: 0 };
    let next = match std::mem::replace(&mut *slot, placeholder) {
        Slot::ControllerDown(disk) if disk.log.is_empty() => Slot::Controller(
            Controller::bootstrap(world.controller_config.clone(), now, out),
        ),
        Slot::ControllerDown(disk) => Slot::Controller(Controller::recover(
            world.controller_config.clone(),
            disk,
            now,
            out,
        )),
        Slot::BrokerDown(disk) => {
            let NodeId::Broker(b) = id else {
                unreachable!("broker slots belong to brokers")
            };
            Slot::Broker(Box::new(
                Broker::recover(b, world.broker_config.clone(), disk, now, out).with_coordinators(),
            ))
        }
        Slot::ProducerDown {
            next_seq,
            incarnation,
        } => Slot::Producer(Box::new(new_producer(world, id, next_seq, incarnation))),
        Slot::ReaderDown { incarnation } => {
            Slot::Reader(Box::new(new_reader(world, id, incarnation)))
        }
        Slot::ConsumerDown { .. } => Slot::Consumer(Box::new(new_consumer(world, id))),
        running => running,
    };
    *slot = next;
}

fn new_producer(world: &World, id: NodeId, next_seq: u64, incarnation: u64) -> Producer {
    let NodeId::Producer(n) = id else {
        unreachable!("producer slots belong to producers")
    };
    let spec = &world.scenario.spec;
    let cfg = spec.producers[(n - 1) as usize].clone();
    let partitions = world
        .broker_config
        .topic(&cfg.topic)
        .map(|t| t.partitions)
        .unwrap_or(1);
    let rng = super::rng::stream(world.seed, "producer", (u64::from(n) << 32) | incarnation);
    let mut p = Producer::new(
        n,
        cfg,
        partitions,
        spec.cluster.brokers,
        spec.duration_ms,
        rng,
    );
    p.resume_from(world.now_ms(), next_seq, incarnation);
    p
}

/// Consumer `cN`: the N-th consumer counting through the groups in file order.
fn new_consumer(world: &World, id: NodeId) -> crate::client::consumer::Consumer {
    let NodeId::Consumer(n) = id else {
        unreachable!("consumer slots belong to consumers")
    };
    let spec = &world.scenario.spec;
    let (group, member_no) =
        consumer_group(&spec.groups, n).expect("validated: every consumer has a group");
    let mut c =
        crate::client::consumer::Consumer::new(n, member_no, group.clone(), spec.cluster.brokers);
    c.keeps_partitions_on_rejoin = spec.protocol.eager_keeps_partitions_on_rejoin;
    c.commits_before_processing = spec.protocol.consumer_commits_before_processing;
    c.ignores_committed_offset = spec.protocol.consumer_ignores_committed_offset;
    c.trusts_stale_owned = spec.protocol.assignor_trusts_stale_owned;
    c
}

/// The group of consumer `cN` and its number within the group (1-based).
pub fn consumer_group(
    groups: &[crate::scenario::GroupConfig],
    n: u32,
) -> Option<(&crate::scenario::GroupConfig, u32)> {
    let mut first = 1;
    for g in groups {
        if n < first + g.consumers {
            return Some((g, n - first + 1));
        }
        first += g.consumers;
    }
    None
}

fn new_reader(world: &World, id: NodeId, _incarnation: u64) -> Reader {
    let NodeId::Reader(n) = id else {
        unreachable!("reader slots belong to readers")
    };
    let spec = &world.scenario.spec;
    let cfg = spec.readers[(n - 1) as usize].clone();
    let all = world
        .broker_config
        .topic(&cfg.topic)
        .map(|t| t.partitions)
        .unwrap_or(1);
    let partitions = cfg.partitions.clone().unwrap_or_else(|| (0..all).collect());
    let mut r = Reader::new(n, cfg, partitions, spec.cluster.brokers);
    r.skips_after_poll = spec.protocol.reader_skips_after_poll;
    r
}

/// Correlation ids carry the number of the process that sent the request above this bit, so a
/// response meant for an earlier process of the node is recognised and dropped: its connection
/// died with that process. Cores number their requests from 0 on every start.
const LIFE_SHIFT: u32 = 40;

/// A response to a request of an earlier process is dropped; one to this process gets back the
/// correlation id its core chose. Requests pass unchanged.
fn answer_to_this_life(message: Message, life: u64) -> Option<Message> {
    match message {
        Message::Response {
            correlation_id,
            body,
        } if correlation_id >> LIFE_SHIFT == life => Some(Message::Response {
            correlation_id: correlation_id & ((1 << LIFE_SHIFT) - 1),
            body,
        }),
        Message::Response { .. } => None,
        request => Some(request),
    }
}

/// Records the events of one core step and sends its messages; requests get this process's
/// number in their correlation id.
fn dispatch(world: &World, me: NodeId, life: u64, out: Effects) {
    world.record(me, out.events);
    for (to, mut message) in out.sends {
        if let Message::Request { correlation_id, .. } = &mut message {
            debug_assert!(
                *correlation_id >> LIFE_SHIFT == 0,
                "correlation ids overflow"
            );
            *correlation_id |= life << LIFE_SHIFT;
        }
        send(world, me, life, to, message);
    }
}

/// Sends `message` from process `life` of `me` to the current process of `to`: onto the wire
/// unless the fault layer drops it. From here on it no longer depends on the sender. A request to
/// a node whose process died on a running machine is refused: its kernel's reset comes back
/// instead ([`Message::ConnectionClosed`], itself a packet the fault layer may drop), and the
/// requester fails the request as Kafka's `NetworkClient` fails one whose connection could not
/// be made.
pub fn send(world: &World, me: NodeId, life: u64, to: NodeId, message: Message) {
    if matches!(message, Message::Request { .. }) && world.refuses_connections(to) {
        return send(world, to, world.life(to), me, Message::ConnectionClosed);
    }
    let conn = Connection {
        from: me,
        from_life: life,
        to,
        to_life: world.life(to),
    };
    let now_us = world.now_us();
    let mut network = lock(&world.network);
    let earliest = network.next_arrival_us();
    let Some(at_us) = network.send(conn, now_us, message) else {
        return;
    };
    drop(network);
    world
        .messages
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if earliest.is_none_or(|e| at_us < e) {
        world.wire_bell.notify_one();
    }
}

/// Records that a node crashed and keeps what survives.
pub fn crash_core(world: &World, id: NodeId, mode: crate::scenario::CrashMode) {
    let mut out = Effects::default();
    out.event(EventKind::Crashed { mode });
    let mut slot = world.slot(id);
    let placeholder = Slot::ReaderDown { incarnation: 0 };
    let next = match std::mem::replace(&mut *slot, placeholder) {
        Slot::Controller(c) => Slot::ControllerDown(c.disk()),
        Slot::Broker(b) => Slot::BrokerDown(b.crash(mode, &mut out)),
        Slot::Producer(p) => Slot::ProducerDown {
            next_seq: p.next_seq(),
            incarnation: p.incarnation() + 1,
        },
        Slot::Reader(_) => Slot::ReaderDown { incarnation: 1 },
        Slot::Consumer(_) => Slot::ConsumerDown { incarnation: 1 },
        down => down,
    };
    *slot = next;
    drop(slot);
    world.record(id, out.events);
}

/// The receiving side of a node's control channel, kept by the world.
pub type ControlReceiver = UnboundedReceiver<Control>;
