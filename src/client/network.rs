//! A client's side of the network, one for the producer, the reader and the group consumer: the
//! requests in flight (correlation ids, `request.timeout.ms`), the metadata cache with its one
//! refresh in flight, and the client's timer queue with the wake-up that brings the client back
//! when a backoff ends.
//!
//! Kafka's clients share this the same way: `NetworkClient` keeps the in-flight requests and
//! fails them on their timeout (`handleTimedOutRequests`) or when their connection closes
//! (`handleDisconnections`), and its `DefaultMetadataUpdater` sends at most one Metadata
//! request at a time to the least loaded node (`maybeUpdate`), no sooner than
//! `retry.backoff.ms` after the last answer. A role here only says what each of its requests
//! is for (`K`) and what to do with the answer; the metadata request and its answer never reach
//! it, except as [`Arrival::MetadataUpdated`].

use super::metadata::{ClientMetadata, Refresh};
use crate::effects::Effects;
use crate::protocol::message::{Message, Request, Response};
use crate::protocol::{Millis, NodeId};
use crate::request::InFlightRequests;
use crate::timer::TimerQueue;

/// The two timers a client's timer type must have besides its own.
pub trait ClientTimer {
    /// "Request `correlation_id` timed out."
    fn request_timeout(correlation_id: u64) -> Self;
    /// Only wakes the client (a backoff ended); see [`NetworkClient::wake`].
    fn wake() -> Self;
}

/// What a request in flight is for: the client's metadata refresh, or one of the role's.
#[derive(Debug)]
enum Pending<K> {
    Metadata,
    Role(K),
}

/// What a message from the network means to the role ([`NetworkClient::receive`]).
#[derive(Debug)]
pub enum Arrival<K> {
    /// The answer to one of the role's requests, now out of flight.
    Response(K, Response),
    /// A metadata refresh was answered; the cache is updated.
    MetadataUpdated,
    /// The peer's process died and closed the connection: these requests to it failed. The
    /// role passes each correlation id to its timeout path, in sending order.
    Closed(Vec<u64>),
    /// Nothing for the role: a response after its request timed out, or a request (clients
    /// serve none).
    Nothing,
}

/// A client's requests in flight, metadata and timers.
#[derive(Debug)]
pub struct NetworkClient<K, T> {
    /// The client's timers, its own and the request timeouts, in deadline order.
    pub timers: TimerQueue<T>,
    pub metadata: ClientMetadata,
    inflight: InFlightRequests<Pending<K>>,
    request_timeout_ms: Millis,
    pending_wake: Option<Millis>,
}

impl<K, T: ClientTimer> NetworkClient<K, T> {
    pub fn new(metadata: ClientMetadata, request_timeout_ms: Millis) -> Self {
        NetworkClient {
            timers: TimerQueue::default(),
            metadata,
            inflight: InFlightRequests::default(),
            request_timeout_ms,
            pending_wake: None,
        }
    }

    /// Sends a request of the role's, failed after `request.timeout.ms` unless answered.
    pub fn send(&mut self, now: Millis, to: NodeId, kind: K, body: Request, out: &mut Effects) {
        let timeout = self.request_timeout_ms;
        self.send_within(now, timeout, to, kind, body, out);
    }

    /// Sends a request with its own timeout (a JoinGroup waits longer than others).
    pub fn send_within(
        &mut self,
        now: Millis,
        timeout_ms: Millis,
        to: NodeId,
        kind: K,
        body: Request,
        out: &mut Effects,
    ) {
        self.send_pending(now, timeout_ms, to, Pending::Role(kind), body, out);
    }

    fn send_pending(
        &mut self,
        now: Millis,
        timeout_ms: Millis,
        to: NodeId,
        pending: Pending<K>,
        body: Request,
        out: &mut Effects,
    ) {
        self.inflight.send(
            &mut self.timers,
            now + timeout_ms,
            T::request_timeout,
            to,
            pending,
            body,
            out,
        );
    }

