//! Routes × credentials (TOK-1, TOK-3, TOK-5, OPT-3): every route of every host, as the cloud's
//! published route table lists it, tried with every bad credential for the kind it asks for,
//! and every route that takes a session also with a valid request of the right account, which
//! must succeed (a route refusing everyone would pass every refusal). The table says what to
//! attack; what each attempt must get is the scenario's: a bad bearer token 401 (RFC 6750 §3.1
//! `invalid_token`), a good token on another DMS's ID 403, a bad or foreign session no answer
//! but a refusal, and no tunnel on the cloud's record.

mod cases;
mod controls;
mod credentials;
mod judge;
mod table;
mod walk;

pub(super) use walk::every_route_refuses_every_bad_credential;

/// The dimension the sweep's matrix rows are filed under.
const DIMENSION: &str = "routes × credentials";
