use std::collections::HashMap;
use std::sync::Mutex;

use crate::world::{Clock, random_token};

pub use crate::dms::Permission;

/// A DMS user group, reduced to what matters here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Role {
    Administrator,
    Operator,
    /// Reads everything, writes nothing.
    ReadOnly,
}

impl Role {
    pub fn permissions(self) -> Vec<Permission> {
        match self {
            Role::Administrator => {
                vec![
                    Permission::ConnectToCloud,
                    Permission::DisconnectFromCloud,
                    Permission::ShareDashboards,
                ]
            }
            Role::Operator | Role::ReadOnly => Vec::new(),
        }
    }

    /// Whether the group may change parameters.
    pub fn may_write(self) -> bool {
        !matches!(self, Role::ReadOnly)
    }
}

/// A DMS user account.
#[derive(Debug, Clone)]
pub struct User {
    pub login: String,
    pub password: String,
    pub role: Role,
}

/// Users and the connections (sessions) `ConnectApp` opened for them.
#[derive(Debug)]
pub(crate) struct Directory {
    users: Vec<User>,
    sessions: Mutex<HashMap<String, String>>,
    clock: Clock,
}

impl Directory {
    pub fn new(users: Vec<User>, clock: Clock) -> Self {
        Self {
            users,
            sessions: Mutex::new(HashMap::new()),
            clock,
        }
    }

    /// A new connection string for the right login and password.
    pub fn connect(&self, login: &str, password: &str) -> Option<String> {
        let user = self
            .users
            .iter()
            .find(|u| u.login.eq_ignore_ascii_case(login) && u.password == password)?;
        let connection = random_token(16);
        tracing::debug!(user = %user.login, at = self.clock.unix_seconds(), "ConnectApp");
        self.lock().insert(connection.clone(), user.login.clone());
        Some(connection)
    }

    pub fn user_of(&self, connection: &str) -> Option<User> {
        let login = self.lock().get(connection)?.clone();
        self.users.iter().find(|u| u.login == login).cloned()
    }

    pub fn log_out(&self, connection: &str) -> bool {
        self.lock().remove(connection).is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}
