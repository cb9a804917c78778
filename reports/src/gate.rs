//! The release gate and the weak spots of a kill matrix.

use crate::inputs::GateInputs;
use crate::model::{
    FaultResult, Finding, Gate, Outcome, RequirementResult, ScenarioResult, Status, WeakSpots,
};

/// Passes only when every scenario passed, every requirement is verified, every fault tried
/// was killed, no finding is above the policy, and the run had no fault switched on.
/// A reason about an ID listed as a known deviation is waived (shown, with its reason) instead.
pub(crate) fn gate(
    scenarios: &[ScenarioResult],
    requirements: &[RequirementResult],
    faults: &[FaultResult],
    findings: &[Finding],
    inputs: &GateInputs,
    faulted_run: bool,
) -> Gate {
    let mut reasons: Vec<(Option<&str>, String)> = Vec::new();
    if faulted_run {
        reasons.push((
            None,
            "the run was made with fault switches on: it says nothing of a release".to_owned(),
        ));
    }
    for s in scenarios.iter().filter(|s| s.outcome == Outcome::Failed) {
        reasons.push((
            Some(&s.id),
            format!("scenario {} failed: {}", s.id, s.detail),
        ));
    }
    for r in requirements {
        match r.status {
            Status::Verified => {}
            Status::Failed => reasons.push((Some(&r.id), format!("requirement {} failed", r.id))),
            Status::Uncovered => {
                reasons.push((Some(&r.id), format!("requirement {} is uncovered", r.id)));
            }
        }
    }
    for f in faults.iter().filter(|f| f.killed_by.is_empty()) {
        reasons.push((
            Some(&f.name),
            format!(
                "fault {} survived: no scenario's named check caught it",
                f.name
            ),
        ));
    }
    let allowed = inputs.policy.max_severity;
    for f in findings.iter().filter(|f| f.severity > allowed) {
        // A failed scenario is already a reason of its own; its finding would say it twice.
        if f.source == "scenario" {
            continue;
        }
        reasons.push((
            Some(&f.id),
            format!(
                "finding {} is {}, above the policy's {}: {}",
                f.id,
                f.severity.as_str(),
                allowed.as_str(),
                f.title
            ),
        ));
    }

    let mut kept = Vec::new();
    let mut waived = Vec::new();
    for (id, reason) in reasons {
        match id.and_then(|id| inputs.deviations.iter().find(|d| d.id == id)) {
            Some(deviation) => {
                waived.push(format!("{reason} (known deviation: {})", deviation.reason))
            }
            None => kept.push(reason),
        }
    }
    Gate {
        passed: kept.is_empty(),
        reasons: kept,
        waived,
    }
}

pub(crate) fn weak_spots(scenarios: &[crate::ScenarioInput], faults: &[FaultResult]) -> WeakSpots {
    WeakSpots {
        killed_once: faults
            .iter()
            .filter(|f| f.killed_by.len() == 1)
            .map(|f| f.name.clone())
            .collect(),
        kill_nothing: scenarios
            .iter()
            .filter(|s| !faults.iter().any(|f| f.killed_by.contains(&s.id)))
            .map(|s| s.id.clone())
            .collect(),
        named_check_missed: faults
            .iter()
            .flat_map(|f| {
                let missed = f
                    .failed_elsewhere
                    .iter()
                    .map(|r| (r, "failed check"))
                    .chain(f.broke_setup.iter().map(|r| (r, "broke setup at")))
                    .chain(f.timed_out.iter().map(|r| (r, "timed out waiting for")))
                    .chain(f.harness_errors.iter().map(|r| (r, "harness error:")));
                missed
                    .filter(|(r, _)| {
                        scenarios
                            .iter()
                            .any(|s| s.id == r.scenario && s.catches.contains(&f.name))
                    })
                    .map(|(r, how)| format!("{} under {}: {how} {}", r.scenario, f.name, r.by))
                    .collect::<Vec<_>>()
            })
            .collect(),
    }
}
