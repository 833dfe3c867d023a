//! # kafkasim
//!
//! A deterministic simulator of Apache Kafka's replication and consumer-group semantics.
//!
//! The data's way through the crate:
//!
//! ```text
//! scenario ──► sim builds nodes around role cores ──► every event lands in the history
//!                                                          │
//!                             report ◄── checkers read the history
//! ```
//!
//! * [`scenario`]: the TOML format, validated with located errors.
//! * [`config`]: Kafka's configuration by role (broker and topic, producer, consumer, the
//!   protocol switches): the scenario file's sections, and what the cores are built with.
//! * [`protocol`]: the shared vocabulary (ids, Kafka error names, records, requests, responses).
//! * Role cores, each a plain struct driven by `(now, input) -> effects`, with no IO, clock or
//!   randomness of their own: [`broker`] (partition logs, leader/follower replication, high
//!   watermark, ISR), [`controller`] (broker liveness, leader election), [`client`] (producers,
//!   readers).
//! * [`sim`]: the madsim shell. One madsim node per Kafka node moves messages, fires timers and
//!   injects faults; one (scenario, seed) runs on a fresh seeded runtime on its own thread.
//! * [`history`]: every event of a run in order, its one-line text form and its hash.
//! * [`check`]: one invariant per file, fed the history event by event; they never look inside a
//!   node.
//! * [`report`]: the JSON report and the human summary.
//! * [`Simulation`]: the library API for users' own tests (run a seed or a seed range, assert,
//!   snapshot); the CLI ([`cli`]) is a layer over it.
//!
//! Two walls: the role cores never import `sim`, `check`, `report` or `scenario` (they take
//! `config`); `check` reads `history` and `protocol`, never a node's internals. Below them,
//! `history` never reads `check` or `scenario`, `protocol` stands on nothing but [`fnv`], and
//! `config` on nothing. `tests/architecture.rs` checks these walls on the source.

#[cfg(not(madsim))]
compile_error!(
    "kafkasim must be built with `--cfg madsim` (see .cargo/config.toml; a RUSTFLAGS variable \
     replaces that setting, so include `--cfg madsim` in it)"
);

pub mod assignor;
pub mod bench;
pub mod broker;
pub mod check;
pub mod cli;
pub mod client;
pub mod config;
pub mod controller;
pub mod coordinator;
pub mod effects;
pub mod fnv;
pub mod fuzz;
pub mod history;
pub mod input;
pub mod protocol;
pub mod report;
pub mod request;
pub mod scenario;
pub mod script;
pub mod sim;
pub mod simulation;
pub mod timeline;
pub mod timer;

pub use simulation::{Run, Runs, Simulation};
