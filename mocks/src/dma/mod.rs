//! The DataMiner API of the DMS: users and roles, elements with parameters and alarms, behind a
//! JSON API shaped like DataMiner Web Services v1 (`POST /API/v1/Json.asmx/<Method>`).
//! The cloud-connection methods hand the request, with the caller's permissions, to the agent.

mod api;
mod ids;
mod users;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use fixtures::DmaData;
use tokio::net::TcpListener;

use crate::agent::Agent;
use crate::world::{Clock, Lifetime, net};

pub use users::{Permission, Role, User};

/// What the DMA needs to start.
#[derive(Debug)]
pub struct DmaSetup {
    pub data: DmaData,
    pub users: Vec<User>,
    pub agent: Agent,
    pub clock: Clock,
}

#[derive(Debug)]
pub(crate) struct DmaState {
    pub data: Mutex<DmaData>,
    pub users: users::Directory,
    pub agent: Agent,
}

/// A running mock DataMiner Agent.
#[derive(Debug, Clone)]
pub struct Dma {
    addr: SocketAddr,
}

impl Dma {
    pub fn start(
        listener: TcpListener,
        setup: DmaSetup,
        lifetime: &Lifetime,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let state = Arc::new(DmaState {
            data: Mutex::new(setup.data),
            users: users::Directory::new(setup.users, setup.clock),
            agent: setup.agent,
        });
        net::serve_http(listener, lifetime, api::router(state));
        Ok(Self { addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base of the JSON API: append the method name.
    pub fn api_url(&self) -> String {
        format!("http://{}/API/v1/Json.asmx/", self.addr)
    }
}
