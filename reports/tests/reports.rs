//! The renderers on one fixed, hand-built model: snapshots of every format, secrets planted in
//! evidence that must reach no file, and each format read back by a tool no one here wrote.

use std::path::{Path, PathBuf};

use reports::{
    Assembly, CatalogEntry, Deviation, FaultInput, GateInputs, Observation, Outcome, Policy,
    Report, ScenarioInput, Severity,
};
use serde_json::json;

mod common;

const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkbXMtNDIiLCJleHAiOjE3MDAwMDAwMDB9.5mhBHqs5_DTLdINd9p5m7ZJ6XD0Xc55kIaCRY5r6HRA";
const REFRESH_KEY: &str = "4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa11";
const PASSWORD: &str = "Xq7#pL2!vR9@kM4$z";
const REGISTERED: &str = "vault-signing-secret-do-not-print";
const BEARER: &str = "opaque.session.credential-77";

fn catalog() -> Vec<CatalogEntry> {
    [
        ("OPT-1", "stated", "Connecting is opt-in."),
        ("TOK-4", "stated", "A refresh key works once."),
        (
            "TLS-3",
            "implied",
            "The agent validates the server certificate.",
        ),
    ]
    .into_iter()
    .map(|(id, kind, text)| CatalogEntry {
        id: id.to_owned(),
        kind: kind.to_owned(),
        text: text.to_owned(),
    })
    .collect()
}

fn scenario(
    id: &str,
    reqs: &[&str],
    outcome: Outcome,
    harness: bool,
    detail: &str,
) -> ScenarioInput {
    ScenarioInput {
        id: id.to_owned(),
        suite: id.split('.').next().unwrap_or_default().to_owned(),
        title: format!("title of {id}"),
        requirements: reqs.iter().map(|r| (*r).to_owned()).collect(),
        catches: vec!["agent.connect-before-optin".to_owned()],
        named_checks: vec![reports::NamedCheck {
            fault: "agent.connect-before-optin".to_owned(),
            check: "connections-dms-opened".to_owned(),
        }],
        outcome,
        harness_error: harness,
        failure_kind: match (outcome, harness) {
            (Outcome::Passed, _) => None,
            (_, true) => Some("harness".to_owned()),
            _ => Some("violation".to_owned()),
        },
        failed_check: (outcome == Outcome::Failed && !harness)
            .then(|| "connections-dms-opened".to_owned()),
        duration_ms: 1234,
        detail: detail.to_owned(),
        evidence: Vec::new(),
        attachments: Vec::new(),
        matrix: Vec::new(),
        capture: None,
    }
}

/// Three scenarios (passed with secret-laden evidence, failed, harness error), a kill matrix,
/// errata, a deviation, and secrets everywhere a scenario could put them.
fn fixed_model() -> Report {
    let mut passed = scenario(
        "optin.new-dms-sends-nothing",
        &["OPT-1"],
        Outcome::Passed,
        false,
        "bytes sent = 0",
    );
    passed.evidence = vec![
        Observation {
            what: "bytes sent".to_owned(),
            value: json!(0),
        },
        Observation {
            what: "refresh answer".to_owned(),
            value: json!({"access_token": JWT, "refresh_token": REFRESH_KEY, "expires_in": 604800}),
        },
        Observation {
            what: "share user".to_owned(),
            value: json!({"login": "share-1", "password": PASSWORD}),
        },
        Observation {
            what: "request header".to_owned(),
            value: json!(format!("Authorization: Bearer {BEARER}")),
        },
        Observation {
            what: "cloud log".to_owned(),
            value: json!(format!("signed with {REGISTERED}")),
        },
    ];
    let failed = scenario(
        "tokens.refresh-is-single-use",
        &["TOK-4"],
        Outcome::Failed,
        false,
        &format!(
            r#"replayed refresh: expected 400 invalid_grant, observed {{"status":200,"token":"{JWT}","key":"{REFRESH_KEY}"}}"#
        ),
    );
    let mut failed = failed;
    failed.matrix = vec![reports::Matrix {
        dimension: "secrets × concurrent redemptions".to_owned(),
        rows: vec![
            reports::MatrixRow {
                item: "refresh key".to_owned(),
                case: "8 at once".to_owned(),
                outcome: "2 won (violation)".to_owned(),
            },
            reports::MatrixRow {
                item: format!("refresh key {REFRESH_KEY}"),
                case: "replayed | after use".to_owned(),
                outcome: "refused 400 invalid_grant".to_owned(),
            },
        ],
    }];
    let broken = scenario(
        "tokens.family-revoked",
        &["TOK-4"],
        Outcome::Failed,
        true,
        "harness error: environment did not start",
    );
    Assembly {
        version: "0.1.0".to_owned(),
        selection: "all scenarios".to_owned(),
        faults_on: Vec::new(),
        catalog: catalog(),
        scenarios: vec![passed, failed, broken],
        faults: vec![
            FaultInput {
                name: "agent.connect-before-optin".to_owned(),
                breaks: "the agent connects on its own".to_owned(),
                killed_by: vec!["optin.new-dms-sends-nothing".to_owned()],
                ..FaultInput::default()
            },
            FaultInput {
                name: "cloud.refresh-reusable".to_owned(),
                breaks: "a used refresh key keeps working".to_owned(),
                killed_by: Vec::new(),
                failed_elsewhere: vec![reports::FaultRun {
                    scenario: "optin.new-dms-sends-nothing".to_owned(),
                    by: "bytes-dms-sent-received".to_owned(),
                }],
                broke_setup: vec![reports::FaultRun {
                    scenario: "optin.admin-enable-brings-the-tunnel-up".to_owned(),
                    by: "approving the DMS".to_owned(),
                }],
                ..FaultInput::default()
            },
        ],
        mutants: true,
        inputs: GateInputs {
            policy: Policy {
                max_severity: Severity::Low,
            },
            errata: vec![reports::Finding {
                id: "ERRATA-3".to_owned(),
                severity: Severity::Medium,
                title: "Blowfish in ECB mode is a weak construction <advisory> & more".to_owned(),
                detail: "64-bit blocks".to_owned(),
                source: "errata".to_owned(),
                requirements: vec!["OPT-1".to_owned()],
            }],
            deviations: vec![Deviation {
                id: "TLS-3".to_owned(),
                reason: "suite lands next release".to_owned(),
            }],
        },
        secrets: vec![REGISTERED.to_owned()],
    }
    .into_report()
}

