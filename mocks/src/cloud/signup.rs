//! Creating a dataminer.services account for an address a dashboard was shared with: the
//! address is proven by a one-time code mailed to it, tried at most a few times and only for a
//! while, before the account exists.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use sha2::{Digest, Sha256};

use super::CloudState;
use super::mail_address::AddressRule;
use super::mail_limits::Cause;
use super::oauth::Params;
use super::pages::{escape, page};
use super::sign_in::is_local_path;
use crate::world::random_token;

/// How long a mailed code works.
const CODE_LIFETIME_SECONDS: u64 = 15 * 60;
/// How many wrong codes end a pending sign-up.
const ATTEMPTS: u32 = 5;
/// The shortest password a new account may have.
const MIN_PASSWORD: usize = 10;

#[derive(Debug, Clone)]
struct Pending {
    /// Every code mailed for the address and not yet expired, each with its expiry: asking
    /// again adds one and voids none, so whoever asks for someone else's address cannot make
    /// the code in that person's mailbox stop working.
    codes: Vec<([u8; 32], u64)>,
    /// When the newest code expires: the sign-up waits until then.
    expires_at: u64,
    attempts_left: u32,
    /// The address the request for the code came from.
    origin: Option<std::net::IpAddr>,
}

/// The most sign-ups one address may have waiting for their code at once (DOS-1).
const PENDING_PER_SOURCE: usize = 32;

/// Codes mailed and not yet used, by address.
#[derive(Debug, Default)]
pub(crate) struct SignUps(Mutex<HashMap<String, Pending>>, SignUpPolicy);

/// How a mailed code is checked.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SignUpPolicy {
    /// Pending sign-ups past their code's lifetime are removed when a new one comes.
    sweep_expired: bool,
    /// The most sign-ups one source address may have waiting, if limited.
    per_source: Option<usize>,
    /// Asking again for a code adds one and voids none (`cloud.signup-new-code-voids-the-last`
    /// replaces the pending one, the previous mail's code dead).
    codes_accumulate: bool,
    /// The code's record is read, judged and written back after a store round trip, instead
    /// of judged and spent under one lock.
    read_then_write: bool,
    /// An address that has an account is answered 409 (which tells anyone that it has one),
    /// instead of as a new one while its owner is mailed.
    tell_existing: bool,
}

impl SignUps {
    pub fn from_faults(faults: &crate::world::FaultSet) -> Self {
        Self(
            Mutex::default(),
            SignUpPolicy {
                read_then_write: faults.is_on(crate::world::Fault::CloudSignupCodeCheckThenSpend),
                sweep_expired: !faults.is_on(crate::world::Fault::CloudDeviceGrantsNeverSwept),
                per_source: (!faults.is_on(crate::world::Fault::CloudNoPerSourceLimit))
                    .then_some(PENDING_PER_SOURCE),
                tell_existing: faults.is_on(crate::world::Fault::CloudSignupTellsExistingAccounts),
                codes_accumulate: !faults
                    .is_on(crate::world::Fault::CloudSignupNewCodeVoidsTheLast),
            },
        )
    }

    /// `redeem`, as the policy does it: at once under the lock, or read, judged after a store
    /// round trip, and written back.
    async fn redeem_kept(
        &self,
        email: &str,
        code: &str,
        now: u64,
        round_trip: &super::Rendezvous,
    ) -> bool {
        if !self.1.read_then_write {
            return self.redeem(email, code, now);
        }
        let Some(copy) = self.lock().get(email).cloned() else {
            return false;
        };
        round_trip.meet().await;
        let mut one = HashMap::from([(email.to_owned(), copy)]);
        let redeemed = judge(&mut one, email, code, now);
        let mut pending = self.lock();
        match one.remove(email) {
            Some(entry) => pending.insert(email.to_owned(), entry),
            None => pending.remove(email),
        };
        redeemed
    }

    /// How many sign-ups wait for their code.
    pub fn pending(&self) -> usize {
        self.lock().len()
    }

    /// Removes the sign-ups whose code expired.
    pub fn maintain(&self, now: u64) {
        if self.1.sweep_expired {
            self.lock().retain(|_, p| p.expires_at > now);
        }
    }

    /// Whether `origin` has as many sign-ups waiting as it may (not counting `email`'s own).
    fn source_full(
        &self,
        pending: &HashMap<String, Pending>,
        email: &str,
        origin: Option<std::net::IpAddr>,
    ) -> bool {
        let (Some(limit), Some(source)) = (self.1.per_source, origin) else {
            return false;
        };
        pending
            .iter()
            .filter(|(e, p)| p.origin == Some(source) && e.as_str() != email)
            .count()
            >= limit
    }

