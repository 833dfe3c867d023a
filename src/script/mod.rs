//! `kafkasim script FILE`: drive one group coordinator core with requests at exact simulated times,
//! the way Kafka's own coordinator tests do (`GroupCoordinatorTest`, `GroupMetadataManagerTest`),
//! and check its responses. The format and output are fixed by `CONTRACT.md` ("`kafkasim script
//! FILE`").
//!
//! * [`spec`]: the file (JSON or TOML), validated into typed steps with located errors (exit 2).
//! * [`build`]: a step's args, over the defaults, into a coordinator request.
//! * [`runner`]: the run itself (timers, aliases, appends committed at once, expectations).
//! * [`render`]: responses and group state as the JSON the script compares against.
//!
//! Only the classic protocol is supported; a `"protocol": "consumer"` (KIP-848) script is refused as
//! bad input.

pub mod build;
pub mod render;
pub mod runner;
pub mod spec;

pub use runner::{run, StepLine, Summary};
pub use spec::{load, Script, ScriptError};
