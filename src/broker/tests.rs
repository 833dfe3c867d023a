//! The broker core driven by hand, with mock time: one leader (b1) of `t-0` on replicas
//! [b1, b2, b3], fed metadata records, produce requests and follower fetches, and answered as the
//! controller would.
//!
//! The leader's produce and fetch paths (Kafka's `Partition.appendRecordsToLeader`,
//! `ReplicaManager.fetchMessages`): acks=all answered once the ISR holds the records, refused
//! below `min.insync.replicas`, leader epochs checked on every fetch, consumers never served
//! beyond the high watermark, lagging followers shrunk out of the ISR. And the KIP-903 rules:
//! fetches name the follower's incarnation, the leader checks it before proposing an ISR change
//! and sends it with each member, retries send what they sent, and INELIGIBLE_REPLICA puts the
//! leader back on its committed ISR.

use super::*;
use crate::protocol::{ErrorCode, Payload, ProducedValue};

const FETCH_WAIT_MS: u64 = 500;

fn tp() -> TopicPartition {
    TopicPartition::new("t", 0)
}

fn config(switches: ProtocolSwitches) -> Arc<BrokerConfig> {
    let topic: TopicConfig = toml::from_str(
        "name = \"t\"\npartitions = 1\nreplication_factor = 3\nmin_insync_replicas = 2",
    )
    .expect("topic");
    Arc::new(BrokerConfig {
        cluster: toml::from_str("brokers = 3").expect("cluster"),
        topics: BTreeMap::from([("t".to_string(), topic)]),
        switches,
    })
}

/// The leader and the next metadata offset the controller would push.
struct Harness {
    b1: Broker,
    next_offset: u64,
    next_seq: u64,
}

impl Harness {
    /// b1 leads `t-0` in leader epoch 0 with ISR [b1, b2]; every broker is in incarnation 0.
    fn new(switches: ProtocolSwitches) -> Self {
        let mut out = Effects::default();
        let b1 = Broker::recover(1, config(switches), Broker::fresh_disk([tp()]), 0, &mut out);
        let mut h = Harness {
            b1,
            next_offset: 0,
            next_seq: 0,
        };
        for broker in 1..=3 {
            h.push(
                0,
                MetadataRecord::RegisterBroker {
                    broker,
                    incarnation: 0,
                },
            );
        }
        h.push(0, MetadataRecord::Partition(partition(vec![1, 2], 1)));
        h
    }

    fn push(&mut self, now: Millis, record: MetadataRecord) -> Effects {
        let records = vec![(self.next_offset, record)];
        self.next_offset += 1;
        let body = Request::MetadataPush(MetadataPush { records });
        self.request(now, NodeId::Controller, body)
    }

    fn request(&mut self, now: Millis, from: NodeId, body: Request) -> Effects {
        let mut out = Effects::default();
        let message = Message::Request {
            correlation_id: 0,
            body,
        };
        self.b1.handle(now, from, message, &mut out);
        out
    }

    /// An acks=1 produce of `n` records.
    fn produce(&mut self, now: Millis, n: u64) {
        self.produce_with(now, Acks::Leader, n);
    }

    /// A produce of `n` records with `acks`.
    fn produce_with(&mut self, now: Millis, acks: Acks, n: u64) -> Effects {
        let entries = (0..n)
            .map(|_| {
                self.next_seq += 1;
                Payload::Data {
                    value: ProducedValue {
                        producer: 1,
                        seq: self.next_seq,
                    },
                    key: None,
                }
            })
            .collect();
        let body = Request::Produce(ProduceRequest {
            tp: tp(),
            acks,
            timeout_ms: 1000,
            entries,
        });
        self.request(now, NodeId::Producer(1), body)
    }

