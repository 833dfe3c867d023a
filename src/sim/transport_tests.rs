//! The network between live processes, end to end on madsim: the real send path, the wire task
//! and the receiving node's [`admit`], with madsim killing and restarting the processes.

use super::network::Network;
use super::node::{admit, carry, send};
use super::world::{lock, World};
use super::{broker_config, initial_slots, rng};
use crate::controller::ControllerConfig;
use crate::history::History;
use crate::protocol::message::{Message, MetadataRequest, Request};
use crate::protocol::NodeId;
use madsim::runtime::{Handle, Runtime};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SENDER: NodeId = NodeId::Broker(1);
const RECEIVER: NodeId = NodeId::Broker(2);
/// Every message takes exactly this long: the tests place crashes inside it.
const LATENCY_MS: u64 = 5;

/// What a receiving process took: (its life, the message's number).
type Taken = Arc<Mutex<Vec<(u64, u64)>>>;

fn world() -> Arc<World> {
    let text = "name = \"t\"\nduration_ms = 1000\n[cluster]\nbrokers = 2\n";
    let scenario = Arc::new(crate::scenario::from_str("t.toml", text).expect("valid"));
    let network = Network::new(rng::stream(1, "network", 0), (LATENCY_MS, LATENCY_MS), 0.0);
    let controller = ControllerConfig {
        brokers: 2,
        broker_session_timeout_ms: 1000,
        topics: vec![],
        switches: scenario.spec.protocol.clone(),
    };
    Arc::new(World::new(
        scenario.clone(),
        1,
        History::new(false),
        network,
        initial_slots(&scenario),
        Arc::new(broker_config(&scenario)),
        controller,
    ))
}

fn numbered(n: u64) -> Message {
    Message::Request {
        correlation_id: n,
        body: Request::Metadata(MetadataRequest { topics: vec![] }),
    }
}

/// A madsim node that, on every start, begins a new process of `RECEIVER` and records what it
/// admits.
fn receiver(world: &Arc<World>, taken: &Taken) -> madsim::task::NodeId {
    let (world, taken) = (world.clone(), taken.clone());
    Handle::current()
        .create_node()
        .name("receiver")
        .init(move || {
            let (world, taken) = (world.clone(), taken.clone());
            async move {
                let life = world.begin_life(RECEIVER);
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                world.set_inbox(RECEIVER, tx);
                while let Some(env) = rx.recv().await {
                    if let Some(env) = admit(env, life) {
                        let Message::Request { correlation_id, .. } = env.message else {
                            continue;
                        };
                        lock(&taken).push((life, correlation_id));
                    }
                }
            }
        })
        .build()
        .id()
}

/// A madsim node that sends `first` at once and `then` 2 ms later, from one process.
fn sender(world: &Arc<World>, first: Vec<u64>, then: Vec<u64>) -> madsim::task::NodeId {
    let world = world.clone();
    let node = Handle::current().create_node().name("sender").build();
    node.spawn(async move {
        let life = world.begin_life(SENDER);
        for n in first {
            send(&world, SENDER, life, RECEIVER, numbered(n));
        }
        madsim::time::sleep(Duration::from_millis(2)).await;
        for n in then {
            send(&world, SENDER, life, RECEIVER, numbered(n));
        }
    });
    node.id()
}

fn simulate(test: impl std::future::Future<Output = ()> + 'static) {
    Runtime::with_seed_and_config(1, madsim::Config::default()).block_on(test);
}

#[test]
fn messages_sent_before_the_sender_crashes_still_arrive_in_order() {
    simulate(async {
        let world = world();
        madsim::task::spawn(carry(world.clone()));
        let taken = Taken::default();
        receiver(&world, &taken);
        let s = sender(&world, (1..=20).collect(), vec![21]);
        madsim::time::sleep(Duration::from_millis(1)).await;
        Handle::current().kill(s);
        assert!(lock(&taken).is_empty(), "killed while all 20 are in flight");
        madsim::time::sleep(Duration::from_millis(3 * LATENCY_MS)).await;
        let numbers: Vec<u64> = lock(&taken).iter().map(|(_, n)| *n).collect();
        assert_eq!(numbers, (1..=20).collect::<Vec<_>>(), "21 was never sent");
        world.release();
    });
}

#[test]
fn messages_in_flight_to_a_paused_receiver_wait_for_it() {
    simulate(async {
        let world = world();
        madsim::task::spawn(carry(world.clone()));
        let taken = Taken::default();
        let r = receiver(&world, &taken);
        madsim::time::sleep(Duration::from_millis(1)).await;
        sender(&world, (1..=5).collect(), vec![]);
        Handle::current().pause(r);
        madsim::time::sleep(Duration::from_millis(3 * LATENCY_MS)).await;
        assert!(lock(&taken).is_empty(), "paused");
        Handle::current().resume(r);
        madsim::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(*lock(&taken), (1..=5).map(|n| (1, n)).collect::<Vec<_>>());
        world.release();
    });
}

#[test]
fn a_receiver_restart_drops_what_was_in_flight_to_its_old_process() {
    simulate(async {
        let world = world();
        madsim::task::spawn(carry(world.clone()));
        let taken = Taken::default();
        let r = receiver(&world, &taken);
        madsim::time::sleep(Duration::from_millis(1)).await;
        sender(&world, vec![1, 2, 3], vec![4]);
        madsim::time::sleep(Duration::from_millis(1)).await;
        let handle = Handle::current();
        handle.kill(r);
        handle.restart(r);
        madsim::time::sleep(Duration::from_millis(3 * LATENCY_MS)).await;
        assert_eq!(world.life(RECEIVER), 2);
        assert_eq!(
            *lock(&taken),
            [(2, 4)],
            "1..3 were sent to process 1; 4, sent after the restart, reaches process 2"
        );
        world.release();
    });
}
