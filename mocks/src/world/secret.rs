use rand::Rng;

/// A random lowercase-hex string of `bytes` random bytes from the OS CSPRNG: session IDs,
/// device codes, generated passwords of the environment's accounts.
pub fn random_token(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut raw);
    raw.iter().map(|b| format!("{b:02x}")).collect()
}
