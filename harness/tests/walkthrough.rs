//! The reviewer's guide, run: each environment `docs/walkthrough.md` starts (a block fenced
//! ```` ```sh env-up ````) is started with that block's arguments, the blocks fenced
//! ```` ```sh walk ```` after it run in order in one `bash` against it, and what each prints is
//! held to the ```` ```text expect ```` block after it (`*` matching any run of characters in a
//! line). The commands are read from the guide, never copied here: the guide is the test's input.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// One runnable block of the guide, with what it must print.
#[derive(Debug)]
struct Step {
    /// Where its fence opens in the guide, 1-based: what a failure points at.
    line: usize,
    script: String,
    expect: Option<Vec<String>>,
}

/// An environment the guide starts (a block fenced ```` ```sh env-up ````) and the walk blocks
/// that follow it, up to the next one.
#[derive(Debug)]
struct Walk {
    line: usize,
    /// What follows `env up` in the block's command, up to its redirection.
    args: Vec<String>,
    steps: Vec<Step>,
}

/// The arguments of the `conform ... env up ARGS > FILE &` command in an env-up block.
fn env_up_args(line: usize, body: &[&str]) -> Vec<String> {
    let command = body
        .iter()
        .find(|l| l.contains(" env up"))
        .unwrap_or_else(|| panic!("the env-up block at line {line} has no `env up` command"));
    let (_, rest) = command.split_once(" env up").unwrap_or_default();
    rest.split_whitespace()
        .take_while(|word| !word.starts_with('>') && *word != "&")
        .map(str::to_owned)
        .collect()
}

/// The environments of `guide`, each with its walk blocks, each of those with the expect block
/// that follows it, if any.
fn walks(guide: &str) -> Vec<Walk> {
    let mut walks: Vec<Walk> = Vec::new();
    let mut lines = guide.lines().enumerate();
    // Whether the last fence closed was a walk block with nothing but blank lines since.
    let mut after_walk = false;
    while let Some((at, line)) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            if !line.trim().is_empty() {
                after_walk = false;
            }
            continue;
        };
        let body: Vec<&str> = lines
            .by_ref()
            .map(|(_, l)| l)
            .take_while(|l| !l.starts_with("```"))
            .collect();
        match info.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["sh", "env-up"] => walks.push(Walk {
                line: at + 1,
                args: env_up_args(at + 1, &body),
                steps: Vec::new(),
            }),
            ["sh", "walk"] => {
                let walk = walks.last_mut().unwrap_or_else(|| {
                    panic!("the walk block at line {} follows no env-up block", at + 1)
                });
                walk.steps.push(Step {
                    line: at + 1,
                    script: body.join("\n"),
                    expect: None,
                });
                after_walk = true;
                continue;
            }
            ["text", "expect"] => {
                let step = walks
                    .last_mut()
                    .and_then(|w| w.steps.last_mut())
                    .filter(|_| after_walk)
                    .unwrap_or_else(|| {
                        panic!("the expect block at line {} follows no walk block", at + 1)
                    });
                step.expect = Some(body.iter().map(|l| (*l).to_owned()).collect());
            }
            _ => {}
        }
        after_walk = false;
    }
    walks
}

/// `pattern` with `*` standing for any run of characters.
fn matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// A running `conform env up`, started as the guide starts it, stopped by SIGTERM on drop.
struct EnvUp(Child);

impl Drop for EnvUp {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn needs(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "the walkthrough test runs the guide's commands and needs `{tool}`: \
         install it (Debian: `apt-get install bash curl jq`)"
    );
}

fn guide() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/walkthrough.md")
}

#[test]
fn the_guide_marks_its_walks_and_each_expectation_follows_one() {
    let text = std::fs::read_to_string(guide()).expect("the guide is readable");
    let walks = walks(&text);
    assert_eq!(
        walks.iter().map(|w| w.args.clone()).collect::<Vec<_>>(),
        [
            vec![],
            vec!["--shared".to_owned(), "--speed".into(), "0".into()],
            vec![
                "--shared".to_owned(),
                "--orgs".into(),
                "2".into(),
                "--speed".into(),
                "0".into()
            ]
        ],
        "the guide starts a plain environment, then a shared one, then one with two organisations"
    );
    for walk in &walks {
        assert!(
            walk.steps.len() >= 5,
            "only {} walk blocks",
            walk.steps.len()
        );
        assert!(walk.steps.iter().skip(1).all(|s| s.expect.is_some()));
    }
    assert!(matches(
        "303 https://x:*/device",
        "303 https://x:4430/device"
    ));
    assert!(!matches(
        "303 https://x:*/device",
        "303 https://x:4430/device/done"
    ));
    assert!(matches("*", ""));
}

#[test]
fn the_guide_connects_renews_and_disconnects_as_it_says() {
    run_walk(0);
}

#[test]
fn the_guide_shares_a_dashboard_renews_and_ends_the_share_as_it_says() {
    run_walk(1);
}

#[test]
fn the_guide_shows_another_organisation_ending_and_reading_nothing_of_the_first() {
    run_walk(2);
}

/// Runs the guide's `index`th environment and its walk blocks, and holds what each block
/// printed to its expect block.
fn run_walk(index: usize) {
    for tool in ["bash", "curl", "jq"] {
        needs(tool);
    }
    let text = std::fs::read_to_string(guide()).expect("the guide is readable");
    let walk = walks(&text)
        .into_iter()
        .nth(index)
        .expect("the guide starts that environment");
    let steps = &walk.steps;
    let dir = std::env::temp_dir().join(format!(
        "conform-walkthrough-{}-{index}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("a work directory");

    let mut child = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["env", "up"])
        .args(&walk.args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("conform starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let _env = EnvUp(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("env up prints its line");
    assert!(
        !line.trim().is_empty(),
        "env up {:?} (guide line {}) printed no line",
        walk.args,
        walk.line
    );
    let env_json = dir.join("env.json");
    std::fs::write(&env_json, &line).expect("the line written");

    let mut script = String::new();
    for (i, step) in steps.iter().enumerate() {
        script.push_str(&format!(
            "{{\n{}\n}} > out-{i} 2> err-{i}\necho $? > rc-{i}\n",
            step.script
        ));
    }
    let status = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .env("ENV_JSON", &env_json)
        .env("CONFORM", env!("CARGO_BIN_EXE_conform"))
        .status()
        .expect("bash runs");
    assert!(
        status.success() || status.code().is_some(),
        "bash ended by a signal"
    );

    let mut wrong = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(format!("{name}-{i}"))).unwrap_or_default()
        };
        let (out, err, rc) = (read("out"), read("err"), read("rc"));
        if rc.trim() != "0" {
            wrong.push(format!(
                "line {}: exit {} — {}",
                step.line,
                rc.trim(),
                err.trim()
            ));
            continue;
        }
        let Some(expect) = &step.expect else { continue };
        let got: Vec<&str> = out.lines().map(str::trim_end).collect();
        let fits = got.len() == expect.len()
            && expect
                .iter()
                .zip(&got)
                .all(|(want, line)| matches(want.trim_end(), line));
        if !fits {
            wrong.push(format!(
                "line {}: expected\n{}\nprinted\n{}\n{}",
                step.line,
                expect.join("\n"),
                got.join("\n"),
                err.trim()
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        wrong.is_empty(),
        "the guide's walk:\n{}",
        wrong.join("\n\n")
    );
}
