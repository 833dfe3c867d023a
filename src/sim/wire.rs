//! The wire: every message between its send and its arrival, held as TCP holds bytes already
//! written to a socket. Kafka talks over TCP, so the wire keeps TCP's two promises:
//!
//! - **In order per connection.** A connection is a directed pair of processes (the sender's and
//!   the receiver's [`Connection`]). Each message draws its own latency, but arrives no earlier
//!   than the message sent before it on the same connection: arrival = max(send time + latency,
//!   the previous arrival on that connection). Different connections are independent, so a
//!   message on one may overtake an older message on another.
//! - **Sent is sent.** Once on the wire a message no longer depends on its sender: it arrives
//!   even if the sender crashes, loses power or is paused meanwhile, as packets already on the
//!   network do. (Whether the receiving *process* still exists is the node shell's question, see
//!   `node::admit`.)
//!
//! A slower link (a `delay` or `slow` fault) also slows what is already in flight on it:
//! [`Wire::delay`] moves every matching message, and the connection's last arrival, later by
//! the same amount, which keeps each connection's order.
//!
//! Pure data: no clock, no madsim; the simulator's wire task asks [`Wire::arrive`] for what is
//! due and sleeps until [`Wire::next_arrival_us`].

use crate::protocol::NodeId;
use std::collections::BTreeMap;

/// One direction of one TCP connection: from a process of `from` to a process of `to` (the
/// numbers are `World::life`). A restart on either side makes a new connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Connection {
    pub from: NodeId,
    pub from_life: u64,
    pub to: NodeId,
    pub to_life: u64,
}

/// Messages in flight, keyed by (arrival time, send order): equal arrival times keep send order.
#[derive(Debug)]
pub struct Wire<P> {
    in_flight: BTreeMap<(u64, u64), (Connection, P)>,
    /// The arrival time of the newest message in flight on each connection.
    last_arrival_us: BTreeMap<Connection, u64>,
    next_seq: u64,
    /// Arrival = send time + latency, ignoring the connection's order (the UDP-like network
    /// kafkasim had before); only for the test that shows FIFO is what the order check needs.
    #[cfg(test)]
    unordered: bool,
}

impl<P> Default for Wire<P> {
    fn default() -> Self {
        Wire {
            in_flight: BTreeMap::new(),
            last_arrival_us: BTreeMap::new(),
            next_seq: 0,
            #[cfg(test)]
            unordered: false,
        }
    }
}

impl<P> Wire<P> {
    /// Puts a message on `conn` at `now_us` with its drawn `latency_us`; returns its arrival
    /// time.
    pub fn send(&mut self, conn: Connection, now_us: u64, latency_us: u64, payload: P) -> u64 {
        let drawn = now_us + latency_us;
        let previous = self.last_arrival_us.get(&conn).copied().unwrap_or(0);
        let at_us = if self.ignores_order() {
            drawn
        } else {
            drawn.max(previous)
        };
        self.last_arrival_us.insert(conn, at_us.max(previous));
        self.next_seq += 1;
        self.in_flight
            .insert((at_us, self.next_seq), (conn, payload));
        at_us
    }

    #[cfg(test)]
    fn ignores_order(&self) -> bool {
        self.unordered
    }

    #[cfg(not(test))]
    fn ignores_order(&self) -> bool {
        false
    }

    /// When the next message arrives.
    pub fn next_arrival_us(&self) -> Option<u64> {
        self.in_flight.keys().next().map(|(at, _)| *at)
    }

    /// Takes the next message due by `now_us`, if any.
    pub fn arrive(&mut self, now_us: u64) -> Option<(Connection, P)> {
        let entry = self.in_flight.first_entry()?;
        let (at_us, _) = *entry.key();
        if at_us > now_us {
            return None;
        }
        let (conn, payload) = entry.remove();
        if self.last_arrival_us.get(&conn) == Some(&at_us) {
            // Its last message arrived: the connection's order constrains nothing any more.
            self.last_arrival_us.remove(&conn);
        }
        Some((conn, payload))
    }

    /// Delays every message in flight by `extra_us(its connection)`, as a link that turns slow
    /// delays the bytes already sent on it. The extra depends on the connection only, so each
    /// connection keeps its order.
    pub fn delay(&mut self, extra_us: impl Fn(&Connection) -> u64) {
        let in_flight = std::mem::take(&mut self.in_flight);
        for ((at_us, seq), (conn, payload)) in in_flight {
            self.in_flight
                .insert((at_us + extra_us(&conn), seq), (conn, payload));
        }
        for (conn, last) in self.last_arrival_us.iter_mut() {
            *last += extra_us(conn);
        }
    }