    /// A fetch by incarnation `epoch` of follower `b` at its log end `offset`; returns the
    /// effects and the partition's error in the answer (if answered at once).
    fn fetch(&mut self, now: Millis, b: BrokerId, epoch: u64, offset: u64) -> (Effects, ErrorCode) {
        let follower = Some(ReplicaState {
            replica_id: b,
            replica_epoch: epoch,
        });
        let (out, answer) = self.fetch_as(now, NodeId::Broker(b), follower, 0, offset);
        (out, answer.map_or(ErrorCode::None, |a| a.error))
    }

    /// A fetch of `t-0` from `offset` by `from` (a follower when `replica_state` is set) that
    /// believes the leader epoch is `leader_epoch`; returns the effects and the partition's
    /// answer, when answered at once (not parked to wait for data).
    fn fetch_as(
        &mut self,
        now: Millis,
        from: NodeId,
        replica_state: Option<ReplicaState>,
        leader_epoch: i32,
        offset: u64,
    ) -> (Effects, Option<FetchPartitionResponse>) {
        let body = Request::Fetch(FetchRequest {
            replica_state,
            max_wait_ms: FETCH_WAIT_MS,
            max_records: 100,
            partitions: vec![FetchPartition {
                tp: tp(),
                fetch_offset: offset,
                current_leader_epoch: leader_epoch,
                last_fetched_epoch: 0,
            }],
        });
        let out = self.request(now, from, body);
        let answer = out.sends.iter().find_map(|(_, m)| match m {
            Message::Response {
                body: Response::Fetch(f),
                ..
            } => Some(f.partitions[0].clone()),
            _ => None,
        });
        (out, answer)
    }

    /// The controller's answer to the AlterPartition request `corr`.
    fn answer(&mut self, now: Millis, corr: u64, error: ErrorCode) {
        let body = Response::AlterPartition(AlterPartitionResponse {
            tp: tp(),
            error,
            state: None,
        });
        let message = Message::Response {
            correlation_id: corr,
            body,
        };
        self.b1
            .handle(now, NodeId::Controller, message, &mut Effects::default());
    }

    fn leo(&self) -> u64 {
        self.replica().log.log_end_offset()
    }

    fn replica(&self) -> &Replica {
        self.b1.replica(&tp()).expect("hosted")
    }

    fn committed_isr(&self) -> Vec<BrokerId> {
        self.replica().leader_state().expect("leader").isr.clone()
    }

    fn pending(&self) -> Option<Vec<BrokerState>> {
        let l = self.replica().leader_state().expect("leader");
        l.pending.as_ref().map(|p| p.new_isr_with_epochs.clone())
    }
}

fn partition(isr: Vec<BrokerId>, partition_epoch: i32) -> PartitionState {
    PartitionState {
        tp: tp(),
        replicas: vec![1, 2, 3],
        leader: Some(1),
        leader_epoch: 0,
        isr,
        partition_epoch,
        elr: Vec::new(),
        last_known_elr: Vec::new(),
    }
}

/// Every AlterPartition request in `out`, with its correlation id.
fn alter_partitions(out: &Effects) -> Vec<(u64, AlterPartitionRequest)> {
    out.sends
        .iter()
        .filter_map(|(_, m)| match m {
            Message::Request {
                correlation_id,
                body: Request::AlterPartition(r),
            } => Some((*correlation_id, r.clone())),
            _ => None,
        })
        .collect()
}

fn member(broker_id: BrokerId, broker_epoch: Option<u64>) -> BrokerState {
    BrokerState {
        broker_id,
        broker_epoch,
    }
}

/// A caught-up b3 and b2 (in the ISR) at the leader's log end.
fn caught_up(h: &mut Harness, now: Millis, b3_epoch: u64) -> Effects {
    let leo = h.leo();
    h.fetch(now, 2, 0, leo);
    h.fetch(now, 3, b3_epoch, leo).0
}

