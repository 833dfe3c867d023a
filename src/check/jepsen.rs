//! **Jepsen's client-visible anomalies** (`jepsen.tests.kafka`), named and classified as Jepsen
//! names and classifies them, reported with every run. This is an analysis, not an invariant: it
//! never decides the verdict (the invariants do); it says what a Jepsen checker would have seen.
//!
//! Jepsen builds a *version order* per partition from every offset → value pair a send or poll
//! observed, and reads the history per *process*. Here a process is a client node: readers (`rN`)
//! use `assign()`, group consumers (`cN`) use `subscribe()`, producers (`pN`) send. A crashed
//! client comes back as a new process, as Jepsen replaces a process after a crash. Group
//! rebalances are not Jepsen `subscribe` operations (a consumer subscribes once; the group moves
//! partitions under it), which is exactly why Jepsen allows `poll-skip` and `nonmonotonic-poll`
//! under `subscribe`. A client's own `auto.offset.reset` is invisible to Jepsen, so it is here.
//!
//! The types, as computed (Jepsen's names; "seen" means acknowledged or polled):
//! - `inconsistent-offsets`: one offset of a partition seen with two values (counted per offset).
//! - `duplicate`: one value seen at two offsets (counted per extra offset).
//! - `G1a` (aborted read): a poll returned a value whose send definitely failed. Jepsen checks
//!   this for plain sends too, so it is here although kafkasim has no transactions.
//! - `lost-write`: an acknowledged value at offset *i*, never polled by anyone, although some poll
//!   of that partition read an offset > *i* (end of run).
//! - `unseen`: acknowledged, never polled by the end, on a partition some client consumes (end of
//!   run; includes the lost writes). `kafka.clj` does *not* list it among its allowed types:
//!   Jepsen ends every test with final polls until caught up, so what is still unseen then is
//!   bad. kafkasim's equivalent of the final polls is the liveness phase: with one that ran to
//!   its end, `unseen` is bad; without one (`liveness.check = false`, or the event budget ran out)
//!   it only means "late" and is allowed.
//! - `poll-skip` / `nonmonotonic-poll`: two successive polls of one partition by one process, the
//!   second starting after / at or before the offset following the first's last record. Allowed
//!   under `subscribe`, bad under `assign`.
//! - `nonmonotonic-send`: a producer's acknowledged batch lands at or below the offset of its
//!   previous acknowledged batch to that partition.
//!
//! Jepsen compares *indices* in the version order, which skip offsets nobody observed
//! (transaction markers). kafkasim's logs have no transactions and no compaction, so offsets are
//! dense and offset distance is index distance; offsets deleted by retention on every replica
//! leave the version order and are not skipped over.
//!
//! Left out, because they need transactions and kafkasim has none yet: `G0`, `G1c` (Elle's
//! dependency cycles), `int-poll-skip`, `int-nonmonotonic-poll`, `int-send-skip`,
//! `int-nonmonotonic-send`, `precommitted-read`.
//!
//! Memory follows the logs: below a partition's lowest log start across replicas (retention
//! deleted it everywhere) offsets are forgotten, so a record deleted before anyone read it is
//! neither lost nor unseen: no client could have read it any more, and Jepsen's version order
//! would not contain it.

use super::ghost::Ghost;
use super::offsets::{OffsetRanges, OffsetTable};
use crate::history::{Event, EventKind};
use crate::protocol::{NodeId, ProducedValue, TopicPartition};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::num::NonZeroU64;

pub const INCONSISTENT_OFFSETS: &str = "inconsistent-offsets";
pub const DUPLICATE: &str = "duplicate";
pub const ABORTED_READ: &str = "G1a";
pub const LOST_WRITE: &str = "lost-write";
pub const UNSEEN: &str = "unseen";
pub const POLL_SKIP: &str = "poll-skip";
pub const NONMONOTONIC_POLL: &str = "nonmonotonic-poll";
pub const NONMONOTONIC_SEND: &str = "nonmonotonic-send";

/// How a process consumes (Jepsen's `:sub-via`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Assign,
    Subscribe,
}

