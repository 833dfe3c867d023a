//! The simulated network: Kafka's TCP connections between live processes, and the fault layer
//! on them (partitions, loss, delay faults, slow nodes). madsim runs the processes (kill, pause,
//! restart); the messages travel on kafkasim's own [`Wire`], not on madsim's datagram network,
//! whose mailbox and per-message latency reorder messages of one connection.
//!
//! How one message travels, from the core's send to the receiving core:
//!
//! 1. **Send.** [`Network::send`] decides its fate once, at send time: dropped if the link is cut
//!    (a partition) or if the base loss (`network.loss`) or a `drop` fault on the link loses it;
//!    otherwise it draws a latency, uniform in `latency_min_ms..=latency_max_ms` (µs resolution),
//!    adds every active `delay` fault on the link and every `slow` fault on either end, and puts
//!    the message on the wire of its connection (sender process → receiver process).
//! 2. **In flight.** The wire delivers each connection in send order: a message arrives at
//!    max(its drawn time, the previous arrival on its connection), so latency varies per message
//!    but never reorders a connection; different connections (another sender, another receiver,
//!    the other direction, or a restarted process on either end) are independent and may
//!    overtake each other. Nothing of the sender is needed any more: the message arrives even if
//!    the sender crashes, loses power or is paused meanwhile (packets already on the network). A
//!    `delay` or `slow` fault that begins while it is in flight delays it too (and everything
//!    behind it on its connection): a link that turns slow slows the bytes already sent on it.
//!    When the fault ends, what it already delayed keeps its delay, and later messages on the
//!    connection still queue behind it.
//! 3. **Arrival.** [`Network::arrive`] drops a message whose link is cut at its arrival time (a
//!    partition that began while it was in flight loses it); the simulator's wire task hands the
//!    rest to the receiver node's current process. madsim's timers fire at least 1 ms after they
//!    are set, so an arrival may come up to 1 ms late (in arrival order, never reordered).
//! 4. **Receiving process.** The node shell (`node::admit`) drops a message sent to an earlier
//!    process of the receiver (it restarted while the message was in flight: that connection
//!    died with it) and a response to a request of an earlier process of the requester. A paused
//!    receiver finds its messages queued in arrival order when it resumes.
//!
//! What is lost, then, and only this: messages sent on a cut link or arriving on one; messages
//! the base loss or a `drop` fault loses at send time; messages whose receiving process died
//! before they arrived. A sender learns of a loss by its request timeout, except that a process
//! that dies (not a machine that loses power) sends every peer a FIN (`ConnectionClosed`, see
//! `faults::crash`), which fails the peer's requests in flight to it at once, as Kafka's
//! `NetworkClient` fails the requests of a connection it finds closed. **Loss is per message, not TCP's:** on a live TCP connection a lossy
//! link retransmits (a delay) and never loses one message while delivering the next. kafkasim
//! keeps per-message loss on purpose: `network.loss` and `drop` faults stand for a connection
//! that breaks and is re-established (a request or response lost, the rest of the stream
//! intact), which is how the scenarios and the swarm make requests time out and exercise the
//! retry paths. A lost message never lets a later one on its connection overtake an earlier
//! one: what arrives is always in send order.
//!
//! Every decision draws from the run's network stream (ChaCha8 seeded from the run seed), in the
//! deterministic order in which madsim runs the sending tasks.

use super::wire::{Connection, Wire};
use crate::protocol::message::Message;
use crate::protocol::NodeId;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// A rule on the directed links from `from` to `to`, identified so its fault can remove it.
#[derive(Clone, Debug)]
struct LinkRule {
    from: BTreeSet<NodeId>,
    to: BTreeSet<NodeId>,
    drop_probability: f64,
    extra_latency_ms: u64,
}

impl LinkRule {
    fn covers(&self, from: NodeId, to: NodeId) -> bool {
        self.from.contains(&from) && self.to.contains(&to)
    }
}

/// What happens to one message at send time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Drop,
    Deliver { extra_latency_ms: u64 },
}

#[derive(Debug)]
pub struct Network {
    rng: ChaCha8Rng,
    /// The base latency range (scenario `network.latency_min_ms..=latency_max_ms`), in µs.
    latency_us: (u64, u64),
    /// Base loss on every link (scenario `network.loss`).
    base_loss: f64,
    /// Directed cut links, counted (overlapping partitions each hold their own cut).
    cut: BTreeMap<(NodeId, NodeId), u32>,
    rules: BTreeMap<u64, LinkRule>,
    slow: BTreeMap<u64, (NodeId, u64)>,
    next_id: u64,
    wire: Wire<Message>,
}