    /// Takes a message from `from` off the network: a response is matched to its request (its
    /// timeout cancelled), a Metadata answer goes into the cache, a closed connection fails the
    /// requests in flight to `from`.
    pub fn receive(&mut self, now: Millis, from: NodeId, message: Message) -> Arrival<K> {
        let (correlation_id, body) = match message {
            Message::Response {
                correlation_id,
                body,
            } => (correlation_id, body),
            Message::ConnectionClosed => {
                return Arrival::Closed(self.inflight.disconnected(&mut self.timers, from))
            }
            Message::Request { .. } => return Arrival::Nothing,
        };
        match self.inflight.complete(&mut self.timers, correlation_id) {
            None => Arrival::Nothing,
            Some(Pending::Role(kind)) => Arrival::Response(kind, body),
            Some(Pending::Metadata) => match body {
                Response::Metadata(resp) => {
                    self.metadata.update(now, &resp);
                    Arrival::MetadataUpdated
                }
                // Never sent: a broker answers Metadata with Metadata. Were it to happen, the
                // refresh is over and may go again.
                _ => {
                    self.metadata.in_flight = false;
                    Arrival::Nothing
                }
            },
        }
    }

    /// The request whose timeout fired (or whose connection closed), out of flight: the role's
    /// kind, or `None` if it was answered already or was the metadata refresh (which may go
    /// again at once).
    pub fn expire(&mut self, correlation_id: u64) -> Option<K> {
        match self.inflight.expire(correlation_id)? {
            Pending::Role(kind) => Some(kind),
            Pending::Metadata => {
                self.metadata.in_flight = false;
                None
            }
        }
    }

    /// Asks for fresh metadata about `topics`: sent now unless one is in flight, or, within
    /// `backoff_ms` of the last answer, a wake-up when the backoff ends.
    pub fn refresh_metadata(
        &mut self,
        now: Millis,
        backoff_ms: Millis,
        topics: Vec<String>,
        out: &mut Effects,
    ) {
        match self.metadata.refresh(now, backoff_ms, topics) {
            Refresh::Send(broker, req) => {
                let timeout = self.request_timeout_ms;
                let to = NodeId::Broker(broker);
                let body = Request::Metadata(req);
                self.send_pending(now, timeout, to, Pending::Metadata, body, out);
            }
            Refresh::RetryAt(at) => self.wake(at),
            Refresh::InFlight => {}
        }
    }

    /// Makes sure the client is woken at `at`, without piling up wake-ups: one is kept, the
    /// earliest.
    pub fn wake(&mut self, at: Millis) {
        if self.pending_wake.is_none_or(|w| w > at) {
            self.pending_wake = Some(at);
            self.timers.schedule(at, T::wake());
        }
    }

    /// The wake-up timer fired.
    pub fn woke(&mut self) {
        self.pending_wake = None;
    }

