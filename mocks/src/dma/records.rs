//! What the DMA itself saw: every request that arrived on each listener, and every call it
//! carried out. These are the far side of the WAF: a request the WAF stopped never arrives, and
//! a call the DMA refused is not executed, whatever the answer looked like.

use serde::Serialize;
use serde_json::{Map, Value};

use super::Channel;
use crate::dms::canonical::ID_PARAMETERS;
use crate::dms::ids::read_id;
use crate::world::Observed;

/// A request as it reached a listener, before anything was read from it.
#[derive(Debug, Clone, Serialize)]
pub struct Arrival {
    pub channel: Channel,
    pub verb: String,
    /// The path with its query, as sent.
    pub path: String,
    /// Whether the listener served it: on the gateway channel, only requests carrying the
    /// Cloud Gateway's key are; the rest are refused and kept here.
    pub admitted: bool,
    pub at_unix: u64,
}

/// One call the DMA carried out. Calls it refused are not here.
#[derive(Debug, Clone, Serialize)]
pub struct ExecutedCall {
    pub channel: Channel,
    /// The session it ran on; for `ConnectApp`, the one it opened.
    pub connection: String,
    /// Whose session: a DMS user's login or a share user's.
    pub login: String,
    /// The share, when a share user made the call.
    pub share: Option<String>,
    pub method: String,
    /// The parameters as the DMA read them: IDs as the numbers it used, everything else as
    /// sent; never `connection` or `password`.
    pub parameters: Map<String, Value>,
    pub at_unix: u64,
}

/// Who a call ran for.
#[derive(Debug, Clone)]
pub(crate) struct Session<'a> {
    pub channel: Channel,
    pub connection: &'a str,
    pub login: &'a str,
    pub share: Option<&'a str>,
}

impl ExecutedCall {
    pub(crate) fn new(
        session: &Session<'_>,
        method: &str,
        body: &Map<String, Value>,
        at: u64,
    ) -> Self {
        let parameters = body
            .iter()
            .filter(|(name, _)| !["connection", "password"].contains(&name.as_str()))
            .map(|(name, value)| {
                let read = ID_PARAMETERS
                    .contains(&name.as_str())
                    .then(|| read_id(body, name).ok())
                    .flatten()
                    .map_or_else(|| value.clone(), Value::from);
                (name.clone(), read)
            })
            .collect();
        Self {
            channel: session.channel,
            connection: session.connection.to_owned(),
            login: session.login.to_owned(),
            share: session.share.map(str::to_owned),
            method: method.to_owned(),
            parameters,
            at_unix: at,
        }
    }
}

/// Every request that arrived, in order.
#[derive(Debug, Clone, Default)]
pub struct Arrivals(Observed<Vec<Arrival>>);

impl Arrivals {
    pub fn all(&self) -> Vec<Arrival> {
        self.0.read(Vec::clone)
    }

    /// How many arrived on `channel` so far.
    pub fn count(&self, channel: Channel) -> usize {
        self.0
            .read(|log| log.iter().filter(|a| a.channel == channel).count())
    }

    pub(crate) fn record(&self, arrival: Arrival) {
        self.0.update(|log| log.push(arrival));
    }
}

/// Every call the DMA carried out, in order.
#[derive(Debug, Clone, Default)]
pub struct Executed(Observed<Vec<ExecutedCall>>);

impl Executed {
    pub fn all(&self) -> Vec<ExecutedCall> {
        self.0.read(Vec::clone)
    }

    pub fn len(&self) -> usize {
        self.0.read(Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The calls carried out after the first `from`.
    pub fn since(&self, from: usize) -> Vec<ExecutedCall> {
        self.0
            .read(|log| log.get(from..).map(<[_]>::to_vec).unwrap_or_default())
    }

    pub(crate) fn record(&self, call: ExecutedCall) {
        self.0.update(|log| log.push(call));
    }
}
