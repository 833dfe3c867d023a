//! The checkers: one invariant per file, each named after its property, each with a doc comment
//! giving its precise definition and the bug it catches (definitions from
//! `invariants-and-bugs.md`: R2, R4, R5, R7, R12, R13 and Jepsen's anomalies).
//!
//! They observe the history event by event, after the shared [`ghost::Ghost`] has applied the
//! event, so per-event invariants fire at the exact event that broke them; end-of-run validations
//! run in [`Invariant::at_end`]. They never look inside a node.

pub mod bounded_duplicates;
pub mod commit_fencing;
pub mod committed_offsets_durable;
pub mod convergence;
pub mod epochs_monotonic;
pub mod exclusive_ownership;
pub mod generation_monotonic;
pub mod ghost;
pub mod group_ghost;
pub mod high_watermark_monotonic;
pub mod jepsen;
pub mod leader_in_isr;
pub mod log_matching;
pub mod no_lost_acked_write;
pub mod no_lost_records;
pub mod offsets;
pub mod one_value_per_offset;
pub mod read_below_high_watermark;
pub mod reader_polls_contiguous;
pub mod single_leader_per_epoch;
pub mod strong_isr;

use crate::history::{Event, EventKind, Observer};
use crate::protocol::{offsets_partition_for, TopicPartition, CONSUMER_OFFSETS};
use ghost::Ghost;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Safety (something bad happened) or liveness (something good did not happen in time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Safety,
    Liveness,
}

/// One violated invariant, where and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub invariant: &'static str,
    pub kind: Kind,
    pub at_us: u64,
    pub detail: String,
    /// Set when Kafka's configuration allows this: the violation concerns a partition (or a
    /// group whose `__consumer_offsets` partition) that went through an unclean election
    /// before, and says which. Reported apart from the failures; it sets no exit code.
    pub expected: Option<String>,
}

