use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// Declares every fault switch once: its variant, its stable name and what it breaks.
macro_rules! faults {
    ($($variant:ident = $name:literal: $breaks:literal,)+) => {
        /// A named fault switch: each breaks exactly one requirement in one component, so a
        /// scenario can prove it is not vacuous by failing under it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Fault {
            $(#[doc = $breaks] $variant,)+
        }

        impl Fault {
            pub const ALL: &[Fault] = &[$(Fault::$variant,)+];

            /// The stable name used on the command line and in reports.
            pub fn name(self) -> &'static str {
                match self { $(Fault::$variant => $name,)+ }
            }

            /// What the component does wrong while the switch is on.
            pub fn breaks(self) -> &'static str {
                match self { $(Fault::$variant => $breaks,)+ }
            }
        }
    };
}

faults! {
    AgentConnectBeforeOptin = "agent.connect-before-optin":
        "the agent starts the connect flow on its own at start-up, before any Administrator enables it",
    AgentRevokeOnce = "agent.revoke-once":
        "a disconnect sends its revocation once and forgets the token: a cloud it could not reach keeps taking the token until it expires",
    AgentHidesPendingRevocation = "agent.hides-pending-revocation":
        "while a disconnect's revocation is unacknowledged, the DMS reads the gateway as disabled: the Administrator is not told the cloud still takes the token",
    AgentTunnelSkipsHostnameCheck = "agent.tunnel-skips-hostname-check":
        "the agent's certificate check waives the host name for the tunnel endpoint (\"its load balancer's certificate lacks the name\"): any certificate of the CA passes as tunnel.dataminer.services",
    AgentTunnelAcceptsExpiredCert = "agent.tunnel-accepts-expired-cert":
        "the agent's certificate check waives expiry for the tunnel endpoint (\"a long-lived tunnel must survive a late rotation\"): an expired certificate passes there",
    AgentNonAdminCanEnable = "agent.non-admin-can-enable":
        "the agent accepts an enable request from a user without the \"Connect to cloud\" permission",
    AgentDisconnectKeepsTunnel = "agent.disconnect-keeps-tunnel":
        "a disconnect only flips the agent's state: it keeps its token and its tunnel",
    AgentNoFlowControl = "agent.no-flow-control":
        "the agent answers one tunnel stream at a time and reads each whole answer before sending it back, so one slow or huge answer stalls the others",
        AgentNoReconnect = "agent.no-reconnect":
        "after its tunnel drops, the agent never opens another one",
    AgentSingleTunnel = "agent.single-tunnel":
        "the agent keeps one tunnel instead of several in parallel, so losing it cuts the DMS off until a redial",
    AgentNoDeadPeerDetection = "agent.no-dead-peer-detection":
        "the agent pings its tunnels but ignores a missing pong: a silent tunnel is kept for ever",
    AgentReconnectWithoutBackoff = "agent.reconnect-without-backoff":
        "after a failed tunnel dial the agent retries every 10 s for ever instead of backing off",
    AgentReconnectWithoutJitter = "agent.reconnect-without-jitter":
        "the agent's redial backoff has no jitter: every DMS cut off at once retries in lockstep",
    AgentHandoverCutsStreams = "agent.handover-cuts-streams":
        "after a renewal the agent drops its old tunnels at once instead of draining them: streams under way fail",
    AgentDropTokenOnRefreshError = "agent.drop-token-on-refresh-error":
        "when a refresh fails for want of an answer (a 500, a reset, a timeout), the agent forgets its still valid token and tunnels instead of retrying",
    AgentRetryWrites = "agent.retry-writes":
        "when the DMS side fails a forwarded request before it answers, the agent sends it again, whatever its method: a write can be executed twice",
    AgentMaskDmsErrors = "agent.mask-dms-errors":
        "when the DMS side cannot be reached, the agent answers the tunnel stream 200 with an empty body instead of 502",
    AgentNoSkewAllowance = "agent.no-skew-allowance":
        "the agent stamps its client assertions on the DMS's own clock and never corrects it by the cloud's Date: a DMS whose clock drifted past the cloud's allowance cannot connect or renew",
        CloudNoDeadAgentDetection = "cloud.no-dead-agent-detection":
        "the cloud pings its tunnels but ignores a missing pong: a tunnel to a DMS that went silent stays on the record and takes streams",
    CloudTunnelAcceptsNoToken = "cloud.tunnel-accepts-no-token":
        "the tunnel endpoint admits a WebSocket upgrade without a valid token",
    CloudSharingBuffersWholeAnswer = "cloud.sharing-buffers-whole-answer":
        "the sharing front end reads a DMS's whole answer before the recipient gets its first byte",
    CloudNoRevokeOnDisconnect = "cloud.no-revoke-on-disconnect":
        "the cloud acknowledges a revocation but keeps the token valid",
    CloudAcceptTls13 = "cloud.accept-tls13":
        "every cloud endpoint also negotiates TLS 1.3",
    CloudLegacyTls = "cloud.legacy-tls":
        "every cloud endpoint answers a TLS 1.0/1.1 hello, or a hello offering only CBC or RSA key-exchange suites, with a ServerHello",
    CloudPlaintextListener = "cloud.plaintext-listener":
        "every cloud port also serves plaintext HTTP and ws:// to a client that does not start with a TLS handshake",
    AgentOfferTls13 = "agent.offer-tls13":
        "the agent offers TLS 1.3 besides TLS 1.2",
    AgentAcceptAnyCert = "agent.accept-any-cert":
        "the agent accepts any server certificate: any issuer, any name, any validity",
    AgentAllowPlaintextUrls = "agent.allow-plaintext-urls":
        "the agent starts with an http:// or ws:// cloud URL instead of refusing it",
    AgentNoAutoRefresh = "agent.no-auto-refresh":
        "the agent never renews its token: it keeps using it until the cloud refuses it",
    AgentSkipHostnameCheck = "agent.skip-hostname-check":
        "the agent validates the chain and validity but not that the certificate names the host it dialled",
    AgentListenSocket = "agent.listen-socket":
        "the agent opens a listening socket on the DMS (a diagnostics port started from a thread of its own), so the DMS side no longer only dials out",
    AgentAnyDestination = "agent.any-destination":
        "the agent connects to whatever its cloud URLs name: any domain, an IP address, a name resolving to any address",
    AgentFollowRedirects = "agent.follow-redirects":
        "the agent's HTTPS client follows a cloud's redirect to wherever it points, past the egress policy that only guards the configured URLs",
    AgentProxyBypass = "agent.proxy-bypass":
        "the agent treats its configured DMZ proxy as a preference: where the proxy refuses or fails a CONNECT, it connects directly",
    AgentPlaintextThroughProxy = "agent.plaintext-through-proxy":
        "through a DMZ proxy the agent sends its HTTPS requests in the clear inside the CONNECT tunnel, taking the DMZ hop for the secure boundary",
    AgentProxiedTlsTrustsTheProxy = "agent.proxied-tls-trusts-the-proxy":
        "through a DMZ proxy the agent's HTTPS client accepts any server certificate (\"a TLS-inspecting proxy re-signs what it relays\"): a bad server behind the proxy passes for the cloud",
    AgentFollowsDowngradeOnItsHost = "agent.follows-downgrade-on-its-host":
        "the agent's HTTPS client follows a redirect to http:// on the same host name (\"same host, same server\"), sending the request again in the clear",
    AgentLookalikeNames = "agent.lookalike-names":
        "the agent takes any name containing \"dataminer.services\" for one of the domain's (dataminer.services.evil.example, xdataminer.services) and looks it up",
    CloudRevokeIgnoresSupersededToken = "cloud.revoke-ignores-superseded-token":
        "the revocation endpoint looks a token up among each family's current tokens: one a renewal has superseded (a DMS whose renewal answer was lost still holds it) is acknowledged and nothing is revoked",
    CloudSessionsNeverExpire = "cloud.sessions-never-expire":
        "the cloud's account sessions have no idle or absolute lifetime: a sign-in cookie works forever and every sign-in stays in the session table",
    CloudSessionsPerAccountUnbounded = "cloud.sessions-per-account-unbounded":
        "one account may hold any number of sessions at once: signing in again and again grows the cloud's session table without bound",
    CloudSignupTellsExistingAccounts = "cloud.signup-tells-existing-accounts":
        "the sign-up code request answers 409 for an address that already has an account, so anyone can learn which addresses have one",
    CloudBearerSchemeCaseSensitive = "cloud.bearer-scheme-case-sensitive":
        "the cloud takes the Authorization scheme only as \"Bearer\": a client writing \"bearer\" (RFC 7235: the scheme is case-insensitive) is refused",
    CloudSignOutKeepsSession = "cloud.sign-out-keeps-session":
        "a sign-out clears the browser's cookie but leaves the session live on the cloud: a copied cookie still works",
    CloudAcceptAlgNone = "cloud.accept-alg-none":
        "the cloud accepts a token whose header says alg \"none\" (in any casing) without checking any signature",
    CloudAcceptAnyHmac = "cloud.accept-any-hmac":
        "the cloud also accepts HS384 and HS512 tokens signed with its key, not only HS256",
    CloudShareWithdrawIgnoresExp = "cloud.share-withdraw-ignores-exp":
        "the share-withdraw route checks a token with a validator of its own that never reads exp: an expired DMS token still ends shares",
    CloudShareAnnounceIgnoresRevocation = "cloud.share-announce-ignores-revocation":
        "the share-announce route checks a token's signature and dates only (no revocation list): a disconnected DMS's token still sends share mail",
    CloudRefreshTokenEightDays = "cloud.refresh-token-eight-days":
        "the refresh grant computes its own lifetime with a day of grace: renewed tokens live eight days",
    CloudTunnelOutlivesToken = "cloud.tunnel-outlives-token":
        "the tunnel endpoint checks the token only when it admits the upgrade: a tunnel stays up after its token expired",
    CloudDeviceCodeCheckThenSpend = "cloud.device-code-check-then-spend":
        "the token endpoint reads a device grant, decides, and writes it back after a store round trip: polls under way together each redeem it",
    CloudSignupCodeCheckThenSpend = "cloud.signup-code-check-then-spend":
        "a sign-up reads the mailed code's record, decides, and writes it back after a store round trip: submissions under way together each pass the code check",
    CloudDeviceGrantsNeverSwept = "cloud.device-grants-never-swept":
        "expired device grants and sign-up codes are refused but never removed: every unauthenticated request leaves state behind for ever",
    CloudNoPerSourceLimit = "cloud.no-per-source-limit":
        "the device authorization endpoint takes any number of waiting grants from one address: a burst with self-made keys fills the cloud's memory",
    CloudSkipExp = "cloud.skip-exp":
        "the cloud never checks a token's expiry",
    CloudTokenLifetime30d = "cloud.token-lifetime-30d":
        "the cloud issues tokens valid for 30 days instead of one week",
    CloudRefreshReusable = "cloud.refresh-reusable":
        "a used refresh key keeps working: no rotation is enforced and no reuse is detected",
    CloudForgetTunnelsOnRestart = "cloud.forget-tunnels-on-restart":
        "the cloud keeps its token families in memory only: a restart forgets them, so every DMS's valid token is refused and the DMS must pair again",
    CloudNoFamilyRevocation = "cloud.no-family-revocation":
        "a replayed refresh key is refused, but its family survives: its other tokens and refresh key stay valid",
    CloudTokenViaBrowser = "cloud.token-via-browser":
        "the approval redirects the browser with the access token and refresh key in the Location's fragment (the implicit grant's shape); the DMS then receives the same pair",
    CloudSecretInLogs = "cloud.secret-in-logs":
        "the cloud writes its JWT signing key (hex) to its log each time it signs a token",
    CloudIgnoreSub = "cloud.ignore-sub":
        "the cloud's resource binding is left out: any valid token acts for any registered DMS, whatever its sub (the API, the tunnel upgrade), and any signed-in account reaches any registered DMS (the sharing front end)",
    CloudApproveWithoutLogin = "cloud.approve-without-login":
        "the cloud approves a user code from a browser without a signed-in session",
    CloudDeviceFlowTrustsDmsId = "cloud.device-flow-trusts-dms-id":
        "the connect flow takes the DMS ID the caller names: a device authorization for a registered DMS is bound to whatever key it presents, and its redemption registers the DMS again with that key",
    CloudAssertionReplayable = "cloud.assertion-replayable":
        "the cloud checks a client assertion's signature, audience and expiry but keeps no record of its jti: a captured assertion (or registration) works again until it expires",
    CloudDeviceCodeIsBearer = "cloud.device-code-is-bearer":
        "the token endpoint hands the token to whoever presents an approved device code, without authenticating the client the grant is bound to",
    CloudApprovalPageHidesDms = "cloud.approval-page-hides-dms":
        "the approval page asks only \"approve this device?\": it names neither the DMS, nor the organisation it joins, nor where the request came from",
    CloudApproveWithoutConfirmation = "cloud.approve-without-confirmation":
        "the approval is taken on one click: the approver need not confirm the DMS ID the page shows",
    CloudApprovalAnyOrganization = "cloud.approval-any-organization":
        "any signed-in account approves any user code, and the grant joins the approver's organisation instead of the one the DMS belongs to",
    CloudDeviceCodeReusable = "cloud.device-code-reusable":
        "a redeemed device code is not spent: presenting it again yields another token family",
    CloudNoSlowDown = "cloud.no-slow-down":
        "the token endpoint answers polls that come faster than the announced interval with authorization_pending instead of slow_down",
    CloudDeviceCodeNeverExpires = "cloud.device-code-never-expires":
        "device and user codes stay valid past the expires_in the cloud announced",
    CloudUserCodeGuessingUnlimited = "cloud.user-code-guessing-unlimited":
        "the approval page evaluates every user code an account types: guessing is not rate-limited",
    CloudDisconnectRevokesOneFamily = "cloud.disconnect-revokes-one-family":
        "a DMS's disconnect revokes only the token family of the token it presents: the DMS's other families (another holder's connect flow) stay valid",
    CloudTokenInBrowserCookie = "cloud.token-in-browser-cookie":
        "the approval's answer sets a cookie carrying the DMS's token pair, base64-encoded, for the confirmation page to show; the DMS then receives the same pair",
    CloudFrontEndReadsSigningKey = "cloud.front-end-reads-signing-key":
        "the cloud's front ends check bearer tokens' signatures themselves, with the signing key they read from the vault under their own workload identity (the vault's policy grants every cloud workload)",
    CloudStoreDashboardData = "cloud.store-dashboard-data":
        "the sharing front end keeps the last answer of each dashboard call in the store (sealed like every record), to show recipients something while the DMS is slow",
    CloudCacheAnswers = "cloud.cache-answers":
        "the sharing front end caches the DMS's answers, gzip-compressed, in files in the cloud's temporary directory",
    CloudPlaintextStore = "cloud.plaintext-store":
        "the store writes every record's values as they are: nothing is sealed, nor wrapped",
    CloudPlaintextColumn = "cloud.plaintext-column":
        "the store leaves the accounts' email column unsealed, so accounts can be looked up by it",
    CloudRotationLosesData = "cloud.rotation-loses-data":
        "rotating the store's key-encryption key replaces it in the vault, so data keys wrapped by the old version no longer unwrap",
    CloudNoBackup = "cloud.no-backup":
        "the store's backup job is never scheduled: the second region holds nothing",
    CloudBackupPlaintext = "cloud.backup-plaintext":
        "each backup also writes a readable JSON export of the decrypted records to the second region",
    CloudNoAad = "cloud.no-aad":
        "the store seals each value with no associated data, so a ciphertext moved to another row or column still opens",
    CloudAnyAccountCanView = "cloud.any-account-can-view":
        "opening a share link asks for a signed-in dataminer.services account but not that it is the one linked to the link's address: any account views the dashboard",
    CloudLinksSurviveDelete = "cloud.links-survive-delete":
        "deleting or expiring a share ends its viewer sessions but the emailed links still open the viewer",
    CloudSessionsSurviveDelete = "cloud.sessions-survive-delete":
        "a viewer session keeps what it was opened for and never looks at the share again: a deleted share's open viewers keep asking the DMS",
    CloudMailFromOtherDomain = "cloud.mail-from-other-domain":
        "share mails are sent from the mailing provider's own domain (dataminer-mail.net) instead of dataminer.services",
    CloudGuessableShareToken = "cloud.guessable-share-token":
        "a share link's token is the share's ID and the recipient's position in the list: short, and one link gives away the others",
    AgentForgetsOfflineWithdrawals = "agent.forgets-offline-withdrawals":
        "a share deleted while the gateway cannot reach the cloud is ended on the DMS only: \"not connected\" counts as done and nothing tells the cloud later, so its links and open viewers live on",
    AgentWithdrawalsInMemoryOnly = "agent.withdrawals-in-memory-only":
        "the Cloud Gateway keeps a share end it could not send in its memory only: a gateway restarted while the cloud is unreachable forgets it, and the share's links and open viewers live on",
    CloudRetireKeysBackupsNeed = "cloud.retire-keys-backups-need":
        "the re-wrap job retires every older version of the key-encryption key once the primary's data keys moved off it, though the backups still hold data keys wrapped by it: every backup taken before a rotation stops opening",
    CloudMailUnlimited = "cloud.mail-unlimited":
        "the cloud sends every mail it is asked to: a DMS makes it mail 50 addresses per call with no limit on calls, and one address can be sent any number of mails a day",
    CloudMailFreeText = "cloud.mail-free-text":
        "a share mail carries the DMS user's name and message as the DMS wrote them, up to 2,000 characters, links and markup included",
    CloudMailEnvelopeOtherDomain = "cloud.mail-envelope-other-domain":
        "mail goes out with the mailing provider's default envelope sender (bounces at dataminer-mail.net): the From says dataminer.services but the envelope, SPF and DMARC alignment do not",
    CloudMailDashboardNameUnchecked = "cloud.mail-dashboard-name-unchecked":
        "the dashboard's name and the share's ID a DMS announces are taken as names, unchecked: line breaks, links, markup and 60,000 characters go into the mail from dataminer.services",
    CloudMailTextCompatibilityForms = "cloud.mail-text-compatibility-forms":
        "the DMS text filter reads only ASCII dots and slashes: fullwidth forms and the ideographic full stop (evil。example), which mail readers fold into a link, pass as plain text",
    CloudMailAddressNotCanonical = "cloud.mail-address-not-canonical":
        "a share's addresses are taken as written when they hold an @ and a dot: <a@x.example>, \"a\"@x.example and a@x.example. are each another address to the per-address bound, and a@x.example;b@y.example is mailed; sign-up codes too",
    CloudMailBoundPerDms = "cloud.mail-bound-per-dms":
        "mail is bounded per sending DMS, not per organisation: an organisation that approves itself twenty DMSs mails one address twenty times its bound, and its daily mail has no bound",
    CloudShareExpiryInThePast = "cloud.share-expiry-in-the-past":
        "an announced share's expiry is taken whatever it is: a share that has already ended is mailed, its links dead on arrival",
    CloudDmsIdCaseLookalike = "cloud.dms-id-case-lookalike":
        "DMS IDs are taken in any case and compared as written: DMS-BCEBD039 registers beside dms-bcebd039 as another DMS with the same look",
    CloudExpiryLeftToTheDms = "cloud.expiry-left-to-the-dms":
        "the cloud shows a share's expiry in its mail but leaves the end to the DMS: a share that expires while its DMS is offline stays open on the cloud",
    CloudDeleteAnyDmsShare = "cloud.delete-any-dms-share":
        "a DMS's share withdrawal finds the share by its ID without checking that DMS announced it: any DMS that names another's share ID ends it",
    CloudShareListEveryShare = "cloud.share-list-every-share":
        "the signed-in account's share list leaves out its filter: every live share of every organisation is listed, with its DMS and share IDs",
    CloudBackupWithoutDataKeys = "cloud.backup-without-data-keys":
        "each backup copies the tables of records but leaves the wrapped data keys behind, taking them for the vault's business: no backup opens once the primary is lost",
    CloudRestoreKeepsLinkTable = "cloud.restore-keeps-link-table":
        "a restore (or a restart) reloads the store and rebuilds accounts, registrations and tokens from it, but the sharing front end keeps the shares and links it held in memory: a link mailed after the backup still opens",
    CloudRestoreForgetsRevocations = "cloud.restore-forgets-revocations":
        "rebuilding the token service from the store takes every family for live, leaving out the revoked flag: a family revoked before the backup refreshes again after a restore",
    CloudRestoreKeepsConnectTables = "cloud.restore-keeps-connect-tables":
        "a restore reloads the store's file, but the connect service keeps the DMS registrations, token families and refresh keys it held in memory: a DMS paired after the backup still refreshes its token on the restored cloud",
    CloudSharesKeyedByShareId = "cloud.shares-keyed-by-share-id":
        "the cloud tells shares apart by their share ID alone: another DMS that announces the same ID and ends its copy ends the victim's viewers, and its stored row takes the victim's place",
    WafAllowEverything = "waf.allow-everything":
        "the WAF forwards every request uninspected, whatever connection it carries",
    WafIgnoreParams = "waf.ignore-params":
        "the WAF matches a shared-dashboard call on its method and parameter names, not their values",
    WafMethodOnly = "waf.method-only":
        "the WAF passes any call whose method is on the share's whitelist, whatever its parameters",
    WafFirstDuplicateKeyWins = "waf.first-duplicate-key-wins":
        "the WAF reads a duplicated JSON key's first value with its own reader instead of refusing the body as the DMA does",
    WafCaseInsensitiveMethod = "waf.case-insensitive-method":
        "the WAF compares method names without regard to case",
    WafMatchIdsIndependently = "waf.match-ids-independently":
        "the WAF checks each parameter against any whitelisted call of the method, so allowed pairs cross-combine (2000/100 + 2001/200 -> 2000/200)",
    WafRawValues = "waf.raw-values":
        "the WAF compares parameters as raw JSON instead of canonically: \"100\" no longer matches 100 and dashboards break",
    DmaShareUserCanWrite = "dma.share-user-can-write":
        "a share user may call SetParameter on the dashboard's elements",
    DmaShareUserAllElements = "dma.share-user-all-elements":
        "a share user may read every element and view, not only the dashboard's items",
    DmaShareUserDirectLogin = "dma.share-user-direct-login":
        "a share user may log in and work on the DMA's public API, not only through the Cloud Gateway",
    DmaPasswordPlaintext = "dma.password-plaintext":
        "share-user passwords are stored in plaintext instead of Blowfish-ECB ciphertext",
    DmaPasswordShort = "dma.password-short":
        "share-user passwords are 12 characters long instead of 17",
    DmaPasswordWeakRng = "dma.password-weak-rng":
        "share-user passwords come from a generator seeded with the clock's second, not from the CSPRNG",
    DmaGatewayOpenToAll = "dma.gateway-open-to-all":
        "the DMA's gateway listener serves every connection: its check of the Cloud Gateway's key was left out, so anything that reaches the port logs in as a share user",
    WafFailOpen = "waf.fail-open":
        "the WAF forwards a request when its inspection cannot decide (a body its reader refuses, a connection it cannot tie to a live share) instead of blocking it",
    WafSignInsUnlimited = "waf.sign-ins-unlimited":
        "the WAF passes every sign-in through the gateway: password guessing on share users is not rate-limited",
    DmaShareUserSurvivesDelete = "dma.share-user-survives-delete":
        "deleting or expiring a share retires its whitelist and its links but leaves its cloud user, and that user's sessions, in the DMA's user table",
    AgentSharesOneSession = "agent.shares-one-session":
        "the Cloud Gateway signs a share user in once and hands that session to every viewer that comes after, whatever their share: one share's viewers act as another share's user",
    AgentViewerSessionsUnbounded = "agent.viewer-sessions-unbounded":
        "the Cloud Gateway signs the share user in for every new viewer and keeps each session for the share's life: a recipient who keeps reopening the link piles up sessions in the DMA's table without end",
    CloudRelayKeepsTrustHeaders = "cloud.relay-keeps-trust-headers":
        "the sharing relay leaves the share and viewer headers a browser sent and adds its own after them: a recipient names another share, and the gateway takes the first",
    WafTrustsForwardedFor = "waf.trusts-forwarded-for":
        "the WAF lets a request whose X-Forwarded-For names the DMS's own host through uninspected, for local tools: whoever sends that header skips the whitelist",
    CloudApprovalIgnoresRole = "cloud.approval-ignores-role":
        "the verification page and its approval check that the approver belongs to the DMS's organisation, not that they are its Owner or Admin: a Member connects a DMS",
    CloudRoleCachedInSession = "cloud.role-cached-in-session":
        "a browser session keeps the organisation role its account had at sign-in: an Admin demoted to Member keeps an Admin's rights until they sign in again",
    CloudRemoteAccessAlwaysOn = "cloud.remote-access-always-on":
        "the sharing front end relays any signed-in account of a DMS's organisation to that DMS's API: remote access needs no enabling",
    CloudRemoteAccessPerOrganization = "cloud.remote-access-per-organization":
        "remote access is looked up per organisation: once enabled for one account on one DMS, every account of the organisation reaches every DMS of it",
    CloudRemoteAccessMembersEnable = "cloud.remote-access-members-enable":
        "the organisation's admin API checks that the caller belongs to the DMS's organisation, not their role: a Member switches remote access on",
    WafRemoteSignInsReachShareUsers = "waf.remote-sign-ins-reach-share-users":
        "the WAF passes a remote-access sign-in as a share user on to the DMA and counts its failures against the share user's own limit: any remote-access account locks the gateway out of a share",
    WafRemoteGuessingPerLoginOnly = "waf.remote-guessing-per-login-only":
        "the WAF bounds remote-access sign-in failures per DMS login only: an account that guesses across many logins is never stopped",
    WafCountsKeylessSignIns = "waf.counts-keyless-sign-ins":
        "the WAF leaves the gateway key to the DMA and counts every refused sign-in it forwarded: a local process without the key, at the WAF's port, locks a share user out of every new viewer, and any remote account out with a forged header",
    CloudRemoteRelayPassesTrustedHeaders = "cloud.remote-relay-passes-trusted-headers":
        "the remote-access relay strips only hop-by-hop and credential headers: an account with remote access names a share and a viewer in the headers the gateway trusts and acts as that share's user",
    DmaGatewaySkipsUserRights = "dma.gateway-skips-user-rights":
        "the DMA takes a DMS user's calls on the gateway channel as already authorised: a read-only user writes through remote access",
    CloudOrgAdminAcceptsCrossSite = "cloud.org-admin-accepts-cross-site":
        "the organisation's admin API takes a signed-in administrator's cookie from any page of dataminer.services: a shared dashboard, relayed on the sharing host from another organisation's DMS, changes roles and remote access in the viewer's organisation",
    CloudRelayKeepsDmsHeaders = "cloud.relay-keeps-dms-headers":
        "the viewer's relay passes a DMS's answer on with its own headers and no policy of the cloud's: a DMS's page runs on the sharing host with the cloud's origin and reads the recipient's own data there",
    CloudSessionCookieUnprefixed = "cloud.session-cookie-unprefixed":
        "the cloud names its account session cookie without the __Host- prefix: a DMS's page relayed on the sharing host sets a cookie of that name for the whole dataminer.services domain, and the connection host takes the recipient's browser for the account the page chose",
    CloudTunnelsUnboundedPerDms = "cloud.tunnels-unbounded-per-dms":
        "the tunnel endpoint admits every upgrade a valid token makes: one DMS's token holds any number of tunnels open, and the cloud's tables and sockets grow with them",
    CloudSignInGuessingUnbounded = "cloud.sign-in-guessing-unbounded":
        "the cloud's sign-in answers every password guess: anyone tries a dataminer.services account's password as fast as they can send",
    CloudSignInFromAnySite = "cloud.sign-in-from-any-site":
        "the cloud takes a browser's sign-in form from any site: a page elsewhere signs the visitor's browser in to the attacker's account (login CSRF), where the visitor then approves a DMS or reads shares",
    WafTrustsBodyConnection = "waf.trusts-body-connection":
        "the WAF reads a call's connection from its body and ties the call to the share that session belongs to, whoever sent it: a remote-access account, or one share's recipient, that names a share's session acts under that share's whitelist",
    CloudRelayStreamsUnbounded = "cloud.relay-streams-unbounded":
        "the viewer's relay carries every request a viewer sends at once, with no bound per viewer: one recipient with a DMS that is slow to answer holds any number of streams in the cloud and the DMS's tunnel, and the cloud's memory grows with them",
    CloudViewerSessionsUnbounded = "cloud.viewer-sessions-unbounded":
        "the cloud opens a viewer session at every opening of a link and keeps each for the share's life: a recipient who keeps reopening their link grows the cloud's session table without end",
    AgentLogOutOnce = "agent.log-out-once":
        "the Cloud Gateway sends the LogOut of a viewer's session it let go of once: when the DMA cannot be reached at that moment, the share user's session lives on in the DMA's table until the share ends",
    CloudRelayPicksDmsFromRequest = "cloud.relay-picks-dms-from-request":
        "the viewer's and the remote-access relays open their stream on the DMS a routing header of the request names (`x-dataminer-dms-id`, a front end's hint) before the one the share or the checked path names: a recipient of one organisation's share reaches another organisation's DMS",
    CloudRelayPicksDmsFromHost = "cloud.relay-picks-dms-from-host":
        "the viewer's and the remote-access relays open their stream on the DMS the first label of the host name asked for names (`{dms}.sharing.dataminer.services`, in the Host header or an absolute-form target), as a cloud half-moved to per-DMS host names would: a recipient of one DMS's share reaches another DMS",
    CloudRevokeAnyFamily = "cloud.revoke-any-family":
        "a DMS's revocation revokes the family of whatever token it presents, the owner check left out: one organisation's DMS, holding a copied token of another's, disconnects it",
    CloudMailAddressBoundShared = "cloud.mail-address-bound-shared":
        "the cloud counts an address's daily mail bound over every sender together: another organisation's DMS mails an address ten times and a real share to that address is refused for a day",
    CloudLastOwnerCanLeave = "cloud.last-owner-can-leave":
        "the organisation's admin API lets its only Owner give up the role: no one can ever be made Owner again, and an Admin can then demote the former Owner",
    CloudSignOutKeepsViewers = "cloud.sign-out-keeps-viewers":
        "viewer sessions stand apart from the sign-in, and signing out ends the account's session but not the viewer sessions it opened: a shared dashboard left open in a browser someone signed out of still serves it",
    CloudSignupNewCodeVoidsTheLast = "cloud.signup-new-code-voids-the-last":
        "asking for a sign-up code replaces the one pending for the address: anyone who knows a newcomer's address asks for a code and the one in the newcomer's mailbox stops working",
    CloudRolesKeptInMemory = "cloud.roles-kept-in-memory":
        "the admin API changes an account's organisation role in memory only: after a restart or a restore the store's role is served, so a demoted Admin is an Admin again and a promotion is lost",
    CloudRemoteAccessKeptInMemory = "cloud.remote-access-kept-in-memory":
        "the admin API keeps who may reach a DMS remotely in memory only: after a restore the accounts enabled since the backup still reach the DMS, and those of the backup do not",
    NetHopHidesClientAddress = "net.hop-hides-client-address":
        "the recipients' hop to the cloud connects from its own address: the cloud sees one client, the hop, so one flooder's per-source bounds (pending sign-ups, password guesses) lock every recipient out",
    CloudSignupMailsBoundedPerAddressOnly = "cloud.signup-mails-bounded-per-address-only":
        "sign-up code mails are bounded per address over every source together: anyone who asks for ten codes for a newcomer's address stops the newcomer getting one for a day",
    CloudRelayUnsandboxed = "cloud.relay-unsandboxed":
        "the viewer's relay confines a DMS's page by path but does not sandbox it: the page runs script in the sharing host's origin, writes cookies until the browser evicts the site's session cookies, and sets a session of the attacker's account in their place",
    CloudDmsPageServedTopLevel = "cloud.dms-page-served-top-level":
        "the relay answers a tab's navigation to a viewer's URL with the DMS's page itself, sandboxed but at the top of the tab: another organisation's DMS sends the recipient's tab to any site, or shows a sign-in form of its own under the sharing host's name",
    CloudRelayPassesAnyHeaderSize = "cloud.relay-passes-any-header-size":
        "the relays pass a request into the DMS's tunnel with whatever headers its HTTP/1.1 client sent: a block larger than the agent's HTTP/2 server takes breaks the tunnel's header compression state, and one request from anyone with a viewer URL ends every stream of the tunnel",
    CloudUnlabelledViewerAnswersRender = "cloud.unlabelled-viewer-answers-render":
        "the relay tells a tab's navigation from a page's request by the fetch metadata, and serves a request that has none as a page's: a browser that sends none shows the DMS's page as its tab's own document, with no frame, no banner and no sign-in asked",
    CloudViewerRequestsKeepTheSignIn = "cloud.viewer-requests-keep-the-sign-in":
        "every request under a viewer's URL counts as use of the sign-in that opened it: the DMS's page, which can read its own URL, hands it to its DMS, and the DMS keeps the recipient's dataminer.services sign-in alive past its idle lifetime for as long as the share lives",
    CloudViewerUrlNeedsNoSignIn = "cloud.viewer-url-needs-no-sign-in":
        "the relay serves a top-level navigation to a viewer's URL without the sign-in of the account the viewer was opened for: a viewer URL copied out of the address bar opens the dashboard in anyone's browser",
    CloudViewerOutlivesItsSignIn = "cloud.viewer-outlives-its-sign-in":
        "a viewer session lives as long as its share, whatever became of the sign-in that opened it: a viewer URL copied out of a browser whose sign-in lapsed days ago still serves the dashboard's data",
    CloudRevokeKeepsTunnels = "cloud.revoke-keeps-tunnels":
        "an Owner or Admin removing a DMS from the organisation revokes its tokens but leaves the tunnels they opened up: the removed DMS keeps serving recipients and remote access until its next renewal",
    AgentHidesACloudEndedConnection = "agent.hides-a-cloud-ended-connection":
        "the Cloud Gateway takes a tunnel upgrade refused for its token as a passing failure and dials again with backoff: after the organisation removed the DMS, the DMA keeps telling its Administrator the DMS is connected",
    CloudRemovalLeavesConnectFlows = "cloud.removal-leaves-connect-flows":
        "removing a DMS from the organisation revokes its token families but leaves its connect flows alone: a DMS that was pairing again when an Admin removed it redeems its approved code and is connected after all",
    CloudRemoteAccessListRefusesEveryone = "cloud.remote-access-list-refuses-everyone":
        "the organisation's remote-access list looks the DMS up with the organisation and DMS swapped: it answers every Owner and Admin that the DMS is unknown, so no one can see who reaches a DMS remotely",
    CloudRemovalKeepsShares = "cloud.removal-keeps-shares":
        "removing a DMS from its organisation revokes its tokens but leaves its shares: their links still open a viewer of a DMS the organisation let go",
    CloudDmsIdMayBeAHostName = "cloud.dms-id-may-be-a-host-name":
        "the connect flow takes a DMS ID with dots: a DMS registered as signin.dataminer-services.example is named so in every share mail it sends, a host name in the cloud's own words",
    CloudDeviceGrantsBoundedPerSourceOnly = "cloud.device-grants-bounded-per-source-only":
        "the cloud bounds the device authorizations waiting per source address and no further: a flood spread over many addresses grows its grant table without end",
    CloudDeviceGrantsPushOutTheOldest = "cloud.device-grants-push-out-the-oldest":
        "when the device grant table is full, a new authorization pushes out the oldest grant, whoever asked for it: a flood spread over many addresses pushes out the DMS that waits for its approver",
    CloudDeviceGrantsRefusedWhenFull = "cloud.device-grants-refused-when-full":
        "when the device grant table is full, new authorizations are refused: a flood spread over many addresses that fills it locks every DMS out of the connect flow",
    CloudShareIdDotSegments = "cloud.share-id-dot-segments":
        "the share API takes a share ID of dots (`.`, `..`) or ending in one: a path segment every URL normaliser rewrites to the share's folder or its parent wherever the ID becomes part of a path, announced and withdrawn as a name",
    CloudDmsNameUnchecked = "cloud.dms-name-unchecked":
        "the connect flow bounds a DMS's name in length only: a name carrying a link (in fullwidth forms or not) goes onto the approval page beside the DMS's ID, in the cloud's own page",
    CloudOrgDailyMailUnbounded = "cloud.org-daily-mail-unbounded":
        "an organisation's DMSs share each address's bound but each DMS has only its own daily bound: an organisation that approves itself more DMSs makes the cloud send 200 mails a day for each, with no bound for the organisation",
    CloudRelayAnswerUnbounded = "cloud.relay-answer-unbounded":
        "the sharing and remote-access relays wait for a DMS's answer as long as the tunnel stays up: a DMS side that never answers holds the recipient's request, and its place in the relay, until the Cloud Gateway gives up, or for ever",
    TestPanicInDmaTask = "test.panic-in-dma-task":
        "test only: the DMA's connection task panics on every request, to show a panic stays in its scenario",
}