impl Network {
    pub fn new(rng: ChaCha8Rng, latency_ms: (u64, u64), base_loss: f64) -> Self {
        let (lo, hi) = latency_ms;
        Network {
            rng,
            latency_us: (lo * 1000, hi.max(lo) * 1000),
            base_loss,
            cut: BTreeMap::new(),
            rules: BTreeMap::new(),
            slow: BTreeMap::new(),
            next_id: 0,
            wire: Wire::default(),
        }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Cuts every directed link in `links`.
    pub fn cut(&mut self, links: &[(NodeId, NodeId)]) {
        for l in links {
            *self.cut.entry(*l).or_insert(0) += 1;
        }
    }

    pub fn uncut(&mut self, links: &[(NodeId, NodeId)]) {
        for l in links {
            if let Some(n) = self.cut.get_mut(l) {
                *n -= 1;
                if *n == 0 {
                    self.cut.remove(l);
                }
            }
        }
    }

    /// Adds a `drop` or `delay` rule; a delay also delays what is in flight on its links.
    pub fn add_rule(
        &mut self,
        from: &[NodeId],
        to: &[NodeId],
        drop_probability: f64,
        extra_latency_ms: u64,
    ) -> u64 {
        let id = self.id();
        let rule = LinkRule {
            from: from.iter().copied().collect(),
            to: to.iter().copied().collect(),
            drop_probability,
            extra_latency_ms,
        };
        if extra_latency_ms > 0 {
            self.wire.delay(|c| {
                if rule.covers(c.from, c.to) {
                    extra_latency_ms * 1000
                } else {
                    0
                }
            });
        }
        self.rules.insert(id, rule);
        id
    }

    pub fn remove_rule(&mut self, id: u64) {
        self.rules.remove(&id);
    }

    /// Slows every link from or to `node`, what is in flight on them included.
    pub fn add_slow(&mut self, node: NodeId, extra_latency_ms: u64) -> u64 {
        let id = self.id();
        self.wire.delay(|c| {
            if c.from == node || c.to == node {
                extra_latency_ms * 1000
            } else {
                0
            }
        });
        self.slow.insert(id, (node, extra_latency_ms));
        id
    }

    pub fn remove_slow(&mut self, id: u64) {
        self.slow.remove(&id);
    }

    /// Removes every fault, the base loss included (the liveness phase). Messages in flight
    /// keep the delay they already have.
    pub fn heal_all(&mut self) {
        self.base_loss = 0.0;
        self.cut.clear();
        self.rules.clear();
        self.slow.clear();
    }

    /// Removes partitions only (a `heal` fault).
    pub fn heal_partitions(&mut self) {
        self.cut.clear();
    }

    pub fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        self.cut.contains_key(&(from, to))
    }

    /// Decides the fate of a message from `from` to `to` at send time.
    pub fn route(&mut self, from: NodeId, to: NodeId) -> Verdict {
        if self.is_cut(from, to) {
            return Verdict::Drop;
        }
        if self.base_loss > 0.0 && self.rng.gen_bool(self.base_loss) {
            return Verdict::Drop;
        }
        let mut extra = 0;
        let matching: Vec<(f64, u64)> = self
            .rules
            .values()
            .filter(|r| r.covers(from, to))
            .map(|r| (r.drop_probability, r.extra_latency_ms))
            .collect();
        for (p, latency) in matching {
            if p > 0.0 && self.rng.gen_bool(p.min(1.0)) {
                return Verdict::Drop;
            }
            extra += latency;
        }
        extra += self
            .slow
            .values()
            .filter(|(n, _)| *n == from || *n == to)
            .map(|(_, l)| *l)
            .sum::<u64>();
        Verdict::Deliver {
            extra_latency_ms: extra,
        }
    }

    /// Sends `message` on `conn` at `now_us`: its arrival time on the wire, or `None` if the
    /// fault layer dropped it.
    pub fn send(&mut self, conn: Connection, now_us: u64, message: Message) -> Option<u64> {
        let Verdict::Deliver { extra_latency_ms } = self.route(conn.from, conn.to) else {
            return None;
        };
        let (lo, hi) = self.latency_us;
        let latency_us = self.rng.gen_range(lo..=hi) + extra_latency_ms * 1000;
        Some(self.wire.send(conn, now_us, latency_us, message))
    }

    /// When the next message in flight arrives.
    pub fn next_arrival_us(&self) -> Option<u64> {
        self.wire.next_arrival_us()
    }

    /// The messages due by `now_us`, in arrival order, less those whose link is cut now.
    pub fn arrive(&mut self, now_us: u64) -> Vec<(Connection, Message)> {
        let mut arrived = Vec::new();
        while let Some((conn, message)) = self.wire.arrive(now_us) {
            if !self.is_cut(conn.from, conn.to) {
                arrived.push((conn, message));
            }
        }
        arrived
    }

