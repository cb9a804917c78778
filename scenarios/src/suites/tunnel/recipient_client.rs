//! A recipient of a shared dashboard: someone with a dataminer.services account who reaches a
//! DMS's API through the cloud's sharing front end
//! (`https://sharing.dataminer.services/dms/{dms_id}/API/v1/Json.asmx/{Method}`), over its own
//! HTTPS stack that trusts the environment's CA. It reads answers chunk by chunk and notes
//! when the first byte came, so a scenario or a benchmark sees streaming, not only the result.

use std::time::Instant;

use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::Value;

use crate::Failure;
use crate::clients::CloudClient;
use crate::steps;

/// A recipient's browser: an HTTPS client for the sharing endpoint, signed in or not.
#[derive(Debug, Clone)]
pub struct Recipient {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

/// One answer as the recipient received it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Received {
    pub status: u16,
    pub bytes: u64,
    /// When the request went out and when the first and the last body byte came.
    #[serde(skip)]
    pub sent: Instant,
    #[serde(skip)]
    pub first_byte: Option<Instant>,
    #[serde(skip)]
    pub ended: Instant,
}

impl Recipient {
    /// The Owner of the DMS's organisation, signed in to dataminer.services, with remote
    /// access to the (connected) DMS enabled for that account, as the Owner enables it.
    pub async fn signed_in(env: &Environment) -> Result<Self, Failure> {
        let owner = &env.accounts().cloud_admin;
        let enabled = steps::enable_remote_access(env, owner, &[owner]).await?;
        if enabled.status != 200 {
            return Err(Failure::precondition(
                "the Owner enabling remote access on the DMS",
                "HTTP 200",
                enabled,
            ));
        }
        Self::signed_in_only(env).await
    }

    /// The Owner of the DMS's organisation, signed in, for DMSs whose remote access the
    /// caller enables itself.
    pub async fn signed_in_only(env: &Environment) -> Result<Self, Failure> {
        let cookie = steps::cloud_login(env, &CloudClient::new(env)?).await?;
        let mut recipient = Self::anonymous(env)?;
        recipient.cookie = Some(cookie);
        Ok(recipient)
    }

    /// `account`'s owner, signed in to dataminer.services.
    pub async fn signed_in_as(
        env: &Environment,
        account: &mocks::cloud::Account,
    ) -> Result<Self, Failure> {
        let cookie = steps::sign_in(&CloudClient::new(env)?, account).await?;
        let mut recipient = Self::anonymous(env)?;
        recipient.cookie = Some(cookie);
        Ok(recipient)
    }

    /// The same account's sign-in in a client of its own (its own connections): another of
    /// the account's tools, with no sign-in of its own.
    pub fn another_client(&self, env: &Environment) -> Result<Self, Failure> {
        let mut other = Self::anonymous(env)?;
        other.cookie = self.cookie.clone();
        Ok(other)
    }

    /// Someone who never signed in.
    pub fn anonymous(env: &Environment) -> Result<Self, Failure> {
        let ca = reqwest::Certificate::from_der(&env.ca_der())
            .map_err(|e| Failure::Harness(format!("CA unusable by reqwest: {e}")))?;
        let mut builder = crate::clients::http().tls_certs_only([ca]);
        for (name, addr) in env.published() {
            builder = builder.resolve(name, addr);
        }
        let http = builder
            .build()
            .map_err(|e| Failure::Harness(format!("cannot build the recipient's client: {e}")))?;
        Ok(Self {
            http,
            base: env.cloud_url(Endpoint::Sharing),
            cookie: None,
        })
    }

    /// Calls `method` on `dms_id` with a JSON body; hands every chunk of the answer to `each`
    /// as it arrives.
    pub async fn call(
        &self,
        dms_id: &str,
        method: &str,
        body: &Value,
        mut each: impl FnMut(&[u8]),
    ) -> Result<Received, Failure> {
        let url = format!("{}dms/{dms_id}/API/v1/Json.asmx/{method}", self.base);
        let mut request = self.http.post(url).json(body);
        if let Some(cookie) = &self.cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        let broken = |e: reqwest::Error| {
            Failure::precondition(
                format!("{method} through the sharing front end"),
                "an answer read to its end",
                e.to_string(),
            )
        };
        let sent = Instant::now();
        let mut response = request.send().await.map_err(broken)?;
        let status = response.status().as_u16();
        let (mut bytes, mut first_byte) = (0, None);
        while let Some(chunk) = response.chunk().await.map_err(broken)? {
            first_byte.get_or_insert_with(Instant::now);
            bytes += chunk.len() as u64;
            each(&chunk);
        }
        Ok(Received {
            status,
            bytes,
            sent,
            first_byte,
            ended: Instant::now(),
        })
    }

    /// Calls `method` and reads the answer as JSON; the status and the value.
    pub async fn call_json(
        &self,
        dms_id: &str,
        method: &str,
        body: &Value,
    ) -> Result<(u16, Value), Failure> {
        let mut text = Vec::new();
        let received = self
            .call(dms_id, method, body, |chunk| text.extend_from_slice(chunk))
            .await?;
        Ok((
            received.status,
            serde_json::from_slice(&text).unwrap_or(Value::Null),
        ))
    }

    /// Calls `method` with `headers` added, as a client of its own would send them; the status
    /// and the answer read as JSON.
    pub async fn call_json_with(
        &self,
        dms_id: &str,
        method: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Result<(u16, Value), Failure> {
        let url = format!("{}dms/{dms_id}/API/v1/Json.asmx/{method}", self.base);
        let mut request = self.http.post(url).json(body);
        if let Some(cookie) = &self.cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let broken = |e: reqwest::Error| {
            Failure::precondition(
                format!("{method} through the sharing front end"),
                "an answer",
                e.to_string(),
            )
        };
        let response = request.send().await.map_err(broken)?;
        let status = response.status().as_u16();
        let text = response.bytes().await.map_err(broken)?;
        Ok((status, serde_json::from_slice(&text).unwrap_or(Value::Null)))
    }

    /// Logs in to the DMS through the front end as `login`; the DMA's connection string.
    pub async fn connect_app(
        &self,
        dms_id: &str,
        login: &str,
        password: &str,
    ) -> Result<String, Failure> {
        let body = serde_json::json!({
            "host": "", "login": login, "password": password,
            "clientAppName": "conform", "clientAppVersion": "1", "clientComputerName": "recipient",
        });
        let (status, answer) = self.call_json(dms_id, "ConnectApp", &body).await?;
        answer
            .get("d")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                Failure::precondition(
                    "ConnectApp through the sharing front end",
                    "a connection string",
                    (status, answer),
                )
            })
    }
}
