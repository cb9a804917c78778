//! One row of the keyed sweep's matrix: what another organisation tried on an object of this
//! one, and what it reached.

/// One attempt of B on an object of A, and what the scenario saw of it.
#[derive(Debug, serde::Serialize)]
pub(super) struct Row {
    pub object: &'static str,
    pub how: &'static str,
    pub status: u16,
    /// What of A the attempt reached, by the scenario's reading; empty when nothing.
    pub reached: Option<String>,
}
