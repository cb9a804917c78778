use crate::world::Observed;

/// What the DMS keeps on disk to authenticate towards dataminer.services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_token: String,
    pub refresh_key: String,
    pub obtained_at_unix: u64,
}

/// The DMS's credential file. The environment owns it, so a scenario reads what is stored
/// rather than what the agent says is stored.
#[derive(Debug, Clone, Default)]
pub struct CredentialStore(Observed<Option<Credentials>>);

impl CredentialStore {
    pub fn stored(&self) -> Option<Credentials> {
        self.0.read(Option::clone)
    }

    pub(crate) fn save(&self, credentials: Credentials) {
        self.0.update(|file| *file = Some(credentials));
    }

    pub(crate) fn erase(&self) {
        self.0.update(|file| *file = None);
    }
}
