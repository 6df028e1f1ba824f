//! Per-record outcomes of create, update and delete turned into BATCHes.

use crate::domain::id_set::IdSet;
use crate::domain::ip_set::IpRangeDisplay;
use crate::domain::record::RecordKind;
use crate::domain::store::{BatchOutcome, IpConflict, RecordError};
use crate::xml::batch_return::Batch;

/// Qualys code for an operation blocked by existing objects.
pub(crate) const BLOCKED_CODE: u32 = 1920;
/// Qualys code for an invalid parameter value, used for unknown IDs.
pub(crate) const INVALID_VALUE_CODE: u32 = 1905;
/// Qualys code for an unsupported combination of values.
pub(crate) const COMBINATION_CODE: u32 = 1907;

/// Returns the Qualys code and TEXT for one record's failure.
pub(crate) fn describe(kind: RecordKind, error: &RecordError) -> (u32, String) {
    let label = kind_label(kind);
    match error {
        RecordError::Rule(rule) => (COMBINATION_CODE, rule.to_string()),
        RecordError::DuplicateTitle { title, other_id } => (
            BLOCKED_CODE,
            format!("A {label} record with title '{title}' already exists (ID {other_id}); titles must be unique"),
        ),
        RecordError::IpConflicts { conflicts, truncated } => {
            let mut lines: Vec<String> = conflicts.iter().map(conflict_line).collect();
            if *truncated {
                lines.push("More IPs conflict; only the first ones are listed".to_owned());
            }
            (BLOCKED_CODE, lines.join("\n"))
        }
        RecordError::StoreFull(max) => (
            BLOCKED_CODE,
            format!("Record limit reached: the mock already stores {max} records; delete some or raise --max-records"),
        ),
        RecordError::IdsExhausted => (
            BLOCKED_CODE,
            "No record IDs are left; reset the mock or start it with a lower --id-start".to_owned(),
        ),
        RecordError::DuplicateId(id) => (BLOCKED_CODE, format!("A record with ID {id} already exists")),
        RecordError::NoVcenterRecord => (
            COMBINATION_CODE,
            "login_type=vcenter requires a vCenter record holding the vCenter IPs; create one with /api/2.0/fo/auth/vcenter/ first".to_owned(),
        ),
    }
}

/// Turns an update or delete outcome into BATCHes: one for the IDs that
/// succeeded, one for unknown IDs, then one per failed record.
pub(crate) fn batches(kind: RecordKind, outcome: BatchOutcome, success_text: &str) -> Vec<Batch> {
    let mut batches = Vec::new();
    if !outcome.succeeded.is_empty() {
        batches.push(Batch {
            code: None,
            text: success_text.to_owned(),
            ids: outcome.succeeded,
        });
    }
    if !outcome.not_found.is_empty() {
        batches.push(Batch {
            code: Some(INVALID_VALUE_CODE),
            text: format!("{} record(s) not found for these IDs", kind_label(kind)),
            ids: outcome.not_found,
        });
    }
    for (id, error) in outcome.failed {
        let (code, text) = describe(kind, &error);
        batches.push(Batch {
            code: Some(code),
            text,
            ids: IdSet::from_iter([id]),
        });
    }
    batches
}

fn conflict_line(conflict: &IpConflict) -> String {
    let what = if conflict.range.start() == conflict.range.end() {
        "IP"
    } else {
        "IP range"
    };
    format!(
        "{what} {} is already used by {} record '{}' (ID {})",
        IpRangeDisplay(&conflict.range),
        kind_label(conflict.other_kind),
        conflict.other_title,
        conflict.other_id
    )
}

/// The product name of a kind, as Qualys writes it in messages.
pub(crate) fn kind_label(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Vmware => "VMware",
        RecordKind::Unix => "Unix",
        RecordKind::Vcenter => "vCenter",
    }
}
