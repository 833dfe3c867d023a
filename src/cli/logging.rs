//! `RUST_LOG` tracing for every verb: each line carries the simulated time (madsim's clock) and,
//! inside a node, the node's name (madsim's node span) — never the wall clock.

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::EnvFilter;

/// Prints simulated time as `t=12.345678s`, or `t=-` outside a simulation.
struct SimTime;

impl FormatTime for SimTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        match madsim::time::TimeHandle::try_current() {
            Some(t) => write!(w, "t={:.6}s", t.elapsed().as_secs_f64()),
            None => write!(w, "t=-"),
        }
    }
}

/// Installs the subscriber when `RUST_LOG` is set; otherwise logs nothing (and costs nothing).
pub fn init() {
    let Ok(filter) = EnvFilter::try_from_default_env() else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(SimTime)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