impl Mode {
    fn of(node: NodeId) -> Option<Mode> {
        match node {
            NodeId::Reader(_) => Some(Mode::Assign),
            NodeId::Consumer(_) => Some(Mode::Subscribe),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mode::Assign => "assign",
            Mode::Subscribe => "subscribe",
        }
    }
}

/// Whether Jepsen's `allowed-error-types` admits `anomaly` for a process in `mode`.
pub fn allowed(anomaly: &str, mode: Option<Mode>) -> bool {
    matches!(anomaly, POLL_SKIP | NONMONOTONIC_POLL) && mode == Some(Mode::Subscribe)
}

/// The cases of one anomaly type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub count: u64,
    /// The first case, or the first not-allowed one once there is one.
    pub example: String,
    /// Every case is allowed in its process's mode.
    pub allowed: bool,
    /// For `poll-skip` and `nonmonotonic-poll`, whose allowance depends on it: the modes of the
    /// processes that showed it (empty for every other type).
    pub modes: BTreeSet<Mode>,
}

/// Every anomaly type that occurred, by Jepsen name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Anomalies(pub BTreeMap<&'static str, Tally>);

impl Anomalies {
    /// Counts one case.
    pub fn note(&mut self, name: &'static str, mode: Option<Mode>, ok: bool, example: String) {
        let t = self.0.entry(name).or_insert_with(|| Tally {
            count: 0,
            example: example.clone(),
            allowed: true,
            modes: BTreeSet::new(),
        });
        t.count += 1;
        t.modes.extend(mode);
        if t.allowed && !ok {
            t.allowed = false;
            t.example = example;
        }
    }

    /// Jepsen's `valid?`: no type outside the allowed set occurred.
    pub fn valid(&self) -> bool {
        self.0.values().all(|t| t.allowed)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn count(&self, name: &str) -> u64 {
        self.0.get(name).map_or(0, |t| t.count)
    }

    /// `poll-skip 2 (allowed under subscribe), lost-write 1`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(name, t)| {
                let modes: Vec<&str> = t.modes.iter().map(|m| m.name()).collect();
                match (t.allowed, modes.is_empty()) {
                    (true, true) => format!("{name} {} (allowed)", t.count),
                    (true, false) => {
                        format!("{name} {} (allowed under {})", t.count, modes.join("/"))
                    }
                    (false, true) => format!("{name} {}", t.count),
                    (false, false) => format!("{name} {} (under {})", t.count, modes.join("/")),
                }
            })
            .collect();
        parts.join(", ")
    }
}

/// A value in 8 bytes (an `Option` of it too), for the per-offset tables: producer in the top 16
/// bits, seq below. Scenario validation bounds both far below that (`MAX_CLIENTS` producers,
/// `MAX_RECORDS_TOTAL` records).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Packed(NonZeroU64);

impl Packed {
    const SEQ_BITS: u32 = 48;

    fn new(v: ProducedValue) -> Packed {
        assert!(
            v.producer >= 1 && v.producer < 1 << 16 && v.seq < 1 << Self::SEQ_BITS,
            "{v} does not fit the analysis's packed value"
        );
        let bits = u64::from(v.producer) << Self::SEQ_BITS | v.seq;
        Packed(NonZeroU64::new(bits).expect("producer >= 1"))
    }

    fn value(self) -> ProducedValue {
        ProducedValue {
            producer: (self.0.get() >> Self::SEQ_BITS) as u32,
            seq: self.0.get() & ((1 << Self::SEQ_BITS) - 1),
        }
    }
}

/// What is known about one partition.
#[derive(Default)]
struct PartitionView {
    /// The version order: the first value seen at each offset.
    seen: OffsetTable<Packed>,
    /// Where each value was first seen: per producer, the offsets holding its values, sorted by
    /// the value's seq (read back from `seen`). A producer's values land in seq order, so the
    /// front holds the lowest offsets and is what retention forgets first.
    offset_of: BTreeMap<u32, OffsetsBySeq>,
    /// Offsets already counted as inconsistent.
    inconsistent: OffsetRanges,
    /// Offsets polled with the value of the version order.
    polled: OffsetRanges,
    /// The highest offset any poll read.
    max_polled: Option<u64>,
    /// Acknowledged values not polled yet, by offset.
    unpolled: BTreeMap<u64, ProducedValue>,
    /// Values whose send definitely failed.
    failed: BTreeSet<ProducedValue>,
    /// Some client consumes this partition.
    watched: bool,
}

