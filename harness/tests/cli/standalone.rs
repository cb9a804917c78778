//! The binary on its own: copied away from the checkout and run from elsewhere, it needs
//! nothing of the source tree; `--fixtures DIR` reads a reviewer's copy instead of the
//! built-in fixtures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use super::{one_line_error, scratch, stdout};

/// `conform` copied into its own folder, and a working folder far from the checkout.
struct Installed {
    root: PathBuf,
    binary: PathBuf,
    work: PathBuf,
}

impl Installed {
    fn new(name: &str) -> Installed {
        let root = scratch(&format!("standalone-{name}"));
        let (bin, work) = (root.join("bin"), root.join("work"));
        std::fs::create_dir_all(&bin).expect("bin folder");
        std::fs::create_dir_all(&work).expect("working folder");
        let binary = bin.join("conform");
        std::fs::copy(env!("CARGO_BIN_EXE_conform"), &binary).expect("binary copied");
        Installed { root, binary, work }
    }

    /// Runs the copy in the working folder, with nothing in its environment naming the checkout.
    fn conform(&self, args: &[&str]) -> Output {
        Command::new(&self.binary)
            .args(args)
            .current_dir(&self.work)
            .env_remove("CARGO_MANIFEST_DIR")
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .expect("the copied conform runs")
    }

    /// A copy of the checkout's fixture files (what a reviewer edits), in `name`.
    fn fixtures_copy(&self, name: &str) -> PathBuf {
        let to = self.root.join(name);
        copy_data(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"),
            &to,
        );
        to
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Copies every file under `from` but the crate's code.
fn copy_data(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("copy folder");
    for entry in std::fs::read_dir(from).expect("fixtures folder lists") {
        let path = entry.expect("fixtures folder entry").path();
        let name = path.file_name().expect("a file name");
        if ["src", "Cargo.toml", "build.rs"]
            .iter()
            .any(|code| name == *code)
        {
            continue;
        }
        if path.is_dir() {
            copy_data(&path, &to.join(name));
        } else {
            std::fs::copy(&path, to.join(name)).expect("fixture copied");
        }
    }
}

fn edit_json(path: &Path, change: impl FnOnce(&mut Value)) {
    let text = std::fs::read(path).expect("fixture readable");
    let mut value: Value = serde_json::from_slice(&text).expect("fixture is JSON");
    change(&mut value);
    std::fs::write(path, value.to_string()).expect("fixture written");
}

fn report(dir: &Path) -> Value {
    let text = std::fs::read(dir.join("report.json")).expect("report.json written");
    serde_json::from_slice(&text).expect("report.json is JSON")
}

#[test]
fn a_copied_binary_lists_and_runs_from_another_folder_with_its_built_in_fixtures() {
    let installed = Installed::new("built-in");
    let listed = installed.conform(&["list", "--json"]);
    assert_eq!(listed.status.code(), Some(0), "{listed:?}");
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let ids: Vec<&str> = listed["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        fixtures::Catalog::load().unwrap().ids().collect::<Vec<_>>()
    );

    let reports = installed.root.join("reports");
    let run = installed.conform(&[
        "run",
        "--scenario",
        "optin.new-dms-sends-nothing",
        "--report-dir",
        reports.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stdout(&run));
    let report = report(&reports);
    assert_eq!(report["scenarios"][0]["outcome"], "passed");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["source"] == "errata"),
        "the gate's inputs are built in too"
    );
}

#[test]
fn fixtures_dir_reads_a_reviewers_edited_copy_for_list_and_run() {
    let installed = Installed::new("edited");
    let copy = installed.fixtures_copy("review");
    edit_json(&copy.join("requirements.json"), |catalog| {
        catalog["requirements"].as_array_mut().unwrap().push(json!({
            "id": "REVIEW-1",
            "kind": "implied",
            "area": "review",
            "text": "A requirement a reviewer added."
        }));
    });
    edit_json(&copy.join("errata.json"), |errata| {
        errata["errata"] = json!([{
            "id": "REVIEW-ERRATUM",
            "severity": "low",
            "title": "An erratum a reviewer added."
        }]);
    });
    let copy = copy.to_str().unwrap();

    let listed = installed.conform(&["list", "--json", "--fixtures", copy]);
    assert_eq!(listed.status.code(), Some(0), "{listed:?}");
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let added = listed["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "REVIEW-1")
        .expect("the added requirement is listed");
    assert_eq!(added["scenarios"], json!([]));

    let reports = installed.root.join("reports");
    let run = installed.conform(&[
        "--fixtures",
        copy,
        "run",
        "--scenario",
        "optin.new-dms-sends-nothing",
        "--report-dir",
        reports.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stdout(&run));
    let report = report(&reports);
    let review = report["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "REVIEW-1")
        .expect("the report judges the added requirement");
    assert_eq!(review["status"], "uncovered");
    let errata: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["source"] == "errata")
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(errata, ["REVIEW-ERRATUM"]);
}

#[test]
fn fixtures_dir_that_is_missing_or_lacks_a_file_is_one_line_and_exit_2() {
    let installed = Installed::new("missing");
    let nowhere = installed.root.join("nowhere");
    let said =
        one_line_error(&installed.conform(&["list", "--fixtures", nowhere.to_str().unwrap()]));
    assert!(said.contains(nowhere.to_str().unwrap()), "{said}");

    let copy = installed.fixtures_copy("lacking");
    std::fs::remove_file(copy.join("dma.json")).unwrap();
    let said = one_line_error(&installed.conform(&[
        "run",
        "--scenario",
        "optin.new-dms-sends-nothing",
        "--fixtures",
        copy.to_str().unwrap(),
    ]));
    assert!(
        said.contains(copy.join("dma.json").to_str().unwrap()),
        "{said}"
    );
}