    /// Whether a code for `email` asked from `origin` now would be refused as one sign-up too
    /// many waiting from there: asked before anything else is told, so an address that has an
    /// account is refused alike.
    fn refuses(&self, email: &str, now: u64, origin: Option<std::net::IpAddr>) -> bool {
        self.maintain(now);
        self.source_full(&self.lock(), email, origin)
    }

    /// A new code for `email`, unless `origin` has too many sign-ups waiting already.
    fn issue(&self, email: &str, now: u64, origin: Option<std::net::IpAddr>) -> Option<String> {
        let code = random_token(5);
        self.maintain(now);
        let mut pending = self.lock();
        if self.source_full(&pending, email, origin) {
            return None;
        }
        let digest: [u8; 32] = Sha256::digest(code.as_bytes()).into();
        let expires_at = now + CODE_LIFETIME_SECONDS;
        let entry = pending.entry(email.to_owned()).or_insert_with(|| Pending {
            codes: Vec::new(),
            expires_at,
            attempts_left: ATTEMPTS,
            origin,
        });
        if self.1.codes_accumulate {
            entry.codes.retain(|(_, until)| *until > now);
        } else {
            entry.codes.clear();
            entry.attempts_left = ATTEMPTS;
        }
        entry.codes.push((digest, expires_at));
        entry.expires_at = expires_at;
        Some(code)
    }

    /// Whether `code` is the live one for `email`; a right code is used up, a wrong one counts.
    fn redeem(&self, email: &str, code: &str, now: u64) -> bool {
        judge(&mut self.lock(), email, code, now)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Whether `code` is the live one for `email` in `pending`; a right code is used up, a wrong
/// one counts.
fn judge(pending: &mut HashMap<String, Pending>, email: &str, code: &str, now: u64) -> bool {
    let Some(entry) = pending.get_mut(email) else {
        return false;
    };
    let digest: [u8; 32] = Sha256::digest(code.as_bytes()).into();
    entry.codes.retain(|(_, until)| *until > now);
    if entry.codes.is_empty() || entry.attempts_left == 0 {
        pending.remove(email);
        return false;
    }
    if entry.codes.iter().any(|(live, _)| *live == digest) {
        pending.remove(email);
        return true;
    }
    entry.attempts_left -= 1;
    false
}

fn wants_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

fn next_of(params: &Params) -> String {
    params
        .get("next")
        .filter(|n| is_local_path(n))
        .unwrap_or("/")
        .to_owned()
}

/// `GET /account/create?email=&next=`: the form that mails a code to the address.
pub(crate) async fn form(Query(query): Query<HashMap<String, String>>) -> Response {
    let email = query.get("email").map_or("", String::as_str);
    let next = query
        .get("next")
        .map(String::as_str)
        .filter(|n| is_local_path(n))
        .unwrap_or("/");
    let body = format!(
        "<p>We send a code to your address to prove it is yours.</p>\
         <form method=\"post\" action=\"/account/create/code\">\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <p><label>Email <input name=\"email\" type=\"email\" value=\"{email}\"></label></p>\
         <p><button type=\"submit\">Send me a code</button></p></form>",
        next = escape(next),
        email = escape(email),
    );
    page(StatusCode::OK, "Create your account", &body)
}

/// `POST /account/create/code` with `email`: mails a code to an address that has no account.
pub(crate) async fn send_code(
    State(state): State<Arc<CloudState>>,
    peer: Option<axum::Extension<super::listener::Peer>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    // One spelling per mailbox, as for a share's addresses: the bounds count mailboxes.
    let typed = params.get("email").unwrap_or_default();
    let canonical = AddressRule::from_faults(&state.faults).one(typed);
    let email = canonical.clone().unwrap_or_default();
    let source = peer.map(|p| p.0.0.ip());
    let exists = state.accounts.exists(&email);
    if canonical.is_none() || (exists && state.signups.1.tell_existing) {
        return (
            StatusCode::CONFLICT,
            Json(serde_json::json!({ "error": "account_exists_or_bad_address" })),
        )
            .into_response();
    }
    let now = state.clock.unix_seconds();
    if state.signups.refuses(&email, now, source) {
        return too_many_pending();
    }
    if let Err(limited) = state
        .outbox
        .admit(Cause::Page(source), std::slice::from_ref(&email), now)
    {
        state.log.info(format!("sign-up code not sent: {limited}"));
        return (
            StatusCode::TOO_MANY_REQUESTS,
            Json(serde_json::json!({ "error": "mail_limit" })),
        )
            .into_response();
    }
    // An address with an account is answered as a new one (no enumeration); its owner is told
    // instead, and no code exists to redeem.
    if exists {
        state.outbox.send(
            &email,
            "Your dataminer.services account".to_owned(),
            format!(
                "Someone asked to create a dataminer.services account for {email}, which \
                 already has one. Sign in with it; if you did not ask, ignore this mail.\n"
            ),
            now,
            &[],
        );
        return code_sent(&headers, &params, &email);
    }
    let Some(code) = state.signups.issue(&email, now, source) else {
        return too_many_pending();
    };
    state.outbox.send(
        &email,
        "Your dataminer.services code".to_owned(),
        format!(
            "Your code to create a dataminer.services account for {email} is:\n\n{code}\n\n\
             It works for 15 minutes. If you did not ask for it, ignore this mail.\n"
        ),
        now,
        &[&code],
    );
    code_sent(&headers, &params, &email)
}

/// The answer to a code request from a source with too many sign-ups waiting: the same for an
/// address that has an account.
fn too_many_pending() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        Json(serde_json::json!({ "error": "too_many_pending_signups" })),
    )
        .into_response()
}