impl PartitionView {
    fn seen(&self, offset: u64) -> Option<ProducedValue> {
        self.seen.get(offset).map(Packed::value)
    }

    /// Puts `value` at `offset` in the version order; returns the anomaly it shows, if any.
    fn see(&mut self, offset: u64, value: ProducedValue) -> Option<(&'static str, String)> {
        match self.seen(offset) {
            Some(first) if first == value => None,
            Some(first) => {
                if self.inconsistent.contains(offset) {
                    return None;
                }
                self.inconsistent.insert(offset, offset + 1);
                Some((
                    INCONSISTENT_OFFSETS,
                    format!("offset {offset} seen as {first} and as {value}"),
                ))
            }
            None => {
                self.seen.set(offset, Packed::new(value));
                // An offset retention already made everyone forget stays forgotten.
                self.seen.get(offset)?;
                let earlier = self
                    .offset_of
                    .entry(value.producer)
                    .or_default()
                    .place(&self.seen, offset, value.seq)?;
                Some((
                    DUPLICATE,
                    format!("{value} at offsets {earlier} and {offset}"),
                ))
            }
        }
    }

    /// Forgets every offset below `lowest` (deleted on every replica).
    fn forget_below(&mut self, lowest: u64) {
        self.seen.forget_below(lowest);
        for list in self.offset_of.values_mut() {
            list.forget_below(lowest);
        }
        self.unpolled = self.unpolled.split_off(&lowest);
    }
}

/// One producer's offsets in one partition, sorted by the seq of the value `seen` holds there.
#[derive(Default)]
struct OffsetsBySeq {
    offsets: VecDeque<u64>,
    /// The offsets are also ascending (the usual case), so forgetting pops from the front.
    ascending: bool,
}

impl OffsetsBySeq {
    /// Records that the value with `seq` was first seen at `offset` (already in `seen`); returns
    /// the earlier offset if it was first seen elsewhere.
    fn place(&mut self, seen: &OffsetTable<Packed>, offset: u64, seq: u64) -> Option<u64> {
        let seq_at = |o: &u64| seen.get(*o).map_or(0, |p| p.value().seq);
        match self.offsets.binary_search_by_key(&seq, seq_at) {
            Ok(i) => Some(self.offsets[i]).filter(|o| *o != offset),
            Err(i) => {
                if self.offsets.is_empty() {
                    self.ascending = true;
                }
                let after_previous = i == 0 || self.offsets[i - 1] < offset;
                let before_next = self.offsets.get(i).is_none_or(|next| offset < *next);
                self.ascending &= after_previous && before_next;
                self.offsets.insert(i, offset);
                None
            }
        }
    }

    fn forget_below(&mut self, lowest: u64) {
        if self.ascending {
            while self.offsets.front().is_some_and(|o| *o < lowest) {
                self.offsets.pop_front();
            }
        } else {
            self.offsets.retain(|o| *o >= lowest);
            self.ascending = self
                .offsets
                .iter()
                .zip(self.offsets.iter().skip(1))
                .all(|(a, b)| a < b);
        }
    }
}

/// The analysis, fed event by event after the ghost applied each one.
#[derive(Default)]
pub struct JepsenAnalysis {
    partitions: BTreeMap<TopicPartition, PartitionView>,
    /// Per (process, partition): the offset after the last record its previous poll returned.
    next_poll: BTreeMap<(NodeId, TopicPartition), u64>,
    /// Per (producer, partition): the offset of its last acknowledged record.
    last_send: BTreeMap<(u32, TopicPartition), u64>,
    /// The anomalies found so far, event by event.
    found: Anomalies,
}

