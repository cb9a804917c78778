//! `conform store decrypt` on every backup of a running `conform env up` after its clock was
//! moved through two key rotations and their re-wraps (`POST /control/advance`): each replica
//! file still opens whole (DR-1 with ENC-2), and with the re-wrap retiring what the backups
//! need (`cloud.retire-keys-backups-need`) the older ones do not, with exit code 1.

mod env_process;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use env_process::EnvUp;
use serde_json::Value;

impl EnvUp {
    /// Moves the clock as a reviewer does, one step after another.
    async fn advance(&self, steps: &[&str]) {
        let http = reqwest::Client::new();
        for by in steps {
            let answer = http
                .post(self.control("advance"))
                .json(&serde_json::json!({ "by": by }))
                .send()
                .await
                .expect("advance answers");
            assert_eq!(answer.status(), 200, "advance by {by}");
        }
    }

    /// Every backup in the second region, oldest first.
    fn backups(&self) -> Vec<PathBuf> {
        let replica = self.line["store"]["replica"]
            .as_str()
            .expect("replica path");
        let mut found: Vec<PathBuf> = std::fs::read_dir(replica)
            .expect("the second region is a directory")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "sqlite"))
            .collect();
        found.sort();
        found
    }

    /// `conform store decrypt --db FILE`'s exit code for each backup.
    fn decrypt_each(&self) -> Vec<(String, Option<i32>)> {
        self.backups()
            .iter()
            .map(|file| {
                let status = Command::new(env!("CARGO_BIN_EXE_conform"))
                    .args(["store", "decrypt", "--control", &self.control("")])
                    .arg("--db")
                    .arg(file)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .expect("conform store decrypt runs");
                (file.display().to_string(), status.code())
            })
            .collect()
    }
}

/// A day in, through one rotation (day 30) and its re-wrap, then through a second one.
const THROUGH_TWO_ROTATIONS: &[&str] = &[
    "1d", "7d", "7d", "7d", "7d", "2d", "2d", "7d", "7d", "7d", "7d", "2d",
];

#[tokio::test]
async fn every_backup_opens_with_store_decrypt_after_two_rotations() {
    let env = EnvUp::start(&["--connected", "--speed", "0"]);
    env.advance(THROUGH_TWO_ROTATIONS).await;
    let state: Value = reqwest::get(env.control("state"))
        .await
        .expect("state answers")
        .json()
        .await
        .expect("state is JSON");
    let decrypted = env.decrypt_each();
    assert!(decrypted.len() >= 10, "{decrypted:?}");
    assert!(
        decrypted.iter().all(|(_, code)| *code == Some(0)),
        "every backup opens: {decrypted:?}, store {}",
        state["store"]
    );
}

#[tokio::test]
async fn retiring_what_the_backups_need_leaves_the_older_backups_unopened() {
    let env = EnvUp::start(&[
        "--connected",
        "--speed",
        "0",
        "--fault",
        "cloud.retire-keys-backups-need",
    ]);
    env.advance(THROUGH_TWO_ROTATIONS).await;
    let decrypted = env.decrypt_each();
    let refused: Vec<_> = decrypted
        .iter()
        .filter(|(_, code)| *code == Some(1))
        .collect();
    assert!(!refused.is_empty(), "{decrypted:?}");
    assert_eq!(decrypted.last().map(|(_, code)| *code), Some(Some(0)));
}