#[test]
fn kip903_expansion_names_each_members_broker_epoch() {
    let mut h = Harness::new(ProtocolSwitches::default());
    h.produce(10, 5);
    let out = caught_up(&mut h, 20, 0);
    let sent = alter_partitions(&out);
    assert_eq!(sent.len(), 1, "a caught-up b3 is proposed");
    assert_eq!(
        sent[0].1.new_isr_with_epochs,
        vec![member(1, Some(0)), member(2, Some(0)), member(3, Some(0))]
    );
}

#[test]
fn kip903_ineligible_replica_puts_the_leader_back_on_its_committed_isr() {
    let mut h = Harness::new(ProtocolSwitches::default());
    h.produce(10, 5);
    let out = caught_up(&mut h, 20, 0);
    let (corr, _) = alter_partitions(&out)[0].clone();
    // While b3's admission is pending, the high watermark waits for it.
    h.produce(30, 5);
    let leo = h.leo();
    h.fetch(40, 2, 0, leo);
    assert_eq!(h.replica().high_watermark, 5, "the maximal ISR holds b3");
    // The controller rejects b3 (it registered again meanwhile): nothing was applied.
    h.answer(50, corr, ErrorCode::IneligibleReplica);
    assert_eq!(h.pending(), None, "no retry: back to the committed state");
    assert_eq!(h.committed_isr(), vec![1, 2]);
    assert_eq!(
        h.replica().high_watermark,
        leo,
        "the high watermark stops waiting for the rejected follower"
    );
}

#[test]
fn kip903_a_retry_sends_the_epochs_it_sent_first() {
    let mut h = Harness::new(ProtocolSwitches::default());
    h.produce(10, 5);
    caught_up(&mut h, 20, 0);
    // b3 restarts and fetches as incarnation 1 before the controller answered.
    h.push(
        30,
        MetadataRecord::RegisterBroker {
            broker: 3,
            incarnation: 1,
        },
    );
    h.fetch(40, 3, 1, 0);
    let timeout = 20 + h.b1.cfg.cluster.request_timeout_ms;
    let mut out = Effects::default();
    h.b1.tick(timeout, &mut out);
    let sent = alter_partitions(&out);
    assert_eq!(sent.len(), 1, "the timed-out request is sent again");
    assert_eq!(
        sent[0].1.new_isr_with_epochs[2],
        member(3, Some(0)),
        "the retry is the same request (Kafka's sentLeaderAndIsr), rejected as stale"
    );
}

#[test]
fn kip903_fetches_of_an_older_incarnation_are_fenced() {
    let mut h = Harness::new(ProtocolSwitches::default());
    h.produce(10, 5);
    h.push(
        15,
        MetadataRecord::RegisterBroker {
            broker: 3,
            incarnation: 1,
        },
    );
    // A fetch b3 sent before it restarted, still at the old log end, arrives late.
    let (out, error) = h.fetch(20, 3, 0, 5);
    assert_eq!(error, ErrorCode::NotLeaderOrFollower);
    assert!(
        alter_partitions(&out).is_empty(),
        "its progress is not taken"
    );
    let progress = &h.replica().leader_state().unwrap().followers[&3];
    assert_eq!(progress.log_end_offset, None);
    // The new incarnation's fetch is served and counted.
    let (out, error) = h.fetch(30, 3, 1, 5);
    assert_eq!(error, ErrorCode::None);
    assert_eq!(
        alter_partitions(&out)[0].1.new_isr_with_epochs[2],
        member(3, Some(1))
    );
}

#[test]
fn kip903_the_leader_proposes_only_the_registered_incarnation_and_no_fenced_broker() {
    let mut h = Harness::new(ProtocolSwitches::default());
    h.produce(10, 5);
    // b3 fetches as incarnation 1 while this leader's metadata still registers 0.
    let out = caught_up(&mut h, 20, 1);
    assert!(
        alter_partitions(&out).is_empty(),
        "epoch mismatch: not eligible"
    );
    // A fenced broker (kafkasim fences a broker in controlled shutdown at once) is not either.
    h.push(30, MetadataRecord::FenceBroker { broker: 3 });
    let out = caught_up(&mut h, 40, 0);
    assert!(alter_partitions(&out).is_empty(), "fenced: not eligible");
    h.push(50, MetadataRecord::UnfenceBroker { broker: 3 });
    let out = caught_up(&mut h, 60, 0);
    assert_eq!(
        alter_partitions(&out).len(),
        1,
        "unfenced, same epoch: proposed"
    );
}