impl JepsenAnalysis {
    pub fn observe(&mut self, event: &Event, ghost: &Ghost) {
        match &event.kind {
            EventKind::Acked {
                tp,
                base_offset,
                values,
                ..
            } => self.on_acked(event.node, tp, *base_offset, values),
            EventKind::SendFailed {
                tp,
                values,
                definite: true,
                ..
            } => self.view(tp).failed.extend(values.iter().copied()),
            EventKind::Polled {
                tp,
                base_offset,
                values,
                ..
            }
            | EventKind::Processed {
                tp,
                base_offset,
                values,
                ..
            } => self.on_polled(event.node, tp, *base_offset, values, ghost),
            EventKind::Assigned { partitions, .. } => {
                for tp in partitions {
                    self.view(tp).watched = true;
                }
            }
            EventKind::PositionReset { tp, .. } => self.view(tp).watched = true,
            EventKind::LogStartMoved { tp, .. } => {
                let lowest = ghost.lowest_log_start(tp);
                if let Some(view) = self.partitions.get_mut(tp) {
                    view.forget_below(lowest);
                }
            }
            EventKind::Crashed { .. } => self.forget_process(event.node),
            _ => {}
        }
    }

    fn view(&mut self, tp: &TopicPartition) -> &mut PartitionView {
        self.partitions.entry(tp.clone()).or_default()
    }

    /// A crashed client comes back as a new process, with no previous polls or sends.
    fn forget_process(&mut self, node: NodeId) {
        self.next_poll.retain(|(n, _), _| *n != node);
        if let NodeId::Producer(p) = node {
            self.last_send.retain(|(q, _), _| *q != p);
        }
    }

    fn on_acked(&mut self, node: NodeId, tp: &TopicPartition, base: u64, values: &[ProducedValue]) {
        let NodeId::Producer(p) = node else { return };
        if values.is_empty() {
            return;
        }
        let last = base + values.len() as u64 - 1;
        if let Some(previous) = self.last_send.insert((p, tp.clone()), last) {
            if base <= previous {
                self.found.note(
                    NONMONOTONIC_SEND,
                    None,
                    false,
                    format!(
                        "{node} {tp}: sent up to offset {previous}, then {} at {base}",
                        values[0]
                    ),
                );
            }
        }
        for (i, v) in values.iter().enumerate() {
            let o = base + i as u64;
            self.see(tp, o, *v, node);
            let view = self.view(tp);
            if !(view.polled.contains(o) && view.seen(o) == Some(*v)) {
                view.unpolled.insert(o, *v);
            }
        }
    }

    fn on_polled(
        &mut self,
        node: NodeId,
        tp: &TopicPartition,
        base: u64,
        values: &[ProducedValue],
        ghost: &Ghost,
    ) {
        let Some(mode) = Mode::of(node) else { return };
        self.view(tp).watched = true;
        if values.is_empty() {
            return;
        }
        self.check_poll_order(node, mode, tp, base, values.len() as u64, ghost);
        for (i, v) in values.iter().enumerate() {
            let o = base + i as u64;
            self.see(tp, o, *v, node);
            let view = self.view(tp);
            if view.seen(o) == Some(*v) {
                view.polled.insert(o, o + 1);
            }
            if view.unpolled.get(&o) == Some(v) {
                view.unpolled.remove(&o);
            }
            if view.failed.contains(v) {
                let example = format!("{node} {tp}: polled {v} at offset {o}, whose send failed");
                self.found.note(ABORTED_READ, None, false, example);
            }
        }
        let view = self.view(tp);
        let last = base + values.len() as u64 - 1;
        view.max_polled = Some(view.max_polled.map_or(last, |m| m.max(last)));
    }