/// What a violation is about, so that loss the configuration allows can be told apart.
#[derive(Clone, Copy, Debug)]
pub enum Subject<'a> {
    /// Records or replicas of one partition.
    Partition(&'a TopicPartition),
    /// A group's state or offsets, kept in its `__consumer_offsets` partition.
    Group(&'a str),
    /// What a group did with the records of one partition: depends on both.
    GroupRecords(&'a str, &'a TopicPartition),
}

/// At most this many violations of one invariant are kept (the rest are counted).
const MAX_PER_INVARIANT: usize = 20;

/// Where invariants report.
#[derive(Debug, Default)]
pub struct Reporter {
    now_us: u64,
    violations: Vec<Violation>,
    per_invariant: BTreeMap<&'static str, usize>,
    /// Partitions that had an unclean election, with the first one described: from then on
    /// Kafka promises nothing about their acknowledged records (see [`Subject`]).
    unclean_elections: BTreeMap<TopicPartition, String>,
    /// The number of `__consumer_offsets` partitions seen, to find a group's partition.
    offsets_partitions: u32,
}

impl Reporter {
    /// A safety violation about nothing a configuration can excuse (ordering, fencing, ...).
    pub fn safety(&mut self, invariant: &'static str, detail: String) {
        self.push_safety(invariant, detail, None);
    }

    /// A safety violation about `subject`: expected, not a failure, once the partition that
    /// holds it went through an unclean election, which Kafka allows to lose acknowledged
    /// records (`PartitionChangeBuilder`: "If the election was unclean ... This can result in
    /// data loss!").
    pub fn safety_about(&mut self, invariant: &'static str, subject: Subject, detail: String) {
        let expected = match subject {
            Subject::Partition(tp) => self.unclean_election_of(tp),
            Subject::Group(g) => self.unclean_election_of_group(g),
            Subject::GroupRecords(g, tp) => self
                .unclean_election_of(tp)
                .or_else(|| self.unclean_election_of_group(g)),
        };
        self.push_safety(invariant, detail, expected);
    }

    fn unclean_election_of(&self, tp: &TopicPartition) -> Option<String> {
        self.unclean_elections.get(tp).cloned()
    }

    /// The unclean election of the `__consumer_offsets` partition that holds `group`, if any.
    fn unclean_election_of_group(&self, group: &str) -> Option<String> {
        if self.offsets_partitions == 0 {
            return None;
        }
        let p = offsets_partition_for(group, self.offsets_partitions);
        self.unclean_election_of(&TopicPartition::new(CONSUMER_OFFSETS, p))
    }

    fn push_safety(&mut self, invariant: &'static str, detail: String, expected: Option<String>) {
        let n = self.per_invariant.entry(invariant).or_default();
        *n += 1;
        if *n <= MAX_PER_INVARIANT {
            self.violations.push(Violation {
                invariant,
                kind: Kind::Safety,
                at_us: self.now_us,
                detail,
                expected,
            });
        }
    }

    /// Notes what the event changes about which losses the configuration allows.
    fn note(&mut self, event: &Event) {
        let EventKind::PartitionChanged {
            state,
            unclean_election,
            ..
        } = &event.kind
        else {
            return;
        };
        if state.tp.topic() == CONSUMER_OFFSETS {
            self.offsets_partitions = self.offsets_partitions.max(state.tp.partition + 1);
        }
        if *unclean_election && !self.unclean_elections.contains_key(&state.tp) {
            let leader = state.leader.map(|l| format!("b{l}")).unwrap_or_default();
            let why = format!(
                "unclean election of {leader} for {} at {} ms: Kafka allows it to lose acknowledged records",
                state.tp,
                event.at_us / 1000
            );
            self.unclean_elections.insert(state.tp.clone(), why);
        }
    }

    /// Sets the time stamped on what is reported next.
    pub fn set_now(&mut self, now_us: u64) {
        self.now_us = now_us;
    }

    pub fn liveness(&mut self, invariant: &'static str, detail: String) {
        self.violations.push(Violation {
            invariant,
            kind: Kind::Liveness,
            at_us: self.now_us,
            detail,
            expected: None,
        });
    }
}

/// One property.
pub trait Invariant: Send {
    /// Its name, as reported (`no_lost_acked_write`).
    fn name(&self) -> &'static str;
    /// Called after the ghost applied `event`.
    fn on_event(&mut self, event: &Event, ghost: &Ghost, report: &mut Reporter);
    /// Called once when the run ends.
    fn at_end(&mut self, _ghost: &Ghost, _report: &mut Reporter) {}
}

/// Every replication invariant, in a stable order.
pub fn replication_invariants() -> Vec<Box<dyn Invariant>> {
    vec![
        Box::new(no_lost_acked_write::NoLostAckedWrite::default()),
        Box::new(log_matching::LogMatching::default()),
        Box::new(strong_isr::StrongIsr::default()),
        Box::new(leader_in_isr::LeaderInIsr),
        Box::new(single_leader_per_epoch::SingleLeaderPerEpoch::default()),
        Box::new(epochs_monotonic::EpochsMonotonic::default()),
        Box::new(high_watermark_monotonic::HighWatermarkMonotonic::default()),
        Box::new(read_below_high_watermark::ReadBelowHighWatermark),
        Box::new(one_value_per_offset::OneValuePerOffset::default()),
        Box::new(reader_polls_contiguous::ReaderPollsContiguous::default()),
    ]
}

/// Every invariant of a scenario: replication, and for its groups the group invariants
/// (`at_least_once_groups`: the groups whose records must not be lost).
pub fn all_invariants(
    at_least_once_groups: std::collections::BTreeSet<String>,
) -> Vec<Box<dyn Invariant>> {
    let mut v = replication_invariants();
    v.push(Box::new(exclusive_ownership::ExclusiveOwnership::default()));
    v.push(Box::new(commit_fencing::CommitFencing));
    v.push(Box::new(committed_offsets_durable::CommittedOffsetsDurable));
    v.push(Box::new(
        generation_monotonic::GenerationMonotonic::default(),
    ));
    v.push(Box::new(no_lost_records::NoLostRecords {
        groups: at_least_once_groups,
    }));
    v.push(Box::new(bounded_duplicates::BoundedDuplicates::default()));
    v
}

/// The ghost, every invariant and Jepsen's anomaly analysis, fed by the history.
pub struct Checkers {
    pub ghost: Ghost,
    invariants: Vec<Box<dyn Invariant>>,
    pub report: Reporter,
    pub jepsen: jepsen::JepsenAnalysis,
}

impl Checkers {
    pub fn new(invariants: Vec<Box<dyn Invariant>>) -> Self {
        Checkers {
            ghost: Ghost::default(),
            invariants,
            report: Reporter::default(),
            jepsen: jepsen::JepsenAnalysis::default(),
        }
    }

    pub fn observe(&mut self, event: &Event) {
        self.ghost.apply(event);
        self.report.now_us = event.at_us;
        self.report.note(event);
        for inv in &mut self.invariants {
            inv.on_event(event, &self.ghost, &mut self.report);
        }
        self.jepsen.observe(event, &self.ghost);
    }

    /// Runs the end-of-run validations at `end_us` and returns every violation, in order.
    pub fn finish(&mut self, end_us: u64) -> Vec<Violation> {
        self.report.now_us = end_us;
        for inv in &mut self.invariants {
            inv.at_end(&self.ghost, &mut self.report);
        }
        std::mem::take(&mut self.report.violations)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.invariants.iter().map(|i| i.name()).collect()
    }
}

/// The verdicts at the end of a run, live or offline: the liveness verdict from the final state
/// (`meta` says whether there was a liveness phase), then the end-of-run validations. Returns
/// the failures, then the violations the configuration allows ([`Violation::expected`]).
pub fn finish_run(
    checkers: &mut Checkers,
    meta: &crate::history::json::Meta,
) -> (Vec<Violation>, Vec<Violation>) {
    checkers.report.set_now(meta.end_us);
    if meta.budget_exhausted {
        checkers.report.liveness(
            convergence::NAME,
            "the event budget ran out before the run ended".into(),
        );
    } else if meta.liveness_check {
        if let Err(why) = convergence::converged(&checkers.ghost, &meta.expectations()) {
            let bound = meta.liveness_bound_ms;
            checkers.report.liveness(
                convergence::NAME,
                format!("not converged {bound} ms after the faults healed: {why}"),
            );
        }
    }
    checkers
        .finish(meta.end_us)
        .into_iter()
        .partition(|v| v.expected.is_none())
}

/// Jepsen's anomalies at the end of a run, live or offline. A liveness phase that ran to its end
/// is kafkasim's equivalent of Jepsen's final polls (see [`jepsen`]).
pub fn run_anomalies(checkers: &Checkers, meta: &crate::history::json::Meta) -> jepsen::Anomalies {
    checkers
        .jepsen
        .finish(meta.liveness_check && !meta.budget_exhausted)
}

/// Lets the history feed checkers that the run also queries (convergence) and finishes.
pub struct SharedCheckers(pub Arc<Mutex<Checkers>>);

impl Observer for SharedCheckers {
    fn observe(&mut self, event: &Event) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .observe(event);
    }
}