#[test]
fn before_kip903_epochs_are_neither_checked_nor_sent() {
    let switches = ProtocolSwitches {
        isr_ignores_broker_epoch: true,
        ..Default::default()
    };
    let mut h = Harness::new(switches);
    h.produce(10, 5);
    h.push(
        15,
        MetadataRecord::RegisterBroker {
            broker: 3,
            incarnation: 1,
        },
    );
    // The old incarnation's late fetch counts, and b3 is proposed with no epoch at all.
    let (out, error) = h.fetch(20, 3, 0, 5);
    assert_eq!(error, ErrorCode::None);
    let sent = alter_partitions(&out);
    assert_eq!(
        sent[0].1.new_isr_with_epochs,
        vec![member(1, None), member(2, None), member(3, None)]
    );
}

/// The Produce answer in `out`, if any.
fn produce_answer(out: &Effects) -> Option<ProduceResponse> {
    out.sends.iter().find_map(|(_, m)| match m {
        Message::Response {
            body: Response::Produce(p),
            ..
        } => Some(p.clone()),
        _ => None,
    })
}

#[test]
fn acks_all_is_answered_when_every_isr_member_has_the_records() {
    let mut h = Harness::new(ProtocolSwitches::default());
    let out = h.produce_with(1, Acks::All, 3);
    assert!(
        produce_answer(&out).is_none(),
        "parked until the ISR has it"
    );
    // b2 (in the ISR) fetches the records: it holds them only once it fetches past them.
    assert!(produce_answer(&h.fetch(2, 2, 0, 0).0).is_none());
    assert_eq!(h.replica().high_watermark, 0);
    let out = h.fetch(3, 2, 0, 3).0;
    assert_eq!(h.replica().high_watermark, 3);
    let answer = produce_answer(&out).expect("answered when the high watermark passes it");
    assert_eq!(
        (answer.error, answer.base_offset),
        (ErrorCode::None, Some(0))
    );
}

#[test]
fn acks_all_below_min_insync_replicas_is_refused_before_the_append() {
    let mut h = Harness::new(ProtocolSwitches::default());
    h.push(1, MetadataRecord::Partition(partition(vec![1], 2)));
    let answer = produce_answer(&h.produce_with(2, Acks::All, 1)).expect("answered at once");
    assert_eq!(answer.error, ErrorCode::NotEnoughReplicas);
    assert_eq!(h.leo(), 0, "nothing appended");
    // acks=1 does not look at the ISR.
    let answer = produce_answer(&h.produce_with(3, Acks::Leader, 1)).expect("answered");
    assert_eq!(answer.error, ErrorCode::None);
}