    /// Jepsen's per-process comparison of this poll's first offset with the previous poll's last.
    fn check_poll_order(
        &mut self,
        node: NodeId,
        mode: Mode,
        tp: &TopicPartition,
        base: u64,
        len: u64,
        ghost: &Ghost,
    ) {
        let previous = self.next_poll.insert((node, tp.clone()), base + len);
        let Some(next) = previous else { return };
        // Offsets deleted on every replica left the version order: jumping over them skips nothing.
        let from = next.max(ghost.lowest_log_start(tp));
        let (name, example) = if base > from {
            (
                POLL_SKIP,
                format!(
                    "{node} {tp}: polled up to offset {}, then from {base}",
                    next - 1
                ),
            )
        } else if base < next {
            (
                NONMONOTONIC_POLL,
                format!(
                    "{node} {tp}: polled up to offset {}, then from {base}",
                    next - 1
                ),
            )
        } else {
            return;
        };
        self.found
            .note(name, Some(mode), allowed(name, Some(mode)), example);
    }

    fn see(&mut self, tp: &TopicPartition, offset: u64, value: ProducedValue, who: NodeId) {
        if let Some((name, what)) = self.view(tp).see(offset, value) {
            let example = format!("{tp} {what} (by {who})");
            self.found.note(name, None, false, example);
        }
    }