/// A fresh folder under cargo's per-target temp dir, kept for a reader after the test.
fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Durations are the one volatile value a renderer shows; the model is fixed otherwise.
fn without_durations(text: &str) -> String {
    text.replace("1234 ms", "[duration] ms")
        .replace("time=\"1.234\"", "time=\"[duration]\"")
}

#[test]
fn every_renderer_matches_its_snapshot() {
    let report = fixed_model();
    insta::assert_json_snapshot!("report_json", report, { ".scenarios[].duration_ms" => "[duration]" });
    let junit = reports::junit::render(&report).unwrap();
    insta::assert_snapshot!("junit_xml", without_durations(&junit));
    insta::assert_snapshot!(
        "report_md",
        without_durations(&reports::markdown::render(&report))
    );
    insta::assert_snapshot!(
        "report_html",
        without_durations(&reports::html::render(&report))
    );
    insta::assert_snapshot!("findings_sarif", reports::sarif::render(&report).unwrap());
}

#[test]
fn secrets_planted_in_evidence_reach_no_output_file() {
    let dir = out_dir("redaction");
    let written = reports::write_all(&fixed_model(), &dir).unwrap();
    assert_eq!(written.len(), reports::FILES.len());
    for path in written {
        let text = std::fs::read_to_string(&path).unwrap();
        for secret in [JWT, REFRESH_KEY, PASSWORD, REGISTERED, BEARER] {
            assert!(!text.contains(secret), "{} leaks {secret}", path.display());
        }
        // The redaction must not cost the evidence its shape.
        if path.ends_with("report.json") {
            assert!(text.contains("\"expires_in\": 604800"), "{text}");
            assert!(text.contains("share-1"));
        }
    }
}

#[test]
fn the_gate_weighs_findings_against_the_policy_and_waives_known_deviations() {
    let report = fixed_model();
    let reasons = report.gate.reasons.join("\n");
    assert!(!report.gate.passed);
    assert!(
        reasons.contains("finding ERRATA-3 is medium, above the policy's low"),
        "{reasons}"
    );
    assert!(
        reasons.contains("fault cloud.refresh-reusable survived"),
        "{reasons}"
    );
    assert!(!reasons.contains("TLS-3"), "{reasons}");
    assert!(
        report
            .gate
            .waived
            .iter()
            .any(|w| w.contains("TLS-3") && w.contains("suite lands next release"))
    );
    let ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "ERRATA-3",
            "SCENARIO-tokens.refresh-is-single-use",
            "SCENARIO-tokens.family-revoked"
        ]
    );
    let weak = report.weak_spots.as_ref().unwrap();
    assert_eq!(weak.killed_once, ["agent.connect-before-optin"]);
    assert_eq!(
        weak.kill_nothing,
        ["tokens.refresh-is-single-use", "tokens.family-revoked"]
    );
    let opt1 = &report.requirements[0];
    assert_eq!(opt1.faults_killed, ["agent.connect-before-optin"]);
}

/// Runs `script` with `args` in a python3 that has `modules` (`./test.sh` installs them).
fn python(modules: &[&str], script: &str, args: &[&Path]) -> String {
    let output = common::python_with(modules)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{said}");
    said
}

/// The OASIS SARIF 2.1.0 schema (errata01, vendored in fixtures/) judged by Python's
/// `jsonschema`, not by anything written here.
#[test]
fn sarif_validates_against_the_oasis_schema() {
    let dir = out_dir("sarif");
    reports::write_all(&fixed_model(), &dir).unwrap();
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sarif-schema-2.1.0.json");
    let said = python(
        &["jsonschema"],
        "import json, sys, jsonschema\n\
         schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))\n\
         jsonschema.Draft4Validator.check_schema(schema)\n\
         errors = list(jsonschema.Draft4Validator(schema).iter_errors(doc))\n\
         [print('invalid:', e.json_path, e.message) for e in errors]\n\
         print('results', len(doc['runs'][0]['results']))\n\
         sys.exit(1 if errors else 0)",
        &[&schema, &dir.join("findings.sarif")],
    );
    assert!(said.contains("results 3"), "{said}");
}

/// `junitparser` reads the XML back: counts, failure versus error, properties.
#[test]
fn junit_is_read_back_by_junitparser() {
    let dir = out_dir("junit");
    reports::write_all(&fixed_model(), &dir).unwrap();
    let said = python(
        &["junitparser"],
        "import sys\nfrom junitparser import JUnitXml, Failure, Error\n\
         xml = JUnitXml.fromfile(sys.argv[1])\n\
         cases = [c for s in xml for c in s]\n\
         kinds = sorted(type(r).__name__ for c in cases for r in c.result)\n\
         print('cases', len(cases), 'kinds', kinds)",
        &[&dir.join("junit.xml")],
    );
    assert!(
        said.contains("cases 3 kinds ['Error', 'Failure']"),
        "{said}"
    );
}
