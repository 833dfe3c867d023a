//! The shared state of one run: the scenario, the clock origin, the history, the network faults,
//! and one slot per Kafka node holding its role core (or, while it is down, its disk).
//!
//! Everything here is created inside the run's madsim runtime and dropped with it; nothing is
//! static, so runs on different threads never share state.

use super::network::Network;
use super::node::Envelope;
use super::wire::Connection;
use crate::broker::{Broker, BrokerConfig, BrokerDisk};
use crate::client::producer::Producer;
use crate::client::reader::Reader;
use crate::controller::{Controller, ControllerConfig, ControllerDisk};
use crate::effects::Effects;
use crate::history::{Event, History};
use crate::protocol::message::Message;
use crate::protocol::{Millis, NodeId};
use crate::scenario::ValidScenario;
use madsim::time::Instant;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The port every simulated node listens on.
pub const PORT: u16 = 9092;

/// A node's core while it runs, or what survives of it while it is down.
pub enum Slot {
    Controller(Controller),
    ControllerDown(ControllerDisk),
    Broker(Box<Broker>),
    BrokerDown(BrokerDisk),
    Producer(Box<Producer>),
    /// A stopped producer remembers its next sequence number: values stay unique.
    ProducerDown {
        next_seq: u64,
        incarnation: u64,
    },
    Reader(Box<Reader>),
    ReaderDown {
        incarnation: u64,
    },
    Consumer(Box<crate::client::consumer::Consumer>),
    ConsumerDown {
        incarnation: u64,
    },
}

impl Slot {
    pub fn is_up(&self) -> bool {
        matches!(
            self,
            Slot::Controller(_)
                | Slot::Broker(_)
                | Slot::Producer(_)
                | Slot::Reader(_)
                | Slot::Consumer(_)
        )
    }

    pub fn handle(&mut self, now: Millis, from: NodeId, message: Message, out: &mut Effects) {
        match self {
            Slot::Controller(c) => c.handle(now, from, message, out),
            Slot::Broker(b) => b.handle(now, from, message, out),
            Slot::Producer(p) => p.handle(now, from, message, out),
            Slot::Reader(r) => r.handle(now, from, message, out),
            Slot::Consumer(c) => c.handle(now, from, message, out),
            _ => {}
        }
    }

    pub fn tick(&mut self, now: Millis, out: &mut Effects) {
        match self {
            Slot::Controller(c) => c.tick(now, out),
            Slot::Broker(b) => b.tick(now, out),
            Slot::Producer(p) => p.tick(now, out),
            Slot::Reader(r) => r.tick(now, out),
            Slot::Consumer(c) => c.tick(now, out),
            _ => {}
        }
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        match self {
            Slot::Controller(c) => c.next_deadline(),
            Slot::Broker(b) => b.next_deadline(),
            Slot::Producer(p) => p.next_deadline(),
            Slot::Reader(r) => r.next_deadline(),
            Slot::Consumer(c) => c.next_deadline(),
            _ => None,
        }
    }
}

/// The state of one run shared by the main task, the fault injector and every node.
pub struct World {
    pub scenario: Arc<ValidScenario>,
    pub seed: u64,
    start: Instant,
    pub history: Mutex<History>,
    pub network: Mutex<Network>,
    /// Rung when a message becomes the next to arrive, so the wire task sleeps no longer.
    pub wire_bell: tokio::sync::Notify,
    /// Where the wire delivers each node's messages: its current process's inbox.
    inboxes: Mutex<BTreeMap<NodeId, tokio::sync::mpsc::UnboundedSender<Envelope>>>,
    slots: BTreeMap<NodeId, Mutex<Slot>>,
    /// How many times each node's process has started: a message is addressed to the process
    /// that was current when it was sent (see [`World::life`]).
    lives: BTreeMap<NodeId, AtomicU64>,
    madsim_ids: Mutex<BTreeMap<NodeId, madsim::task::NodeId>>,
    pub broker_config: Arc<BrokerConfig>,
    pub controller_config: ControllerConfig,
    controls: Mutex<BTreeMap<NodeId, tokio::sync::mpsc::UnboundedSender<super::node::Control>>>,
    /// Set when the liveness phase begins: faults still pending do nothing.
    healed: AtomicBool,
    /// Set when the run is over: the wire task ends.
    released: AtomicBool,
    /// Messages sent into the network (counted for `bench`).
    pub messages: std::sync::atomic::AtomicU64,
    /// Nodes whose process died on a machine that still runs (a `clean` or `process` crash):
    /// their kernel refuses new connections, so a request sent to one is answered at once with
    /// a reset ([`Message::ConnectionClosed`]). A machine that lost power answers nothing.
    refusing: Mutex<BTreeSet<NodeId>>,
}

