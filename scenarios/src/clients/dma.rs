use mocks::Environment;
use mocks::dma::User;
use serde_json::{Map, Value, json};

use crate::Failure;

/// A DataMiner Web Services answer: `{"d": ...}`, or an error with its `Message`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum DmaReply {
    Data(Value),
    Error { status: u16, message: String },
}

/// A client of the DMA's JSON API, as a DMS user's application would be.
#[derive(Debug, Clone)]
pub struct DmaClient {
    http: reqwest::Client,
    base: String,
}

/// A logged-in connection (the string `ConnectApp` returned).
#[derive(Debug, Clone)]
pub struct DmaSession {
    client: DmaClient,
    pub user: String,
    connection: String,
}

impl DmaClient {
    pub fn new(env: &Environment) -> Self {
        Self::of(env.dma())
    }

    /// A client of `dma`'s API: of another DMS site than the environment's first.
    pub fn of(dma: &mocks::dma::Dma) -> Self {
        Self {
            http: super::http().build().unwrap_or_default(),
            base: dma.api_url(),
        }
    }

    /// Calls `method` with `body` (a flat JSON object).
    pub async fn call(&self, method: &str, body: Value) -> Result<DmaReply, Failure> {
        let response = self
            .http
            .post(format!("{}{method}", self.base))
            .json(&body)
            .send()
            .await
            .map_err(|e| Failure::Harness(format!("DMA unreachable for {method}: {e}")))?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        Ok(match (status, body) {
            (200, Value::Object(mut o)) if o.contains_key("d") => {
                DmaReply::Data(o.remove("d").unwrap_or_default())
            }
            (status, body) => DmaReply::Error {
                status,
                message: body
                    .get("Message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            },
        })
    }

    /// `ConnectApp` as `user`; anything but a connection string fails the scenario.
    pub async fn log_in(&self, user: &User) -> Result<DmaSession, Failure> {
        let reply = self
            .call(
                "ConnectApp",
                json!({
                    "host": "", "login": user.login, "password": user.password,
                    "clientAppName": "conform", "clientAppVersion": "1", "clientComputerName": "scenario",
                }),
            )
            .await?;
        match reply {
            DmaReply::Data(Value::String(connection)) => Ok(DmaSession {
                client: self.clone(),
                user: user.login.clone(),
                connection,
            }),
            other => Err(Failure::precondition(
                format!("ConnectApp as {}", user.login),
                "a connection string",
                other,
            )),
        }
    }
}

impl DmaSession {
    /// The DMA's connection string for this session.
    pub fn connection(&self) -> &str {
        &self.connection
    }

    /// Calls `method` on this connection; `fields` are added to `connection`.
    pub async fn call(&self, method: &str, fields: Value) -> Result<DmaReply, Failure> {
        let mut body = Map::new();
        body.insert("connection".into(), Value::String(self.connection.clone()));
        if let Value::Object(fields) = fields {
            body.extend(fields);
        }
        self.client.call(method, Value::Object(body)).await
    }

    /// Calls `method` and fails the scenario unless the DMA answers with data.
    pub async fn expect_data(&self, method: &str, fields: Value) -> Result<Value, Failure> {
        match self.call(method, fields).await? {
            DmaReply::Data(d) => Ok(d),
            other => Err(Failure::precondition(
                format!("{method} as {}", self.user),
                "a {\"d\": ...} answer",
                other,
            )),
        }
    }
}
