//! ApplyChanges results and the dead-letter RPCs: requests unpacked, each
//! bad field named, and the domain's answers converted.

use prost::Message;
use rapport_kit::{FieldErrors, domain, paging};
use rapport_proto::v1::{
    ApplyChangesResponse, ChangeEvent, ChangeOutcome, ChangeResult, DeadLetter,
    ListDeadLettersRequest, RedriveDeadLettersRequest,
};

use crate::{
    error::{Error, valid},
    repo::dead_letters::StoredLetter,
    scores::{
        apply::{Fate, Outcome},
        dead_letters::REDRIVE_BATCH,
    },
};

/// Each change's result, in request order.
pub fn results(outcome: &Outcome) -> Vec<ChangeResult> {
    outcome
        .results
        .iter()
        .map(|(id, fate)| {
            let (outcome, reason) = match fate {
                Fate::Applied => (ChangeOutcome::Applied, String::new()),
                Fate::Duplicate => (ChangeOutcome::Duplicate, String::new()),
                Fate::DeadLettered(reason) => (ChangeOutcome::DeadLettered, reason.clone()),
            };
            ChangeResult {
                change_id: id.clone(),
                outcome: outcome as i32,
                reason,
            }
        })
        .collect()
}

/// An ApplyChanges answer: the counts and each change's result.
pub fn applied(outcome: &Outcome) -> ApplyChangesResponse {
    ApplyChangesResponse {
        applied: outcome.count(|f| *f == Fate::Applied),
        duplicates: outcome.count(|f| *f == Fate::Duplicate),
        dead_lettered: outcome.count(|f| matches!(f, Fate::DeadLettered(_))),
        results: results(outcome),
    }
}

/// A ListDeadLetters page: its size and the change id it starts after.
pub fn list_request(req: &ListDeadLettersRequest) -> Result<(u32, Option<String>), Error> {
    let mut errors = FieldErrors::new();
    let size = errors.check("page_size", paging::page_size(req.page_size));
    let after = errors.check("page_token", paging::decode_token(&req.page_token));
    valid(errors)?;
    Ok((size.unwrap_or_default(), after.flatten()))
}

/// The change ids a RedriveDeadLetters names, at most [`REDRIVE_BATCH`].
pub fn redrive_request(req: &RedriveDeadLettersRequest) -> Result<&[String], Error> {
    let ids = &req.change_ids;
    if ids.len() > REDRIVE_BATCH as usize {
        return Err(Error::invalid(
            "change_ids",
            format!("{} ids sent; at most {REDRIVE_BATCH} per call", ids.len()),
        ));
    }
    let mut errors = FieldErrors::new();
    for (i, id) in ids.iter().enumerate() {
        // Dead letters of changes without a usable id are kept as "invalid:<digest>".
        errors.check(&format!("change_ids[{i}]"), domain::parse_id(id));
    }
    valid(errors)?;
    Ok(ids)
}

/// A dead letter as the API shows it.
pub fn dead_letter(l: &StoredLetter) -> DeadLetter {
    DeadLetter {
        change_id: l.letter.change_id.clone(),
        customer_id: l.letter.customer_id.clone(),
        reason: l.letter.reason.clone(),
        first_seen_at: Some(domain::chrono_to_timestamp(l.first_seen_at)),
        last_seen_at: Some(domain::chrono_to_timestamp(l.last_seen_at)),
        attempts: l.attempts.max(0) as u32,
        change: ChangeEvent::decode(l.letter.change.as_slice()).ok(),
    }
}
