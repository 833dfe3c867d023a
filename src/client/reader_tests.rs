//! The assign-mode reader driven by hand: `(now, input) -> effects`, no simulator. It reads
//! partition 0 of topic `t` in a cluster of three brokers; the test plays the brokers.

use super::*;
use crate::client::testing::{impl_core, Harness};
use crate::protocol::{LogEntry, Payload, ProducedValue};

impl_core!(Reader);

/// A reader of `t-0` with the default config plus `extra` (TOML lines).
fn reader(extra: &str) -> Harness<Reader> {
    let cfg: ReaderConfig = toml::from_str(&format!("topic = \"t\"\n{extra}")).unwrap();
    Harness::new(Reader::new(1, cfg, vec![0], 3))
}

impl Harness<Reader> {
    /// Answers the pending ListOffsets request with `offset`; returns what it asked.
    fn answer_list_offsets(&mut self, offset: u64) -> (NodeId, ListOffsetsRequest) {
        let (corr, to, req) = self
            .request(|r| matches!(r, Request::ListOffsets(_)))
            .expect("a ListOffsets request");
        let Request::ListOffsets(req) = req else {
            unreachable!()
        };
        self.respond(
            corr,
            Response::ListOffsets(ListOffsetsResponse {
                tp: req.tp.clone(),
                error: ErrorCode::None,
                offset,
                leader_epoch: req.current_leader_epoch,
            }),
        );
        (to, req)
    }

    /// Takes the pending Fetch request: its correlation id, where it went, and its one partition.
    fn fetch_request(&mut self) -> (u64, NodeId, FetchPartition) {
        let (corr, to, req) = self
            .request(|r| matches!(r, Request::Fetch(_)))
            .expect("a Fetch request");
        let Request::Fetch(mut req) = req else {
            unreachable!()
        };
        (corr, to, req.partitions.remove(0))
    }

    /// Answers a Fetch of `t-0`: `error`, or `records` records from `base_offset`.
    fn answer_fetch(&mut self, corr: u64, error: ErrorCode, base_offset: u64, records: u64) {
        let entries = (0..records)
            .map(|i| LogEntry {
                epoch: 0,
                append_time_ms: 0,
                payload: Payload::Data {
                    value: ProducedValue {
                        producer: 1,
                        seq: base_offset + i,
                    },
                    key: None,
                },
            })
            .collect();
        self.respond(
            corr,
            Response::Fetch(FetchResponse {
                partitions: vec![FetchPartitionResponse {
                    tp: TopicPartition::new("t", 0),
                    error,
                    high_watermark: base_offset + records,
                    log_start_offset: 0,
                    leader_epoch: 0,
                    base_offset,
                    entries,
                }],
            }),
        );
    }
}

#[test]
fn a_new_partition_starts_where_auto_offset_reset_says_then_fetches_from_there() {
    let mut h = reader("");
    h.advance(0);
    h.answer_metadata(2, 3);
    let (to, req) = h.answer_list_offsets(5);
    assert_eq!(to, NodeId::Broker(2));
    assert_eq!(req.spec, OffsetSpec::Earliest);
    assert_eq!(
        req.current_leader_epoch, 3,
        "KIP-320: the epoch the reader knows"
    );
    assert!(matches!(
        h.events[..],
        [EventKind::PositionReset { offset: 5, .. }]
    ));

    let (corr, to, part) = h.fetch_request();
    assert_eq!(
        (to, part.fetch_offset, part.current_leader_epoch),
        (NodeId::Broker(2), 5, 3)
    );
    h.answer_fetch(corr, ErrorCode::None, 5, 2);
    assert!(matches!(
        h.events.last(),
        Some(EventKind::Polled { base_offset: 5, values, .. }) if values.len() == 2
    ));
    let (_, _, part) = h.fetch_request();
    assert_eq!(part.fetch_offset, 7);
}

#[test]
fn a_fenced_epoch_backs_off_refreshes_metadata_and_fetches_the_new_leader_at_the_same_offset() {
    let mut h = reader("");
    h.advance(0);
    h.answer_metadata(2, 3);
    h.answer_list_offsets(0);
    let (corr, _, _) = h.fetch_request();
    h.answer_fetch(corr, ErrorCode::FencedLeaderEpoch, 0, 0);
    // Neither the fetch nor the metadata refresh goes during `retry.backoff.ms`; both go the
    // moment it ends.
    h.advance(99);
    assert!(h
        .request(|r| matches!(r, Request::Fetch(_) | Request::Metadata(_)))
        .is_none());
    h.advance(100);
    h.answer_metadata(3, 4);
    let (_, to, part) = h.fetch_request();
    assert_eq!(
        (to, part.fetch_offset, part.current_leader_epoch),
        (NodeId::Broker(3), 0, 4)
    );
}

#[test]
fn out_of_range_resets_by_the_policy_and_none_stops_reading() {
    let mut latest = reader("auto_offset_reset = \"latest\"");
    latest.advance(0);
    latest.answer_metadata(2, 0);
    assert_eq!(latest.answer_list_offsets(10).1.spec, OffsetSpec::Latest);
    let (corr, _, _) = latest.fetch_request();
    latest.answer_fetch(corr, ErrorCode::OffsetOutOfRange, 10, 0);
    assert_eq!(latest.answer_list_offsets(4).1.spec, OffsetSpec::Latest);
    assert_eq!(latest.core.positions()[&0], Position::At(4));

    // `none` with no position to start from: Kafka's consumer throws NoOffsetForPartition.
    let mut none = reader("auto_offset_reset = \"none\"");
    none.advance(0);
    none.answer_metadata(2, 0);
    assert_eq!(none.core.positions()[&0], Position::Failed);
    none.advance(10_000);
    assert!(
        none.request(|r| !matches!(r, Request::Metadata(_)))
            .is_none(),
        "a failed partition is not read: {:?}",
        none.pending
    );
}

#[test]
fn a_timed_out_fetch_is_sent_again_from_the_same_offset() {
    let mut h = reader("request_timeout_ms = 1000");
    h.advance(0);
    h.answer_metadata(2, 0);
    h.answer_list_offsets(3);
    let (_unanswered, _, _) = h.fetch_request();
    h.advance(1000);
    // Timed out: back off, refresh the metadata, fetch again from offset 3.
    h.advance(1100);
    h.answer_metadata(2, 0);
    let (_, _, part) = h.fetch_request();
    assert_eq!(part.fetch_offset, 3);
}