    /// What each of the role's requests in flight is for, in sending order.
    pub fn kinds(&self) -> impl Iterator<Item = &K> {
        self.inflight.kinds().filter_map(|p| match p {
            Pending::Role(kind) => Some(kind),
            Pending::Metadata => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::MetadataRequest;
    use crate::protocol::message::{MetadataResponse, PartitionMetadata};
    use crate::protocol::{ErrorCode, TopicPartition};

    fn some_request() -> Request {
        Request::Metadata(MetadataRequest { topics: vec![] })
    }

    #[derive(Debug, PartialEq)]
    enum Timer {
        Timeout(u64),
        Wake,
    }

    impl ClientTimer for Timer {
        fn request_timeout(correlation_id: u64) -> Self {
            Timer::Timeout(correlation_id)
        }
        fn wake() -> Self {
            Timer::Wake
        }
    }

    fn client() -> NetworkClient<&'static str, Timer> {
        NetworkClient::new(ClientMetadata::new(3, 0), 1000)
    }

    fn metadata_answer(leader: u32) -> Response {
        Response::Metadata(MetadataResponse {
            brokers: vec![1, 2, 3],
            partitions: vec![PartitionMetadata {
                tp: TopicPartition::new("t", 0),
                error: ErrorCode::None,
                leader: Some(leader),
                leader_epoch: 4,
                replicas: vec![1, 2, 3],
                isr: vec![1, 2, 3],
            }],
        })
    }

    fn answer(out: &Effects, i: usize, body: Response) -> Message {
        let Message::Request { correlation_id, .. } = &out.sends[i].1 else {
            panic!("not a request");
        };
        Message::Response {
            correlation_id: *correlation_id,
            body,
        }
    }

    #[test]
    fn one_metadata_refresh_at_a_time_and_none_within_the_backoff() {
        let mut net = client();
        let mut out = Effects::default();
        net.refresh_metadata(0, 100, vec!["t".into()], &mut out);
        net.refresh_metadata(1, 100, vec!["t".into()], &mut out);
        assert_eq!(out.sends.len(), 1, "the second waits for the first");
        assert_eq!(net.kinds().count(), 0, "the refresh is not the role's");

        let reply = answer(&out, 0, metadata_answer(2));
        let from = out.sends[0].0;
        assert!(matches!(
            net.receive(10, from, reply),
            Arrival::MetadataUpdated
        ));
        let tp = TopicPartition::new("t", 0);
        assert_eq!(net.metadata.leader(&tp), Some((2, 4)));

        // Within the backoff: no request, a wake-up when it ends (one, however often asked).
        net.refresh_metadata(50, 100, vec!["t".into()], &mut out);
        net.refresh_metadata(60, 100, vec!["t".into()], &mut out);
        assert_eq!(out.sends.len(), 1);
        assert_eq!(net.timers.pop_due(110), Some(Timer::Wake));
        assert_eq!(net.timers.pop_due(110), None);
        net.woke();
        net.refresh_metadata(110, 100, vec!["t".into()], &mut out);
        assert_eq!(out.sends.len(), 2);
    }

    #[test]
    fn a_timed_out_refresh_may_go_again_and_the_role_hears_only_of_its_own_requests() {
        let mut net = client();
        let mut out = Effects::default();
        net.refresh_metadata(0, 100, vec!["t".into()], &mut out);
        net.send(0, NodeId::Broker(1), "fetch", some_request(), &mut out);
        assert_eq!(net.kinds().copied().collect::<Vec<_>>(), ["fetch"]);

        // The refresh times out first (same deadline, sent first): not the role's.
        assert_eq!(net.timers.pop_due(1000), Some(Timer::Timeout(0)));
        assert_eq!(net.expire(0), None);
        assert!(!net.metadata.in_flight, "a new refresh may go");
        assert_eq!(net.timers.pop_due(1000), Some(Timer::Timeout(1)));
        assert_eq!(net.expire(1), Some("fetch"));

        // A late answer to the fetch is nothing now.
        let late = answer(&out, 1, metadata_answer(1));
        assert!(matches!(
            net.receive(1001, NodeId::Broker(1), late),
            Arrival::Nothing
        ));
    }

    #[test]
    fn a_closed_connection_fails_the_requests_to_that_node_and_frees_the_refresh() {
        let mut net = client();
        let mut out = Effects::default();
        net.refresh_metadata(0, 100, vec!["t".into()], &mut out);
        let refresh_to = out.sends[0].0;
        let other = if refresh_to == NodeId::Broker(1) {
            2
        } else {
            1
        };
        net.send(0, refresh_to, "a", some_request(), &mut out);
        net.send(0, NodeId::Broker(other), "b", some_request(), &mut out);
        let Arrival::Closed(failed) = net.receive(5, refresh_to, Message::ConnectionClosed) else {
            panic!("a closed connection fails its requests");
        };
        assert_eq!(failed, [0, 1]);
        let kinds: Vec<_> = failed.into_iter().filter_map(|c| net.expire(c)).collect();
        assert_eq!(kinds, ["a"], "the refresh is the client's own");
        assert!(!net.metadata.in_flight);
        assert_eq!(net.kinds().copied().collect::<Vec<_>>(), ["b"]);
        assert_eq!(
            net.timers.next_deadline(),
            Some(1000),
            "b's timeout is left"
        );
    }
}