#[test]
fn fetches_with_another_leader_epoch_are_refused() {
    let mut h = Harness::new(ProtocolSwitches::default());
    // b1 is re-elected in leader epoch 1.
    let state = PartitionState {
        leader_epoch: 1,
        ..partition(vec![1, 2], 2)
    };
    h.push(1, MetadataRecord::Partition(state));
    let consumer = NodeId::Consumer(1);
    let (_, older) = h.fetch_as(2, consumer, None, 0, 0);
    assert_eq!(older.map(|a| a.error), Some(ErrorCode::FencedLeaderEpoch));
    let (_, newer) = h.fetch_as(2, consumer, None, 2, 0);
    assert_eq!(newer.map(|a| a.error), Some(ErrorCode::UnknownLeaderEpoch));
    let (_, beyond) = h.fetch_as(2, consumer, None, 1, 5);
    assert_eq!(beyond.map(|a| a.error), Some(ErrorCode::OffsetOutOfRange));
    // ListOffsets and OffsetsForLeaderEpoch take the same check (`checkCurrentLeaderEpoch`);
    // a request that names no epoch (`NO_EPOCH`, an old client) skips it.
    for (epoch, error) in [
        (0, ErrorCode::FencedLeaderEpoch),
        (2, ErrorCode::UnknownLeaderEpoch),
        (1, ErrorCode::None),
        (crate::protocol::NO_EPOCH, ErrorCode::None),
    ] {
        let body = Request::ListOffsets(ListOffsetsRequest {
            tp: tp(),
            spec: OffsetSpec::Earliest,
            current_leader_epoch: epoch,
        });
        let out = h.request(3, consumer, body);
        let answer = out.sends.iter().find_map(|(_, m)| match m {
            Message::Response {
                body: Response::ListOffsets(l),
                ..
            } => Some(l.error),
            _ => None,
        });
        assert_eq!(answer, Some(error), "ListOffsets in epoch {epoch}");

        let body = Request::OffsetsForLeaderEpoch(OffsetsForLeaderEpochRequest {
            replica_id: 2,
            tp: tp(),
            current_leader_epoch: epoch,
            leader_epoch: 0,
        });
        let out = h.request(3, NodeId::Broker(2), body);
        let answer = out.sends.iter().find_map(|(_, m)| match m {
            Message::Response {
                body: Response::OffsetsForLeaderEpoch(r),
                ..
            } => Some((r.error, r.leader_epoch)),
            _ => None,
        });
        // Answered as `LeaderEpochFileCache.endOffsetFor` does: epoch 0 is older than any epoch
        // this leader's cache holds (epoch 1 starts at 0), so epoch 0 and the start of epoch 1.
        let expected_epoch = if error.is_ok() {
            0
        } else {
            crate::protocol::NO_EPOCH
        };
        assert_eq!(
            answer,
            Some((error, expected_epoch)),
            "OffsetsForLeaderEpoch in epoch {epoch}"
        );
    }
}

#[test]
fn a_consumer_is_not_served_beyond_the_high_watermark_a_follower_is() {
    let mut h = Harness::new(ProtocolSwitches::default());
    h.produce(1, 2);
    assert_eq!(h.replica().high_watermark, 0);
    // The consumer's fetch waits (parked) for records below the high watermark.
    let (_, consumer) = h.fetch_as(2, NodeId::Consumer(1), None, 0, 0);
    assert!(
        consumer.as_ref().is_none_or(|a| a.entries.is_empty()),
        "{consumer:?}"
    );
    let follower = Some(ReplicaState {
        replica_id: 2,
        replica_epoch: 0,
    });
    let (_, answer) = h.fetch_as(2, NodeId::Broker(2), follower, 0, 0);
    assert_eq!(answer.expect("answered").entries.len(), 2);
}

#[test]
fn a_follower_that_stops_fetching_is_shrunk_out_after_replica_lag_time_max() {
    let mut h = Harness::new(ProtocolSwitches::default());
    h.fetch(0, 2, 0, 0);
    h.produce(1, 1);
    // b2 never fetches again; the ISR check runs every replica.lag.time.max.ms / 2 (5 s).
    let mut proposed = Vec::new();
    for now in (0..=20_000).step_by(500) {
        let mut out = Effects::default();
        h.b1.tick(now, &mut out);
        proposed.extend(alter_partitions(&out).into_iter().map(|(_, r)| (now, r)));
    }
    let (at, first) = proposed.first().expect("a shrink was proposed");
    let isr: Vec<BrokerId> = first
        .new_isr_with_epochs
        .iter()
        .map(|m| m.broker_id)
        .collect();
    assert_eq!(isr, [1]);
    assert!(*at > 10_000, "not before replica.lag.time.max.ms: {at}");
}
