//! Reports: the JSON object of `run --json` (CONTRACT.md) and the human summary.

use crate::check::ghost::Stats;
use crate::check::jepsen::Anomalies;
use crate::check::Kind;
use crate::sim::RunOutcome;
use serde::Serialize;

/// One violation as reported.
#[derive(Clone, Debug, Serialize)]
pub struct ViolationReport {
    pub invariant: String,
    pub kind: Kind,
    pub at_ms: u64,
    pub detail: String,
    /// Why Kafka allows it (only in `expected_violations`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
}

impl ViolationReport {
    fn new(v: &crate::check::Violation) -> Self {
        ViolationReport {
            invariant: v.invariant.to_string(),
            kind: v.kind,
            at_ms: v.at_us / 1000,
            detail: v.detail.clone(),
            because: v.expected.clone(),
        }
    }
}

/// The report of one run (`kafkasim run --json`).
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub scenario: String,
    pub seed: u64,
    pub sim_time_ms: u64,
    pub events: u64,
    pub trace_hash: String,
    pub violations: Vec<ViolationReport>,
    /// Violations Kafka's configuration allows (data loss after an unclean election, e.g. a
    /// power loss of the only in-sync replica of a `min.insync.replicas = 1` topic such as
    /// `__consumer_offsets`): listed with the reason, never failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expected_violations: Vec<ViolationReport>,
    pub stats: Stats,
    /// Jepsen's client-visible anomalies by Jepsen name: count, an example, whether allowed in
    /// the mode (assign/subscribe) of the processes that showed it. Informational: the exit code
    /// stays with the invariants.
    pub anomalies: Anomalies,
    /// Jepsen's `valid?`: no anomaly outside Jepsen's allowed set.
    pub jepsen_valid: bool,
}

impl RunReport {
    pub fn new(scenario_path: &str, outcome: &RunOutcome) -> Self {
        RunReport {
            scenario: scenario_path.to_string(),
            seed: outcome.seed,
            sim_time_ms: outcome.sim_time_ms,
            events: outcome.events,
            trace_hash: outcome.trace_hash.clone(),
            violations: outcome
                .violations
                .iter()
                .map(ViolationReport::new)
                .collect(),
            expected_violations: outcome
                .expected_violations
                .iter()
                .map(ViolationReport::new)
                .collect(),
            stats: outcome.stats.clone(),
            anomalies: outcome.anomalies.clone(),
            jepsen_valid: outcome.anomalies.valid(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// The exit code the contract gives this report: 1 safety, 3 liveness, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.violations.iter().any(|v| v.kind == Kind::Safety) {
            crate::cli::EXIT_SAFETY
        } else if self.violations.iter().any(|v| v.kind == Kind::Liveness) {
            crate::cli::EXIT_LIVENESS
        } else {
            crate::cli::EXIT_OK
        }
    }

    /// A few lines for a person.
    pub fn human(&self) -> String {
        let s = &self.stats;
        let mut out = format!(
            "{} seed {}: {} simulated ms, {} events, trace {}\n  produced {}, acked {}, consumed {}, committed {}, rebalances {}\n",
            self.scenario, self.seed, self.sim_time_ms, self.events, self.trace_hash, s.produced, s.acked, s.consumed, s.committed, s.rebalances
        );
        if self.violations.is_empty() {
            out.push_str("  every invariant held\n");
        }
        if !self.anomalies.is_empty() {
            out.push_str(&format!("  anomalies: {}\n", self.anomalies.summary()));
        }
        let mut because: Option<&str> = None;
        for v in &self.expected_violations {
            let why = v.because.as_deref().unwrap_or_default();
            if because != Some(why) {
                out.push_str(&format!("  expected, not failures: {why}\n"));
                because = Some(why);
            }
            out.push_str(&format!(
                "    {} at {} ms: {}\n",
                v.invariant, v.at_ms, v.detail
            ));
        }
        for v in &self.violations {
            let kind = match v.kind {
                Kind::Safety => "SAFETY",
                Kind::Liveness => "LIVENESS",
            };
            out.push_str(&format!(
                "  {kind} {} at {} ms: {}\n",
                v.invariant, v.at_ms, v.detail
            ));
        }
        out
    }
}
