//! The madsim shell around one role core: bind the node's endpoint, start (or recover) the core,
//! then loop: fire due timers first, else handle the next message or control command, and carry
//! out the core's effects (record events, send messages through the fault layer).

use super::network::Verdict;
use super::world::{address, lock, Slot, World, TAG};
use crate::broker::Broker;
use crate::client::producer::Producer;
use crate::client::reader::Reader;
use crate::controller::Controller;
use crate::effects::Effects;
use crate::history::EventKind;
use crate::protocol::message::Message;
use crate::protocol::{Millis, NodeId};
use futures_util::stream::{FuturesUnordered, StreamExt};
use madsim::net::Endpoint;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// Concurrent receivers per node: madsim charges each receive ≥ 1 ms of the receiving task.
const RECEIVERS: usize = 4;

/// What travels in a madsim datagram: the sender's name, the receiver's process it was sent to
/// ([`World::life`]) and the Kafka message.
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
    let Some(ep) = bind(id).await else { return };
    let (tx, mut rx) = unbounded_channel();
    for _ in 0..RECEIVERS {
        madsim::task::spawn(receive(world.clone(), ep.clone(), id, life, tx.clone()));
    }
    let (outbox, queued) = unbounded_channel();
    madsim::task::spawn(postman(ep, id, queued));
    let (ctl_tx, mut ctl_rx) = unbounded_channel();
    world.set_control(id, ctl_tx);
    let mut out = Effects::default();
    start_core(&world, id, world.now_ms(), &mut out);
    dispatch(&world, &outbox, id, life, out);
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
                let now = world.now_ms();
                let _in_node = span.enter();
                world.slot(id).handle(now, env.from, env.message, &mut out);
            }
        }
        dispatch(&world, &outbox, id, life, out);
    }
}

async fn bind(id: NodeId) -> Option<Arc<Endpoint>> {
    // A restarted node may find its old socket not yet released: try again shortly.
    for _ in 0..100 {
        match Endpoint::bind(address(id)).await {
            Ok(ep) => return Some(Arc::new(ep)),
            Err(_) => madsim::time::sleep(Duration::from_millis(1)).await,
        }
    }
    tracing::error!(node = %id, "cannot bind the node's address");
    None
}

async fn sleep_until(world: &World, deadline: Option<Millis>) {
    match deadline {
        Some(ms) => madsim::time::sleep_until(world.instant_at(ms)).await,
        None => std::future::pending().await,
    }
}

async fn receive(
    world: Arc<World>,
    ep: Arc<Endpoint>,
    me: NodeId,
    life: u64,
    tx: UnboundedSender<Envelope>,
) {
    loop {
        let Ok((payload, _)) = ep.recv_from_raw(TAG).await else {
            return;
        };
        let Ok(env) = payload.downcast::<Envelope>() else {
            continue;
        };
        // Sent to an earlier process of this node, or answering a request of one: that
        // connection died with it.
        if env.to_life != life {
            continue;
        }
        let Some(message) = answer_to_this_life(env.message, life) else {
            continue;
        };
        let env = Envelope { message, ..*env };
        // A partition that began while the message was in flight loses it.
        if lock(&world.network).is_cut(env.from, me) {
            continue;
        }
        if tx.send(env).is_err() {
            return;
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
                Broker::recover(b, world.broker_config.clone(), disk, now, out)
                    .with_coordinators(crate::broker::groups::coordinator_factory),
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

/// Records the events of one core step and hands its messages, past the fault layer, to the
/// node's postman; requests get this process's number in their correlation id.
fn dispatch(
    world: &World,
    outbox: &UnboundedSender<Outgoing>,
    me: NodeId,
    life: u64,
    out: Effects,
) {
    world.record(me, out.events);
    for (to, mut message) in out.sends {
        if let Message::Request { correlation_id, .. } = &mut message {
            debug_assert!(
                *correlation_id >> LIFE_SHIFT == 0,
                "correlation ids overflow"
            );
            *correlation_id |= life << LIFE_SHIFT;
        }
        let verdict = lock(&world.network).route(me, to);
        let Verdict::Deliver { extra_latency_ms } = verdict else {
            continue;
        };
        world
            .messages
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The postman lives as long as the node's main task, which is the only caller.
        let _ = outbox.send(Outgoing {
            to,
            to_life: world.life(to),
            message,
            extra_latency_ms,
        });
    }
}

/// One message on its way out, with the extra latency a `delay` fault gave it.
struct Outgoing {
    to: NodeId,
    to_life: u64,
    message: Message,
    extra_latency_ms: u64,
}

/// The node's one sending task. Each message travels as its own future, so a delayed message
/// never holds back the others. One long-lived task rather than a task per message: madsim keeps
/// a record of every task a node has spawned until the node is killed, about 100 bytes per
/// message that a broker running for an hour would never give back.
async fn postman(ep: Arc<Endpoint>, me: NodeId, mut queued: UnboundedReceiver<Outgoing>) {
    let mut in_flight = FuturesUnordered::new();
    loop {
        tokio::select! {
            biased;
            next = queued.recv() => match next {
                Some(out) => in_flight.push(deliver(ep.clone(), me, out)),
                None => return,
            },
            Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
        }
    }
}

async fn deliver(ep: Arc<Endpoint>, me: NodeId, out: Outgoing) {
    if out.extra_latency_ms > 0 {
        madsim::time::sleep(Duration::from_millis(out.extra_latency_ms)).await;
    }
    let envelope = Envelope {
        from: me,
        to_life: out.to_life,
        message: out.message,
    };
    let _ = ep
        .send_to_raw(address(out.to), TAG, Box::new(envelope))
        .await;
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