    /// Drops everything in flight (the run is over).
    pub fn clear_wire(&mut self) {
        self.wire.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::{MetadataRequest, Request};
    use rand::SeedableRng;

    fn network() -> Network {
        Network::new(ChaCha8Rng::seed_from_u64(1), (1, 5), 0.0)
    }

    /// A request numbered by its correlation id.
    fn numbered(n: u64) -> Message {
        Message::Request {
            correlation_id: n,
            body: Request::Metadata(MetadataRequest { topics: vec![] }),
        }
    }

    fn number(m: &Message) -> u64 {
        match m {
            Message::Request { correlation_id, .. } | Message::Response { correlation_id, .. } => {
                *correlation_id
            }
            Message::ConnectionClosed => u64::MAX,
        }
    }

    fn conn(from: NodeId, to: NodeId) -> Connection {
        Connection {
            from,
            from_life: 1,
            to,
            to_life: 1,
        }
    }

    #[test]
    fn cuts_rules_and_slowness() {
        let mut n = network();
        let (a, b) = (NodeId::Broker(1), NodeId::Broker(2));
        n.cut(&[(a, b)]);
        n.cut(&[(a, b)]);
        assert_eq!(n.route(a, b), Verdict::Drop);
        assert_eq!(
            n.route(b, a),
            Verdict::Deliver {
                extra_latency_ms: 0
            },
            "one-way"
        );
        n.uncut(&[(a, b)]);
        assert_eq!(n.route(a, b), Verdict::Drop, "still held by the second cut");
        n.uncut(&[(a, b)]);
        let r = n.add_rule(&[a], &[b], 0.0, 30);
        let s = n.add_slow(b, 5);
        assert_eq!(
            n.route(a, b),
            Verdict::Deliver {
                extra_latency_ms: 35
            }
        );
        n.remove_rule(r);
        n.remove_slow(s);
        assert_eq!(
            n.route(a, b),
            Verdict::Deliver {
                extra_latency_ms: 0
            }
        );
        n.add_rule(&[a], &[b], 1.0, 0);
        assert_eq!(n.route(a, b), Verdict::Drop);
    }

    #[test]
    fn latency_is_drawn_in_the_scenario_range() {
        let mut n = network();
        let (a, b) = (NodeId::Broker(1), NodeId::Broker(2));
        for i in 0..200 {
            let now = i * 10_000;
            let at = n.send(conn(a, b), now, numbered(i)).expect("no fault");
            assert!((now + 1_000..=now + 5_000).contains(&at), "{at} from {now}");
            assert_eq!(n.arrive(at).len(), 1);
        }
    }

    #[test]
    fn a_delay_fault_delays_messages_already_in_flight() {
        let mut n = network();
        let (a, b, c) = (NodeId::Broker(1), NodeId::Broker(2), NodeId::Broker(3));
        let ab = n.send(conn(a, b), 0, numbered(1)).unwrap();
        let cb = n.send(conn(c, b), 0, numbered(2)).unwrap();
        n.add_rule(&[a], &[b], 0.0, 800);
        assert_eq!(n.next_arrival_us(), Some(cb), "another link is not delayed");
        assert_eq!(n.arrive(ab).len(), usize::from(cb <= ab));
        assert!(n.arrive(ab + 799_999).is_empty());
        let late = n.arrive(ab + 800_000);
        assert_eq!(late.iter().map(|(_, m)| number(m)).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn a_slow_node_delays_its_in_flight_messages_both_ways() {
        let mut n = network();
        let (a, b, c) = (NodeId::Broker(1), NodeId::Broker(2), NodeId::Broker(3));
        n.send(conn(a, b), 0, numbered(1)).unwrap();
        n.send(conn(b, c), 0, numbered(2)).unwrap();
        n.send(conn(a, c), 0, numbered(3)).unwrap();
        n.add_slow(b, 100);
        let latency_max_us = 5_000;
        let on_time: Vec<u64> = n
            .arrive(latency_max_us)
            .iter()
            .map(|(_, m)| number(m))
            .collect();
        assert_eq!(on_time, [3], "only the bystander is on time");
        assert!(n.arrive(100_000).is_empty());
        assert_eq!(n.arrive(latency_max_us + 100_000).len(), 2);
    }

    #[test]
    fn a_partition_that_begins_in_flight_loses_the_message() {
        let mut n = network();
        let (a, b) = (NodeId::Broker(1), NodeId::Broker(2));
        let at = n.send(conn(a, b), 0, numbered(1)).unwrap();
        n.cut(&[(a, b)]);
        assert!(n.arrive(at).is_empty());
        assert_eq!(n.next_arrival_us(), None);
        assert_eq!(
            n.send(conn(a, b), at, numbered(2)),
            None,
            "a cut link sends nothing"
        );
    }
}
