//! The cloud side swept by an attacker with an account of another organisation (TEN-1,
//! SHARE-5, MAIL-2, DR-1 with ENC-2): another tenant's DMS announcing and ending the victim's
//! share IDs (`tenants`) and every other object it keys by an ID (`keyed`), shares ended in
//! every state (`offline`), the cloud's
//! mail as a relay (`mail`), and backups across key rotations (`backups`). Each scenario
//! sits in the suite of what it judges; the expected values are the spec's data and the
//! scenario's own reading of what the far side kept.

mod backups;
mod keyed;
mod keyed_row;
mod keyed_tokens;
mod mail;
mod mail_bounds;
mod mail_fields;
mod offline;
mod relay;
mod restore;
mod share_ids;
mod tenants;

use mocks::world::Fault;

use crate::{Catch, Scenario, Suite};

pub(crate) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "sharing.nothing-reaches-another-organisations-dms",
            suite: Suite::Sharing,
            title: "With two organisations' DMSs live, a recipient of the first's share (with remote access to its DMS) names the other DMS in the path, encoded climbs out of the link, absolute-form targets, the Host header and routing headers, through the viewer's relay and remote access: the other DMS's agent receives no stream and its DMA sees nothing",
            requirements: &["TEN-1"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudRelayPicksDmsFromRequest,
                        "nothing-reaches-the-other-dms",
                    ),
                    Catch::by(
                        Fault::CloudRelayPicksDmsFromHost,
                        "nothing-reaches-the-other-dms",
                    ),
                ]
            },
            body: |ctx| Box::pin(relay::nothing_reaches_another_organisations_dms(ctx)),
        },
        Scenario {
            id: "sharing.another-organisation-cannot-end-a-share",
            suite: Suite::Sharing,
            title: "Another organisation's DMS that announces a victim's share ID, then deletes it or lets it expire, ends nothing of the victim's: its viewer, its link and its stored row stay",
            requirements: &["TEN-1", "SHARE-5"],
            catches: const {
                &[Catch::by(
                    Fault::CloudSharesKeyedByShareId,
                    "victims-viewer-survives-another-orgs-end",
                )]
            },
            body: |ctx| Box::pin(tenants::another_organisation_cannot_end_a_share(ctx)),
        },
        Scenario {
            id: "sharing.a-share-deleted-offline-ends-when-the-dms-is-back",
            suite: Suite::Sharing,
            title: "A share deleted while its DMS cannot reach the cloud (API unreachable, mid-renewal, across a cloud restart, across a restart of the DMS's gateway, gateway disconnected) ends on the cloud as soon as the DMS is back, one that expires meanwhile ends at its expiry, and the DMA tells its user an end is pending",
            requirements: &["SHARE-5"],
            catches: const {
                &[
                    Catch::by(
                        Fault::AgentForgetsOfflineWithdrawals,
                        "share-deleted-offline-ends-when-the-dms-is-back",
                    ),
                    Catch::by(
                        Fault::AgentWithdrawalsInMemoryOnly,
                        "share-deleted-offline-ends-when-the-dms-is-back",
                    ),
                    Catch::by(
                        Fault::CloudExpiryLeftToTheDms,
                        "share-expired-offline-ends-on-the-cloud",
                    ),
                    Catch::by(
                        Fault::CloudLinksSurviveDelete,
                        "share-deleted-offline-ends-when-the-dms-is-back",
                    ),
                    Catch::by(
                        Fault::CloudSessionsSurviveDelete,
                        "share-deleted-offline-ends-when-the-dms-is-back",
                    ),
                ]
            },
            body: |ctx| {
                Box::pin(offline::a_share_deleted_offline_ends_when_the_dms_is_back(
                    ctx,
                ))
            },
        },
        Scenario {
            id: "storage.every-backup-opens-after-key-rotations",
            suite: Suite::Storage,
            title: "Backed up four times a day through two key rotations and their re-wraps, every backup in the second region still opens whole, and with the primary lost the cloud reads every table of the restored newest backup as it was",
            requirements: &["DR-1", "ENC-2"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudRetireKeysBackupsNeed,
                        "every-backup-opens-after-rotations",
                    ),
                    Catch::by(
                        Fault::CloudBackupWithoutDataKeys,
                        "every-backup-opens-after-rotations",
                    ),
                    Catch::by(
                        Fault::CloudRotationLosesData,
                        "every-backup-opens-after-rotations",
                    ),
                ]
            },
            body: |ctx| Box::pin(backups::every_backup_opens_after_rotations(ctx)),
        },
        Scenario {
            id: "storage.a-restore-brings-back-the-cloud-of-the-backup",
            suite: Suite::Storage,
            title: "After backup, changes and the primary's loss, the cloud restored from the second region serves what it served at the backup and nothing after: the DMS's tunnel, the link of the backup (not a later one), the family of the backup (not a later one, not a revoked one), the organisation roles and remote-access grants of the backup, and every table of the backup row for row",
            requirements: &["DR-1", "TOK-4", "SHARE-5"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudRestoreKeepsLinkTable,
                        "link-made-after-the-backup-does-not-open",
                    ),
                    Catch::by(
                        Fault::CloudRestoreKeepsConnectTables,
                        "family-issued-after-the-backup-refused",
                    ),
                    Catch::by(
                        Fault::CloudRestoreForgetsRevocations,
                        "family-revoked-before-the-backup-stays-revoked",
                    ),
                    Catch::by(
                        Fault::CloudRolesKeptInMemory,
                        "roles-of-the-backup-are-served",
                    ),
                    Catch::by(
                        Fault::CloudRemoteAccessKeptInMemory,
                        "remote-access-of-the-backup-is-served",
                    ),
                ]
            },
            body: |ctx| Box::pin(restore::a_restore_brings_back_the_cloud_of_the_backup(ctx)),
        },
        Scenario {
            id: "sharing.the-clouds-mail-is-no-relay",
            suite: Suite::Sharing,
            title: "Whatever a DMS of another organisation sends, every mail of every kind comes from dataminer.services in its From and envelope, links only to the cloud's hosts, carries the DMS's text plain and bounded, names the verified organisation, and stays within the limits per DMS and per address",
            requirements: &["MAIL-1", "MAIL-2", "TEN-1"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudMailFromOtherDomain,
                        "every-mail-from-dataminer-services",
                    ),
                    Catch::by(
                        Fault::CloudMailEnvelopeOtherDomain,
                        "envelope-from-dataminer-services",
                    ),
                    Catch::by(
                        Fault::CloudMailFreeText,
                        "dms-text-plain-bounded-and-linking-only-to-the-cloud",
                    ),
                    Catch::by(Fault::CloudMailUnlimited, "mails-per-dms-limited"),
                    Catch::by(
                        Fault::CloudMailAddressBoundShared,
                        "another-tenant-cannot-use-up-an-address",
                    ),
                ]
            },
            body: |ctx| Box::pin(mail::the_clouds_mail_is_no_relay(ctx)),
        },
        Scenario {
            id: "sharing.every-dms-supplied-field-is-plain",
            suite: Suite::Sharing,
            title: "A DMS of another organisation puts a planted line, a link, markup, an overlong value and links in fullwidth forms or with an ideographic full stop in each field it supplies (dashboard name, share ID, message, user's name), announces a share already ended, announces and withdraws shares whose IDs are path segments a normaliser rewrites (`.`, `..`, a trailing dot), and asks to register a DMS ID in another case and a DMS name with a link: no mail carries any of it, as written or as a mail reader folds it, a hostile share ID and an ended share are refused, so are those IDs on both routes, and so are the ID and the name",
            requirements: &["MAIL-2", "TEN-1"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudMailDashboardNameUnchecked,
                        "dashboard-and-share-id-plain-and-bounded",
                    ),
                    Catch::by(
                        Fault::CloudMailTextCompatibilityForms,
                        "no-compatibility-form-of-a-link",
                    ),
                    Catch::by(
                        Fault::CloudShareExpiryInThePast,
                        "no-mail-for-a-share-already-ended",
                    ),
                    Catch::by(
                        Fault::CloudDmsIdCaseLookalike,
                        "dms-id-taken-only-in-lowercase",
                    ),
                    Catch::by(Fault::CloudDmsIdMayBeAHostName, "dms-id-is-no-host-name"),
                    Catch::by(Fault::CloudShareIdDotSegments, "share-id-no-path-segment"),
                    Catch::by(Fault::CloudDmsNameUnchecked, "dms-name-plain"),
                ]
            },
            body: |ctx| Box::pin(mail_fields::every_dms_supplied_field_is_plain(ctx)),
        },
        Scenario {
            id: "sharing.mail-bounds-count-mailboxes-and-organisations",
            suite: Suite::Sharing,
            title: "An organisation with twenty DMSs it approved itself mails one address from each, spells an address every way that reaches the same mailbox, and sends 50-address shares from six DMSs: one address gets at most its daily bound from the organisation, whatever the spelling or the DMS, and the organisation's mail stays within its daily bound",
            requirements: &["MAIL-2", "DOS-1"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudMailAddressNotCanonical,
                        "address-spellings-count-as-one-mailbox",
                    ),
                    Catch::by(
                        Fault::CloudMailBoundPerDms,
                        "mails-per-address-per-organisation-limited",
                    ),
                    Catch::by(
                        Fault::CloudOrgDailyMailUnbounded,
                        "mails-per-organisation-limited",
                    ),
                ]
            },
            body: |ctx| {
                Box::pin(mail_bounds::mail_bounds_count_mailboxes_and_organisations(
                    ctx,
                ))
            },
        },
        Scenario {
            id: "sharing.another-organisation-reaches-nothing-keyed-by-id",
            suite: Suite::Sharing,
            title: "Another organisation's member and full DMS site, naming A's DMS, share, grant, token family, link, viewer session, account and outbox entries by copied, guessed or colliding IDs on every route that takes them, read, change and end nothing of A's",
            requirements: &["TEN-1", "TOK-5", "SHARE-5"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudShareListEveryShare,
                        "another-orgs-share-list-holds-none-of-ours",
                    ),
                    Catch::by(
                        Fault::CloudDeleteAnyDmsShare,
                        "another-org-reaches-nothing-keyed-by-id",
                    ),
                    Catch::by(
                        Fault::CloudSharesKeyedByShareId,
                        "another-org-reaches-nothing-keyed-by-id",
                    ),
                    Catch::by(
                        Fault::CloudAnyAccountCanView,
                        "another-org-reaches-nothing-keyed-by-id",
                    ),
                    Catch::by(
                        Fault::CloudRevokeAnyFamily,
                        "another-org-reaches-nothing-keyed-by-id",
                    ),
                ]
            },
            body: |ctx| Box::pin(keyed::another_organisation_reaches_nothing_keyed_by_id(ctx)),
        },
    ]
}