/// The answer to a code request that was taken: the same whether the address had an account.
fn code_sent(headers: &HeaderMap, params: &Params, email: &str) -> Response {
    if !wants_form(headers) {
        return Json(serde_json::json!({ "sent_to": email })).into_response();
    }
    let body = format!(
        "<p>We sent a code to {email}.</p>\
         <form method=\"post\" action=\"/account/create\">\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <input type=\"hidden\" name=\"email\" value=\"{email}\">\
         <p><label>Code <input name=\"code\" autocomplete=\"one-time-code\"></label></p>\
         <p><label>Password <input name=\"password\" type=\"password\" \
         autocomplete=\"new-password\"></label></p>\
         <p><button type=\"submit\">Create account</button></p></form>",
        email = escape(email),
        next = escape(&next_of(params)),
    );
    page(StatusCode::OK, "Check your mail", &body)
}

/// `POST /account/create` with `email`, `code` and `password`: the account, signed in.
pub(crate) async fn create(
    State(state): State<Arc<CloudState>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let refused = |status: StatusCode, error: &str| {
        (status, Json(serde_json::json!({ "error": error }))).into_response()
    };
    // Creating the account signs the browser in: like a sign-in, it is taken only from this
    // host's own form, or a page elsewhere signs the visitor in to an account it made.
    if state.accounts.own_pages_only
        && !super::own_pages::from_own_pages(&headers, &state.sharing_url)
    {
        state
            .log
            .info("sign-up refused: not from this host's own pages");
        return refused(StatusCode::FORBIDDEN, "cross_site_sign_up");
    }
    let email = params.get("email").unwrap_or_default().to_ascii_lowercase();
    let password = params.get("password").unwrap_or_default();
    let now = state.clock.unix_seconds();
    if password.chars().count() < MIN_PASSWORD {
        return refused(StatusCode::BAD_REQUEST, "password_too_short");
    }
    if !state
        .signups
        .redeem_kept(
            &email,
            params.get("code").unwrap_or_default(),
            now,
            &state.redemptions,
        )
        .await
    {
        state.log.info(format!("sign-up for {email}: wrong code"));
        return refused(StatusCode::UNAUTHORIZED, "invalid_code");
    }
    let Some(session) = state.accounts.create(&email, password) else {
        return refused(StatusCode::CONFLICT, "account_exists");
    };
    state.log.info(format!("account created for {email}"));
    if let Some(record) = state.accounts.record(&email)
        && let Err(e) = state.store.put(&record)
    {
        state
            .log
            .info(format!("account of {email} not stored: {e}"));
    }
    let cookie = state.accounts.session_cookie(&session);
    if wants_form(&headers) {
        return (
            StatusCode::SEE_OTHER,
            [
                (header::SET_COOKIE, cookie),
                (header::LOCATION, next_of(&params)),
            ],
        )
            .into_response();
    }
    (
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(serde_json::json!({ "email": email })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_works_once_within_its_lifetime_and_wrong_guesses_are_counted() {
        let signups = SignUps::default();
        let code = signups.issue("a@x.example", 1_000, None).unwrap();
        assert!(!signups.redeem("b@x.example", &code, 1_001));
        assert!(signups.redeem("a@x.example", &code, 1_001));
        assert!(!signups.redeem("a@x.example", &code, 1_002), "used up");

        let code = signups.issue("a@x.example", 1_000, None).unwrap();
        assert!(!signups.redeem("a@x.example", &code, 1_000 + CODE_LIFETIME_SECONDS));

        let code = signups.issue("a@x.example", 1_000, None).unwrap();
        for _ in 0..ATTEMPTS {
            assert!(!signups.redeem("a@x.example", "wrong", 1_001));
        }
        assert!(!signups.redeem("a@x.example", &code, 1_001), "out of tries");
    }
}