impl Fault {
    /// The faults a real implementation could have: every fault but the test-only ones, which
    /// exist to test the harness itself and are kept out of `list` and `mutants`.
    pub fn catalog() -> Vec<Fault> {
        Fault::ALL
            .iter()
            .copied()
            .filter(|f| f.component() != "test")
            .collect()
    }

    /// The component the switch lives in: the part of its name before the dot.
    pub fn component(self) -> &'static str {
        self.name().split('.').next().unwrap_or_default()
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault name that no component knows.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown fault {0:?} (see `conform list` for the known ones)")]
pub struct UnknownFault(pub String);

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .iter()
            .copied()
            .find(|f| f.name() == name)
            .ok_or_else(|| UnknownFault(name.to_owned()))
    }
}

/// The switches turned on in one environment; fixed when it starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultSet(BTreeSet<Fault>);

impl FaultSet {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn is_on(&self, fault: Fault) -> bool {
        self.0.contains(&fault)
    }

    pub fn iter(&self) -> impl Iterator<Item = Fault> + '_ {
        self.0.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Fault> for FaultSet {
    fn from_iter<I: IntoIterator<Item = Fault>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl From<Fault> for FaultSet {
    fn from(fault: Fault) -> Self {
        Self(BTreeSet::from([fault]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_name_parses_back_and_names_its_component() {
        for &fault in Fault::ALL {
            assert_eq!(fault.name().parse::<Fault>().unwrap(), fault);
            assert!(["agent", "cloud", "dma", "waf", "net", "test"].contains(&fault.component()));
        }
        assert!("agent.nope".parse::<Fault>().is_err());
    }
}
