use std::process::ExitCode;

use fixtures::Catalog;
use scenarios::{Fault, Suite};
use serde_json::json;

pub fn list(as_json: bool) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::load()?;
    let all = scenarios::all();
    let covering = |id: &str| -> Vec<&str> { scenarios::covering(id).map(|s| s.id).collect() };
    let caught_by = |f: Fault| -> Vec<serde_json::Value> {
        all.iter()
            .flat_map(|s| {
                s.catches
                    .iter()
                    .filter(move |c| c.fault == f)
                    .map(move |c| json!({ "scenario": s.id, "check": c.check }))
            })
            .collect()
    };

    if as_json {
        let document = json!({
            "suites": Suite::ALL.iter().map(|suite| json!({
                "name": suite.name(),
                "verifies": suite.verifies(),
                "scenarios": all.iter().filter(|s| s.suite == *suite).map(|s| s.id).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "scenarios": all.iter().map(|s| json!({
                "id": s.id,
                "suite": s.suite.name(),
                "title": s.title,
                "requirements": s.requirements,
                "catches": s.catches.iter().map(|c| json!({ "fault": c.fault.name(), "check": c.check })).collect::<Vec<_>>(),
                "sweeps": scenarios::sweep_dimension(s.id),
            })).collect::<Vec<_>>(),
            "requirements": catalog.requirements.iter().map(|r| json!({
                "id": r.id,
                "kind": r.kind,
                "area": r.area,
                "text": r.text,
                "scenarios": covering(&r.id),
            })).collect::<Vec<_>>(),
            "faults": Fault::catalog().iter().map(|f| json!({
                "name": f.name(),
                "component": f.component(),
                "breaks": f.breaks(),
                "caught_by": caught_by(*f),
            })).collect::<Vec<_>>(),
        });
        say!("{}", serde_json::to_string_pretty(&document)?);
        return Ok(ExitCode::SUCCESS);
    }

    say!("SUITES");
    for suite in Suite::ALL {
        say!("  {:<10} {}", suite.name(), suite.verifies());
    }
    say!("\nSCENARIOS");
    for s in all {
        say!("  {:<48} {}", s.id, s.requirements.join(", "));
    }
    say!("\nSWEEPS (what each enumerates)");
    for s in all {
        if let Some(dimension) = scenarios::sweep_dimension(s.id) {
            say!("  {:<48} {dimension}", s.id);
        }
    }
    say!("\nREQUIREMENTS");
    for r in &catalog.requirements {
        let by = covering(&r.id);
        let by = if by.is_empty() {
            "(uncovered)".to_owned()
        } else {
            by.join(", ")
        };
        say!("  {:<8} {:<8} {by}", r.id, r.kind.as_str());
    }
    say!("\nFAULTS (and the check of each scenario that must catch it)");
    for f in Fault::catalog() {
        say!("  {:<34} {}", f.name(), f.breaks());
        for s in all {
            for c in s.catches.iter().filter(|c| c.fault == f) {
                say!("  {:<34}   caught by {} [{}]", "", s.id, c.check);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
