//! The suites of conform. A scenario is data (ID, suite, title, the requirement IDs it verifies,
//! the faults it must catch) plus an async body that gets a fresh environment and returns the
//! evidence it observed or a failure naming what was expected and what was seen.
//!
//! One registry feeds `cargo test` (each scenario is a test, and each scenario under each fault
//! it declares is another) and the `conform` command line.

mod capture;
pub mod clients;
mod evidence;
pub mod oracle;
mod panics;
mod registry;
mod runner;
mod scenario;
pub mod second_site;
pub mod steps;
mod suites;

pub use capture::{Exchange, RunCapture, capture_into};
pub use evidence::{
    Attachment, Check, Evidence, Failure, FailureKind, Matrix, MatrixRow, Observation, summary,
};
pub use panics::contain as contain_panics;
pub use registry::{all, by_id, covering};
pub use runner::{FaultVerdict, Outcome, Run, WATCHDOG, run};
pub use scenario::{Catch, Ctx, Scenario, Suite, UnknownSuite};
pub use suites::network::process::use_agent_binary;
pub use suites::sweeps::dimension as sweep_dimension;

pub use mocks::world::{Fault, FaultSet};
