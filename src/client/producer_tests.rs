//! The producer core driven by hand: `(now, input) -> effects`, no simulator. One partition of
//! topic `t`, three brokers; the test plays the brokers.

use super::*;
use crate::client::testing::{impl_core, Harness};
use rand::SeedableRng;

impl_core!(Producer);

/// A producer of one record (at 0 ms) with the default config plus `extra` (TOML lines).
fn producer(extra: &str) -> Harness<Producer> {
    let cfg: ProducerConfig = toml::from_str(&format!(
        "topic = \"t\"\nrate_per_s = 1000.0\nstop_ms = 1\n{extra}"
    ))
    .unwrap();
    Harness::new(Producer::new(
        1,
        cfg,
        1,
        3,
        60_000,
        ChaCha8Rng::seed_from_u64(0),
    ))
}

impl Harness<Producer> {
    /// Takes the pending Produce request: where it went and its correlation id.
    fn produce_request(&mut self) -> (u64, NodeId) {
        let (corr, to, _) = self
            .request(|r| matches!(r, Request::Produce(_)))
            .expect("a Produce request");
        (corr, to)
    }

    fn answer_produce(&mut self, corr: u64, error: ErrorCode, base_offset: Option<u64>) {
        let tp = TopicPartition::new("t", 0);
        self.respond(
            corr,
            Response::Produce(ProduceResponse {
                tp,
                error,
                base_offset,
            }),
        );
    }

    fn outcomes(&self) -> Vec<&EventKind> {
        self.events
            .iter()
            .filter(|e| matches!(e, EventKind::Acked { .. } | EventKind::SendFailed { .. }))
            .collect()
    }
}

#[test]
fn a_batch_lingers_then_goes_to_the_leader_the_metadata_names() {
    let mut h = producer("");
    // The first record asks for the partition's leader at once (Kafka's `waitOnMetadata`) ...
    h.advance(1);
    h.answer_metadata(2, 0);
    // ... and its batch waits `linger.ms` (5 ms) before it goes.
    h.advance(4);
    assert!(h.pending.is_empty(), "lingering: {:?}", h.pending);
    h.advance(5);
    let (corr, to) = h.produce_request();
    assert_eq!(to, NodeId::Broker(2));
    assert!(matches!(h.events[0], EventKind::Sent { .. }));
    h.answer_produce(corr, ErrorCode::None, Some(7));
    match h.outcomes()[..] {
        [EventKind::Acked {
            base_offset,
            values,
            ..
        }] => {
            assert_eq!(*base_offset, 7);
            assert_eq!(values.len(), 1);
        }
        ref other => panic!("{other:?}"),
    }
    assert!(h.core.is_idle());
}

#[test]
fn not_leader_refreshes_the_metadata_and_retries_at_the_new_leader_after_the_backoff() {
    let mut h = producer("");
    h.advance(5);
    h.answer_metadata(2, 0);
    let (corr, _) = h.produce_request();
    h.answer_produce(corr, ErrorCode::NotLeaderOrFollower, None);
    assert!(h.outcomes().is_empty(), "retried, not failed");
    // The leader is forgotten: neither the refresh nor the retry goes within `retry.backoff.ms`
    // of the last answer (both at 5 ms); both go the moment it ends.
    h.advance(104);
    assert!(h
        .request(|r| matches!(r, Request::Produce(_) | Request::Metadata(_)))
        .is_none());
    h.advance(105);
    h.answer_metadata(3, 1);
    let (corr, to) = h.produce_request();
    assert_eq!(to, NodeId::Broker(3));
    h.answer_produce(corr, ErrorCode::None, Some(0));
    assert!(matches!(h.outcomes()[..], [EventKind::Acked { .. }]));
}

#[test]
fn timeouts_retry_until_the_delivery_timeout_then_fail_as_unknown() {
    let mut h = producer("request_timeout_ms = 1000\ndelivery_timeout_ms = 1500");
    h.advance(5);
    h.answer_metadata(2, 0);
    let (first, _) = h.produce_request();
    // First timeout at 1005: 1005 + 100 ms backoff is before the delivery deadline (1505).
    h.advance(1005);
    assert!(h.outcomes().is_empty());
    h.advance(1105);
    h.answer_metadata(2, 0);
    let _unanswered = h.produce_request();
    // Second timeout: no time left for another attempt.
    h.advance(2200);
    match h.outcomes()[..] {
        [EventKind::SendFailed {
            error, definite, ..
        }] => {
            assert_eq!(*error, ErrorCode::RequestTimedOut);
            assert!(!definite, "a timed-out attempt may have been appended");
        }
        ref other => panic!("{other:?}"),
    }
    // A late answer to a timed-out request changes nothing.
    h.answer_produce(first, ErrorCode::None, Some(0));
    assert_eq!(h.outcomes().len(), 1);
}

#[test]
fn an_error_that_proves_no_append_fails_definitely_when_retries_are_spent() {
    let mut h = producer("retries = 0");
    h.advance(5);
    h.answer_metadata(2, 0);
    let (corr, _) = h.produce_request();
    h.answer_produce(corr, ErrorCode::NotEnoughReplicas, None);
    match h.outcomes()[..] {
        [EventKind::SendFailed { definite, .. }] => assert!(*definite),
        ref other => panic!("{other:?}"),
    }
}

#[test]
fn an_error_after_append_fails_as_unknown() {
    let mut h = producer("retries = 0");
    h.advance(5);
    h.answer_metadata(2, 0);
    let (corr, _) = h.produce_request();
    // The leader appended, then the ISR shrank below min.insync.replicas.
    h.answer_produce(corr, ErrorCode::NotEnoughReplicasAfterAppend, None);
    match h.outcomes()[..] {
        [EventKind::SendFailed { definite, .. }] => assert!(!*definite),
        ref other => panic!("{other:?}"),
    }
}
