//! The bare-madsim baseline: two simulated nodes bouncing messages through madsim's network the
//! way kafkasim's nodes send theirs (one boxed payload per message, each send a future of the
//! node's one sending task, as in `sim::node`), with nothing else running. What a kafkasim
//! message costs beyond this is kafkasim's own work.

use futures_util::stream::{FuturesUnordered, StreamExt};
use madsim::net::Endpoint;
use madsim::runtime::{Handle, Runtime};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const TAG: u64 = 7;
/// Pings in flight at once (kafkasim's nodes have many requests outstanding too).
const WINDOW: u64 = 64;

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([10, 9, 0, n], 9000))
}

/// Runs one ping-pong of `messages` deliveries (pings plus pongs) on this thread; returns the
/// wall time it took.
pub fn run(messages: u64, seed: u64) -> Duration {
    let mut config = madsim::Config::default();
    config.net.send_latency = Duration::from_millis(1)..Duration::from_millis(5);
    let rt = Runtime::with_seed_and_config(seed, config);
    let started = Instant::now();
    rt.block_on(ping_pong(messages.div_ceil(2)));
    started.elapsed()
}

/// The same ping-pong on `threads` OS threads at once, each with its own runtime; returns the wall
/// time until all finished.
pub fn run_parallel(messages_each: u64, threads: u64) -> Duration {
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| std::thread::spawn(move || run(messages_each, t + 1)))
        .collect();
    for h in handles {
        h.join().expect("the ping-pong thread finished");
    }
    started.elapsed()
}

async fn ping_pong(pings: u64) {
    let handle = Handle::current();
    let echo = handle
        .create_node()
        .name("echo")
        .ip(addr(2).ip())
        .init(|| async {
            let ep = std::sync::Arc::new(Endpoint::bind(addr(2)).await.expect("bind"));
            let outbox = postman(ep.clone());
            loop {
                let Ok((payload, from)) = ep.recv_from_raw(TAG).await else {
                    return;
                };
                let _ = outbox.send((from, payload));
            }
        })
        .build();
    let client = handle.create_node().name("client").ip(addr(1).ip()).build();
    client
        .spawn(async move {
            let ep = std::sync::Arc::new(Endpoint::bind(addr(1)).await.expect("bind"));
            let outbox = postman(ep.clone());
            let mut sent = 0;
            let mut received = 0;
            while received < pings {
                while sent < pings && sent - received < WINDOW {
                    let _ = outbox.send((addr(2), Box::new(sent)));
                    sent += 1;
                }
                if ep.recv_from_raw(TAG).await.is_ok() {
                    received += 1;
                }
            }
        })
        .await
        .expect("the client finished");
    handle.kill(echo.id());
}

type Outgoing = (SocketAddr, madsim::net::Payload);

/// Starts the node's one sending task and returns its queue: each queued message is sent as its
/// own future, so the sends overlap as they do in kafkasim's nodes.
fn postman(ep: std::sync::Arc<Endpoint>) -> tokio::sync::mpsc::UnboundedSender<Outgoing> {
    let (outbox, mut queued) = tokio::sync::mpsc::unbounded_channel::<Outgoing>();
    madsim::task::spawn(async move {
        let mut in_flight = FuturesUnordered::new();
        loop {
            tokio::select! {
                biased;
                next = queued.recv() => match next {
                    Some((to, payload)) => {
                        let ep = ep.clone();
                        in_flight.push(async move {
                            let _ = ep.send_to_raw(to, TAG, payload).await;
                        });
                    }
                    None => return,
                },
                Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
            }
        }
    });
    outbox
}