    /// Everything found, with the end-of-run types. `caught_up`: the run ended with a liveness
    /// phase (Jepsen's final polls), so what is still unseen is bad.
    pub fn finish(&self, caught_up: bool) -> Anomalies {
        let mut all = self.found.clone();
        for (tp, view) in &self.partitions {
            for (o, v) in &view.unpolled {
                if view.max_polled.is_some_and(|m| m > *o) {
                    let example = format!(
                        "{tp}: {v} acknowledged at offset {o}, never polled; offset {} was",
                        view.max_polled.unwrap_or_default()
                    );
                    all.note(LOST_WRITE, None, false, example);
                }
            }
            if !view.watched {
                continue;
            }
            for (o, v) in &view.unpolled {
                let example = format!("{tp}: {v} acknowledged at offset {o}, never polled");
                all.note(UNSEEN, None, !caught_up, example);
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::Acks;

    fn tp() -> TopicPartition {
        TopicPartition::new("t", 0)
    }

    fn v(seq: u64) -> ProducedValue {
        ProducedValue { producer: 1, seq }
    }

    fn ev(node: NodeId, kind: EventKind) -> Event {
        Event {
            at_us: 0,
            node,
            kind,
        }
    }

    fn acked(base_offset: u64, seqs: &[u64]) -> Event {
        ev(
            NodeId::Producer(1),
            EventKind::Acked {
                tp: tp(),
                acks: Acks::All,
                base_offset,
                values: seqs.iter().map(|s| v(*s)).collect(),
            },
        )
    }

    fn polled(node: NodeId, base_offset: u64, seqs: &[u64]) -> Event {
        ev(
            node,
            EventKind::Polled {
                tp: tp(),
                base_offset,
                values: seqs.iter().map(|s| v(*s)).collect(),
                high_watermark: 100,
            },
        )
    }

    fn analyse(events: &[Event], caught_up: bool) -> Anomalies {
        let ghost = Ghost::default();
        let mut a = JepsenAnalysis::default();
        for e in events {
            a.observe(e, &ghost);
        }
        a.finish(caught_up)
    }

    const R1: NodeId = NodeId::Reader(1);
    const C1: NodeId = NodeId::Consumer(1);

    #[test]
    fn contiguous_polls_of_acknowledged_writes_are_clean() {
        let a = analyse(
            &[acked(0, &[0, 1]), polled(R1, 0, &[0]), polled(R1, 1, &[1])],
            true,
        );
        assert!(a.is_empty(), "{a:?}");
        assert!(a.valid());
    }

    #[test]
    fn skips_and_rewinds_are_bad_under_assign_and_allowed_under_subscribe() {
        let events = |n| {
            vec![
                acked(0, &[0, 1, 2, 3]),
                polled(n, 0, &[0]),
                polled(n, 2, &[2, 3]),
                polled(n, 1, &[1]),
            ]
        };
        let a = analyse(&events(R1), true);
        assert_eq!((a.count(POLL_SKIP), a.count(NONMONOTONIC_POLL)), (1, 1));
        assert!(!a.valid());
        let s = analyse(&events(C1), true);
        assert_eq!((s.count(POLL_SKIP), s.count(NONMONOTONIC_POLL)), (1, 1));
        assert!(s.valid(), "{s:?}");
        assert!(s
            .summary()
            .contains("poll-skip 1 (allowed under subscribe)"));
    }

    #[test]
    fn a_crashed_process_starts_afresh() {
        let crash = ev(
            R1,
            EventKind::Crashed {
                mode: crate::config::CrashMode::Clean,
            },
        );
        let a = analyse(
            &[
                acked(0, &[0, 1]),
                polled(R1, 1, &[1]),
                crash,
                polled(R1, 0, &[0, 1]),
            ],
            true,
        );
        assert!(a.is_empty(), "{a:?}");
    }

    #[test]
    fn an_unread_write_below_a_read_one_is_lost_and_above_it_unseen() {
        let a = analyse(&[acked(0, &[0, 1, 2]), polled(C1, 1, &[1])], true);
        assert_eq!(a.count(LOST_WRITE), 1);
        assert_eq!(a.count(UNSEEN), 2);
        assert!(!a.0[LOST_WRITE].allowed && !a.0[UNSEEN].allowed);
        let late = analyse(&[acked(0, &[0, 1, 2]), polled(C1, 0, &[0, 1])], false);
        assert_eq!((late.count(LOST_WRITE), late.count(UNSEEN)), (0, 1));
        assert!(late.valid(), "unseen without final polls is only late");
    }

    #[test]
    fn a_read_before_the_acknowledgement_counts() {
        let a = analyse(&[polled(R1, 0, &[0, 1]), acked(0, &[0, 1])], true);
        assert!(a.is_empty(), "{a:?}");
    }

    #[test]
    fn two_values_at_one_offset_and_one_value_at_two_offsets() {
        let a = analyse(
            &[acked(0, &[0, 1]), polled(R1, 0, &[0, 7]), acked(2, &[1])],
            true,
        );
        assert_eq!(a.count(INCONSISTENT_OFFSETS), 1);
        assert_eq!(a.count(DUPLICATE), 1);
        assert!(a.0[DUPLICATE].example.contains("offsets 1 and 2"));
    }

    #[test]
    fn values_pack_into_eight_bytes_and_back() {
        let v = ProducedValue {
            producer: 999,
            seq: 49_999_999,
        };
        assert_eq!(Packed::new(v).value(), v);
        assert_eq!(std::mem::size_of::<Option<Packed>>(), 8);
    }

    #[test]
    fn duplicates_are_found_after_retention_and_out_of_order_reads() {
        let mut view = PartitionView::default();
        assert!(view.see(5, v(50)).is_none());
        assert!(view.see(3, v(30)).is_none());
        assert!(
            view.see(4, v(70)).is_none(),
            "out of seq order, not a duplicate"
        );
        view.forget_below(4);
        assert!(view.see(9, v(90)).is_none());
        let (name, what) = view.see(10, v(70)).expect("p1:70 again");
        assert_eq!(
            (name, what.as_str()),
            (DUPLICATE, "p1:70 at offsets 4 and 10")
        );
        assert_eq!(view.offset_of[&1].offsets, [5, 4, 9]);
        view.forget_below(5);
        assert_eq!(view.offset_of[&1].offsets, [5, 9]);
        assert!(
            view.see(2, v(20)).is_none(),
            "forgotten offsets stay forgotten"
        );
    }

    #[test]
    fn sends_going_backwards_and_failed_values_read() {
        let failed = ev(
            NodeId::Producer(1),
            EventKind::SendFailed {
                tp: tp(),
                values: vec![v(9)],
                error: crate::protocol::ErrorCode::NotLeaderOrFollower,
                definite: true,
            },
        );
        let a = analyse(
            &[
                acked(5, &[0]),
                acked(3, &[1]),
                failed,
                polled(R1, 3, &[1, 2, 0, 9]),
            ],
            true,
        );
        assert_eq!(a.count(NONMONOTONIC_SEND), 1);
        assert_eq!(a.count(ABORTED_READ), 1);
    }
}