/// Locks a mutex; a poisoned lock means a node panicked, which already fails the run.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl World {
    pub fn new(
        scenario: Arc<ValidScenario>,
        seed: u64,
        history: History,
        network: Network,
        slots: BTreeMap<NodeId, Slot>,
        broker_config: Arc<BrokerConfig>,
        controller_config: ControllerConfig,
    ) -> Self {
        let lives = slots.keys().map(|id| (*id, AtomicU64::new(0))).collect();
        World {
            lives,
            scenario,
            seed,
            start: Instant::now(),
            history: Mutex::new(history),
            network: Mutex::new(network),
            wire_bell: tokio::sync::Notify::new(),
            inboxes: Mutex::new(BTreeMap::new()),
            slots: slots
                .into_iter()
                .map(|(id, s)| (id, Mutex::new(s)))
                .collect(),
            madsim_ids: Mutex::new(BTreeMap::new()),
            broker_config,
            controller_config,
            controls: Mutex::new(BTreeMap::new()),
            healed: AtomicBool::new(false),
            released: AtomicBool::new(false),
            messages: std::sync::atomic::AtomicU64::new(0),
            refusing: Mutex::new(BTreeSet::new()),
        }
    }

    /// Simulated microseconds since the run began.
    pub fn now_us(&self) -> u64 {
        Instant::now().duration_since(self.start).as_micros() as u64
    }

    pub fn now_ms(&self) -> Millis {
        self.now_us() / 1000
    }

    /// The madsim instant of simulated millisecond `ms`.
    pub fn instant_at(&self, ms: Millis) -> Instant {
        self.start + std::time::Duration::from_millis(ms)
    }

    /// The madsim instant of simulated microsecond `us`.
    pub fn instant_at_us(&self, us: u64) -> Instant {
        self.start + std::time::Duration::from_micros(us)
    }

    /// Drops what the run's cores and history hold. madsim keeps a finished runtime's node tasks
    /// (and through them this world) alive longer than the run; without this each run would leak
    /// its logs and cores.
    pub fn release(&self) {
        for slot in self.slots.values() {
            *lock(slot) = Slot::ReaderDown { incarnation: 0 };
        }
        let mut h = lock(&self.history);
        h.take_events();
        h.take_observers();
        lock(&self.controls).clear();
        lock(&self.inboxes).clear();
        lock(&self.network).clear_wire();
        self.released.store(true, Ordering::SeqCst);
        self.wire_bell.notify_one();
    }

    pub fn is_released(&self) -> bool {
        self.released.load(Ordering::SeqCst)
    }

    pub fn slot(&self, id: NodeId) -> MutexGuard<'_, Slot> {
        lock(self.slots.get(&id).expect("every node has a slot"))
    }

    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.slots.keys().copied()
    }

    pub fn set_madsim_id(&self, id: NodeId, madsim_id: madsim::task::NodeId) {
        lock(&self.madsim_ids).insert(id, madsim_id);
    }

    pub fn madsim_id(&self, id: NodeId) -> Option<madsim::task::NodeId> {
        lock(&self.madsim_ids).get(&id).copied()
    }

    pub fn set_control(
        &self,
        id: NodeId,
        tx: tokio::sync::mpsc::UnboundedSender<super::node::Control>,
    ) {
        lock(&self.controls).insert(id, tx);
    }

    /// Where the wire delivers `id`'s messages from now on (its new process's inbox).
    pub fn set_inbox(&self, id: NodeId, tx: tokio::sync::mpsc::UnboundedSender<Envelope>) {
        lock(&self.inboxes).insert(id, tx);
    }

    /// Puts `message`, just arrived on `conn`, in the receiver's inbox; lost if its process is
    /// gone. Whether that process is the one it was sent to is the node's to decide
    /// (`node::admit`).
    pub fn post(&self, conn: Connection, message: Message) {
        if let Some(tx) = lock(&self.inboxes).get(&conn.to) {
            let _ = tx.send(Envelope {
                from: conn.from,
                to_life: conn.to_life,
                message,
            });
        }
    }

    /// Sends a control command to a running node (lost if the node is down).
    pub fn send_control(&self, id: NodeId, ctl: super::node::Control) {
        if let Some(tx) = lock(&self.controls).get(&id) {
            let _ = tx.send(ctl);
        }
    }

    /// The number of the node's current process (its connections): 0 before the first start,
    /// one more at every start. Kafka talks over TCP; when a process dies its connections die
    /// with it, so a message sent to one process is never delivered to the next one (else a
    /// restarted node would take an answer meant for its predecessor as the answer to its own
    /// request with the same correlation id).
    pub fn life(&self, id: NodeId) -> u64 {
        self.lives
            .get(&id)
            .map(|l| l.load(Ordering::SeqCst))
            .unwrap_or(0)
    }

    /// A new process of `id` starts; returns its number.
    pub fn begin_life(&self, id: NodeId) -> u64 {
        lock(&self.refusing).remove(&id);
        self.lives
            .get(&id)
            .map(|l| l.fetch_add(1, Ordering::SeqCst) + 1)
            .unwrap_or(0)
    }

    /// `id`'s process died but its machine runs: connections to it are refused from now until
    /// its next process begins.
    pub fn refuse_connections(&self, id: NodeId) {
        lock(&self.refusing).insert(id);
    }

    pub fn refuses_connections(&self, id: NodeId) -> bool {
        lock(&self.refusing).contains(&id)
    }

    pub fn is_healed(&self) -> bool {
        self.healed.load(Ordering::SeqCst)
    }

    pub fn set_healed(&self) {
        self.healed.store(true, Ordering::SeqCst);
    }

    /// Records events from `node` at the current time.
    pub fn record(&self, node: NodeId, events: Vec<crate::history::EventKind>) {
        if events.is_empty() {
            return;
        }
        let at_us = self.now_us();
        let mut h = lock(&self.history);
        for kind in events {
            h.record(Event { at_us, node, kind });
        }
    }
}

/// The address of a node: controller 10.0.0.1, brokers 10.1.x.x, producers 10.2.x.x, readers
/// 10.3.x.x, consumers 10.4.x.x.
pub fn address(id: NodeId) -> SocketAddr {
    let (net, n) = match id {
        NodeId::Controller => (0, 1),
        NodeId::Broker(n) => (1, n),
        NodeId::Producer(n) => (2, n),
        NodeId::Reader(n) => (3, n),
        NodeId::Consumer(n) => (4, n),
    };
    let ip = Ipv4Addr::new(10, net, (n / 256) as u8, (n % 256) as u8);
    SocketAddr::new(IpAddr::V4(ip), PORT)
}