    /// How many messages are in flight.
    pub fn len(&self) -> usize {
        self.in_flight.len()
    }

    pub fn is_empty(&self) -> bool {
        self.in_flight.is_empty()
    }

    /// Drops everything in flight (the run is over).
    pub fn clear(&mut self) {
        self.in_flight.clear();
        self.last_arrival_us.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn conn(from: u32, to: u32) -> Connection {
        Connection {
            from: NodeId::Broker(from),
            from_life: 1,
            to: NodeId::Broker(to),
            to_life: 1,
        }
    }

    /// Sends `n` numbered messages alternately on `a` and `b`, one every 100 µs with a latency
    /// drawn in 1..=5 ms, and returns them in arrival order.
    fn run(
        mut wire: Wire<(Connection, u32)>,
        a: Connection,
        b: Connection,
        n: u32,
    ) -> Vec<(Connection, u32)> {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut arrived = Vec::new();
        for i in 0..n {
            let now = u64::from(i) * 100;
            while let Some((_, m)) = wire.arrive(now) {
                arrived.push(m);
            }
            let c = if i % 2 == 0 { a } else { b };
            wire.send(c, now, rng.gen_range(1_000..=5_000), (c, i));
        }
        while let Some((_, m)) = wire.arrive(u64::MAX) {
            arrived.push(m);
        }
        arrived
    }

    /// Pairs of messages on the same connection that arrived in the other order than sent.
    fn overtaken(arrived: &[(Connection, u32)], same_connection: bool) -> usize {
        let mut count = 0;
        for (i, (ci, mi)) in arrived.iter().enumerate() {
            for (cj, mj) in &arrived[i + 1..] {
                if (ci == cj) == same_connection && mj < mi {
                    count += 1;
                }
            }
        }
        count
    }

    #[test]
    fn one_connection_delivers_in_send_order_and_two_connections_interleave() {
        let arrived = run(Wire::default(), conn(1, 2), conn(3, 2), 2_000);
        assert_eq!(arrived.len(), 2_000);
        assert_eq!(overtaken(&arrived, true), 0, "FIFO per connection");
        assert!(
            overtaken(&arrived, false) > 100,
            "latency still varies: connections overtake each other"
        );
    }

    #[test]
    fn without_fifo_the_same_latencies_reorder_one_connection() {
        let broken = Wire {
            unordered: true,
            ..Wire::default()
        };
        let arrived = run(broken, conn(1, 2), conn(3, 2), 2_000);
        assert!(overtaken(&arrived, true) > 100, "the order check can fire");
    }

    #[test]
    fn a_reverse_direction_and_a_new_process_are_other_connections() {
        let mut w = Wire::default();
        let ab = conn(1, 2);
        let ba = conn(2, 1);
        let ab_restarted = Connection { to_life: 2, ..ab };
        w.send(ab, 0, 5_000, "slow");
        w.send(ba, 0, 1_000, "reverse");
        w.send(ab_restarted, 0, 2_000, "new process");
        w.send(ab, 0, 1_000, "behind slow");
        let order: Vec<&str> = std::iter::from_fn(|| w.arrive(u64::MAX).map(|(_, p)| p)).collect();
        assert_eq!(order, ["reverse", "new process", "slow", "behind slow"]);
    }

    #[test]
    fn delay_moves_what_is_in_flight_and_keeps_the_order() {
        let mut w = Wire::default();
        let (slow, other) = (conn(1, 2), conn(3, 2));
        w.send(slow, 0, 1_000, 1);
        w.send(other, 0, 2_000, 2);
        w.delay(|c| if *c == slow { 10_000 } else { 0 });
        assert_eq!(w.next_arrival_us(), Some(2_000));
        // A message sent after the slowdown ends still waits for the delayed one.
        w.send(slow, 3_000, 1_000, 3);
        assert_eq!(w.arrive(2_000), Some((other, 2)));
        assert_eq!(w.arrive(10_999), None);
        assert_eq!(w.arrive(11_000), Some((slow, 1)));
        assert_eq!(w.arrive(11_000), Some((slow, 3)));
        assert!(w.is_empty());
        assert!(
            w.last_arrival_us.is_empty(),
            "arrived connections are forgotten"
        );
    }
}
