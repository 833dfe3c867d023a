//! The requests a node has sent and not yet heard back about: correlation ids, the request
//! timeout, and taking each request back exactly once, by its response or by its timeout.
//!
//! Kafka keeps this in `NetworkClient` and its `InFlightRequests`: every request gets the next
//! correlation id of the connection's client, `request.timeout.ms` after sending it is failed
//! (`NetworkClient.handleTimedOutRequests`), and a response is matched back by that id
//! (`NetworkClient.handleCompletedReceives`). The broker keeps one [`InFlightRequests`] for its
//! requests to the controller and to leaders; the clients keep theirs inside
//! [`crate::client::network::NetworkClient`]. `K` says what each request was for.
//!
//! The request timeout is one of the role's own timers: the role's timer queue is passed in, so
//! that timeouts fire in deadline order among the role's other timers, and the role names the
//! timer payload that means "request `correlation_id` timed out".

use crate::effects::Effects;
use crate::protocol::message::{Message, Request};
use crate::protocol::{Millis, NodeId};
use crate::timer::{TimerId, TimerQueue};
use std::collections::BTreeMap;

/// Requests in flight, each remembered as a `K` until its response or its timeout.
#[derive(Debug)]
pub struct InFlightRequests<K> {
    next_correlation_id: u64,
    requests: BTreeMap<u64, (K, TimerId, NodeId)>,
}

impl<K> Default for InFlightRequests<K> {
    fn default() -> Self {
        InFlightRequests {
            next_correlation_id: 0,
            requests: BTreeMap::new(),
        }
    }
}

impl<K> InFlightRequests<K> {
    /// Sends `body` to `to` under the next correlation id and schedules its timeout at `deadline`
    /// as the timer `timed_out(correlation_id)`. Returns the correlation id.
    #[allow(clippy::too_many_arguments)]
    pub fn send<T>(
        &mut self,
        timers: &mut TimerQueue<T>,
        deadline: Millis,
        timed_out: fn(u64) -> T,
        to: NodeId,
        kind: K,
        body: Request,
        out: &mut Effects,
    ) -> u64 {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id += 1;
        let timer = timers.schedule(deadline, timed_out(correlation_id));
        self.requests.insert(correlation_id, (kind, timer, to));
        out.send(
            to,
            Message::Request {
                correlation_id,
                body,
            },
        );
        correlation_id
    }

    /// The request a response answers, taken out of flight with its timeout cancelled; `None`
    /// for a response to a request already timed out (or never sent by this incarnation).
    pub fn complete<T>(&mut self, timers: &mut TimerQueue<T>, correlation_id: u64) -> Option<K> {
        let (kind, timer, _) = self.requests.remove(&correlation_id)?;
        timers.cancel(timer);
        Some(kind)
    }

    /// The request whose timeout timer just fired, taken out of flight; `None` if its response
    /// came first.
    pub fn expire(&mut self, correlation_id: u64) -> Option<K> {
        self.requests.remove(&correlation_id).map(|(kind, ..)| kind)
    }

    /// The connection to `node` closed: the correlation ids of the requests in flight to it, in
    /// sending order, with their timeouts cancelled. The role passes each to its timeout path
    /// (which takes it out of flight with [`InFlightRequests::expire`]), as Kafka's
    /// `NetworkClient` fails a timed-out request by closing its connection and a closed
    /// connection's requests alike.
    pub fn disconnected<T>(&mut self, timers: &mut TimerQueue<T>, node: NodeId) -> Vec<u64> {
        let mut failed = Vec::new();
        for (corr, (_, timer, to)) in &self.requests {
            if *to == node {
                timers.cancel(*timer);
                failed.push(*corr);
            }
        }
        failed
    }

    /// What each request in flight is for, in correlation-id (sending) order.
    pub fn kinds(&self) -> impl Iterator<Item = &K> {
        self.requests.values().map(|(kind, ..)| kind)
    }

    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::MetadataRequest;

    #[derive(Debug, PartialEq)]
    enum Timer {
        Timeout(u64),
    }

    fn metadata() -> Request {
        Request::Metadata(MetadataRequest { topics: vec![] })
    }

    #[test]
    fn each_request_comes_back_once_by_its_response_or_its_timeout() {
        let mut timers = TimerQueue::default();
        let mut inflight = InFlightRequests::default();
        let mut out = Effects::default();
        let a = inflight.send(
            &mut timers,
            100,
            Timer::Timeout,
            NodeId::Broker(1),
            "a",
            metadata(),
            &mut out,
        );
        let b = inflight.send(
            &mut timers,
            50,
            Timer::Timeout,
            NodeId::Broker(2),
            "b",
            metadata(),
            &mut out,
        );
        assert_eq!((a, b), (0, 1));
        assert_eq!(out.sends.len(), 2);
        assert_eq!(inflight.kinds().copied().collect::<Vec<_>>(), ["a", "b"]);

        // b's response cancels its timeout; a second response to b is not matched again.
        assert_eq!(inflight.complete(&mut timers, b), Some("b"));
        assert_eq!(inflight.complete(&mut timers, b), None);
        assert_eq!(timers.next_deadline(), Some(100));

        // a times out; its late response then finds nothing.
        assert_eq!(timers.pop_due(100), Some(Timer::Timeout(a)));
        assert_eq!(inflight.expire(a), Some("a"));
        assert_eq!(inflight.complete(&mut timers, a), None);
        assert!(inflight.is_empty());
    }

    #[test]
    fn a_closed_connection_names_its_requests_and_cancels_their_timeouts() {
        let mut timers = TimerQueue::default();
        let mut inflight = InFlightRequests::default();
        let mut out = Effects::default();
        let mut send = |to: u32, deadline| {
            let b = NodeId::Broker(to);
            inflight.send(
                &mut timers,
                deadline,
                Timer::Timeout,
                b,
                to,
                metadata(),
                &mut out,
            )
        };
        let (a, b, c) = (send(1, 100), send(2, 50), send(1, 70));
        assert_eq!(
            inflight.disconnected(&mut timers, NodeId::Broker(1)),
            [a, c]
        );
        assert_eq!(timers.next_deadline(), Some(50), "only b's timeout is left");
        assert_eq!(inflight.expire(a), Some(1));
        assert_eq!(inflight.expire(c), Some(1));
        assert_eq!(inflight.complete(&mut timers, b), Some(2));
        assert!(inflight
            .disconnected(&mut timers, NodeId::Broker(3))
            .is_empty());
    }
}
