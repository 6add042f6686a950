//! The workers' outcomes, written together: each batch of finished
//! attempts is logged, its deliveries settled or rescheduled and its
//! webhooks' health updated in one transaction per organization (see
//! `commit`).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{delivery, delivery_attempt, webhook};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait, LockType},
};
use tokio::sync::mpsc;

use super::{
    commit::{Finished, Record, distinct, next_batch},
    health,
};
use crate::{
    db::{Rows, Script},
    domain::{Ctx, change::Change, ids, outbox::SUCCEEDED},
    error::{AppError, AppResult},
};

pub(super) async fn record_loop(app: Ctx, mut rx: mpsc::Receiver<Record>) {
    while let Some(batch) = next_batch(&mut rx).await {
        // One transaction per organization: a Change belongs to one.
        let mut by_org: BTreeMap<String, Vec<Record>> = BTreeMap::new();
        for record in batch {
            by_org
                .entry(record.finished.delivery.organization_id.clone())
                .or_default()
                .push(record);
        }
        for (org, records) in by_org {
            record_group(&app, &org, records).await;
        }
    }
}

/// Records one organization's outcomes in one transaction and answers
/// each. A delivery deleted while its attempt was in flight (its webhook
/// deleted) has nowhere to log it: its attempt's row breaks a foreign key
/// and fails the whole transaction. The others are then recorded without
/// it, and it is answered `None`. A transaction the database undid to
/// break a deadlock on PostgreSQL is run again (the webhooks are locked
/// first, as a delete locks them, so that one should not come from a
/// delete; see [`lock_webhooks_first`]).
async fn record_group(app: &Ctx, organization_id: &str, mut records: Vec<Record>) {
    let mut reruns = 2;
    loop {
        let finished: Vec<&Finished> = records.iter().map(|r| &r.finished).collect();
        let error = match record_all(app, organization_id, &finished).await {
            Ok(settled) => {
                for (record, delivery) in records.into_iter().zip(settled) {
                    let _ = record.reply.send(Ok(Some(delivery)));
                }
                return;
            }
            Err(e) => e,
        };
        let gone = match deleted_meanwhile(app, &finished).await {
            Ok(gone) if !gone.is_empty() => gone,
            Ok(_) if matches!(error, AppError::Unavailable(_)) && reruns > 0 => {
                reruns -= 1;
                continue;
            }
            // Nothing was deleted (or the database cannot say): the
            // failure is the database's, and every delivery stays leased
            // until the sweeper finds it again.
            _ => {
                tracing::warn!(
                    error = error.detail(),
                    count = records.len(),
                    "recording attempts failed"
                );
                for record in records {
                    let _ = record.reply.send(Err(AppError::Internal(anyhow::anyhow!(
                        "recording the attempt failed"
                    ))));
                }
                return;
            }
        };
        // Each round but a bounded few reruns leaves out at least one
        // record, so this ends.
        let (left, kept): (Vec<Record>, Vec<Record>) = records
            .into_iter()
            .partition(|r| gone.contains(&r.finished.delivery.id));
        for record in left {
            let _ = record.reply.send(Ok(None));
        }
        if kept.is_empty() {
            return;
        }
        records = kept;
    }
}

/// The ids among `outcomes`' deliveries that no longer exist.
async fn deleted_meanwhile(app: &Ctx, outcomes: &[&Finished]) -> AppResult<HashSet<String>> {
    let ids: Vec<&str> = outcomes.iter().map(|o| o.delivery.id.as_str()).collect();
    let existing: HashSet<String> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .into_tuple::<String>()
        .all(&app.db)
        .await?
        .into_iter()
        .collect();
    Ok(ids
        .into_iter()
        .filter(|id| !existing.contains(*id))
        .map(str::to_owned)
        .collect())
}

async fn record_all(
    app: &Ctx,
    organization_id: &str,
    outcomes: &[&Finished],
) -> AppResult<Vec<delivery::Model>> {
    let now = ids::now();
    let attempts: Vec<delivery_attempt::ActiveModel> = outcomes
        .iter()
        .map(|o| delivery_attempt::ActiveModel {
            id: Set(ids::new_id()),
            delivery_id: Set(o.delivery.id.clone()),
            webhook_id: Set(o.delivery.webhook_id.clone()),
            attempt: Set(o.delivery.attempts + 1),
            status_code: Set(o.attempt.status.map(i32::from)),
            latency_ms: Set(o.attempt.latency.as_millis().min(i32::MAX as u128) as i32),
            response_excerpt: Set(o.attempt.response_excerpt.clone()),
            error: Set(o.attempt.error.clone()),
            created_at: Set(now),
        })
        .collect();
    // Successes settle alike: one UPDATE per status code for all of them.
    // Anything else carries its own schedule and error: one UPDATE each.
    let mut succeeded: BTreeMap<Option<i32>, Vec<String>> = BTreeMap::new();
    let mut others = Vec::new();
    let mut settled = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        let mut after = o.delivery.clone();
        after.status = o.status.to_owned();
        after.attempts = o.delivery.attempts + 1;
        after.next_attempt_at = o.next_attempt_at;
        after.locked_until = None;
        after.last_status_code = o.attempt.status.map(i32::from);
        after.last_error = o.attempt.error.clone();
        after.updated_at = now;
        if o.status == SUCCEEDED && after.last_error.is_none() && after.next_attempt_at.is_none() {
            succeeded
                .entry(after.last_status_code)
                .or_default()
                .push(after.id.clone());
        } else {
            others.push(after.clone());
        }
        settled.push(after);
    }
    let mut change = Change::begin_for(app, organization_id, None).await?;
    // The usual batch: successes alike, no health to write. Where the
    // database can, its log and its settling go as one statement that
    // commits on its own: one round trip instead of BEGIN, INSERT, UPDATE
    // and COMMIT. A batch (at most MAX_BATCH attempts, 9 values each)
    // stays far under PostgreSQL's 65,535 bind parameters.
    let plain = others.is_empty()
        && succeeded.len() == 1
        && outcomes
            .iter()
            .all(|o| o.attempt.succeeded() && !o.webhook_was_failing);
    let mut attempts = Some(attempts);
    if plain {
        let (status_code, ids) = succeeded.first_key_value().expect("one status code");
        let together = |_: &[Rows]| {
            let logged = delivery_attempt::Entity::insert_many(attempts.take()?).into_query();
            let settle = settle_succeeded(*status_code, ids.clone(), now).into_query();
            Some(Script::new(vec![logged], settle))
        };
        if change.run_alone(together, |_| true).await?.is_some() {
            return Ok(settled);
        }
    }
    let attempts = attempts.expect("not written on their own");
    lock_webhooks_first(&change, outcomes).await?;
    for chunk in attempts.chunks(100) {
        delivery_attempt::Entity::insert_many(chunk.to_vec())
            .exec(&*change)
            .await?;
    }
    for after in others {
        after
            .into_active_model()
            .reset_all()
            .update(&*change)
            .await?;
    }
    for (status_code, ids) in succeeded {
        for chunk in ids.chunks(500) {
            settle_succeeded(status_code, chunk.to_vec(), now)
                .exec(&*change)
                .await?;
        }
    }
    // Health: every failure counts; a success resets each webhook that was
    // failing once.
    for o in outcomes.iter().filter(|o| !o.attempt.succeeded()) {
        health::after_attempt(
            &mut change,
            &app.settings,
            &o.delivery.webhook_id,
            &o.attempt,
            now,
        )
        .await?;
    }
    let recovered = distinct(
        outcomes
            .iter()
            .filter(|o| o.attempt.succeeded() && o.webhook_was_failing)
            .map(|o| &o.delivery.webhook_id),
    );
    health::after_successes(&mut change, &recovered).await?;
    change.commit().await?;
    Ok(settled)
}

/// Takes the rows of the batch's webhooks, in id order, before
/// anything else in the transaction. A delete takes its webhook's row and
/// then, cascading, its deliveries' rows; this transaction takes its
/// deliveries' rows (their attempts, their settling) and then its
/// webhooks' (their health, the status events delivered to them). Taken in
/// those orders, a delete and a recording of a failure of its webhook
/// deadlocked, and after a second PostgreSQL undid one of them: 10 of 24
/// deletes in a test answered UNAVAILABLE. Webhooks first, the order a
/// delete keeps, makes one wait for the other instead; sorted, so two
/// workers' batches keep it among themselves too. `NO KEY UPDATE`, as the
/// health writes take: a change inserting deliveries for these webhooks
/// (a key-share lock each) is not held up. The successes' one-statement
/// path takes no webhook row and needs none of this.
async fn lock_webhooks_first(change: &Change<'_>, outcomes: &[&Finished]) -> AppResult<()> {
    let webhooks = webhook::Entity::find()
        .select_only()
        .column(webhook::Column::Id)
        .filter(
            webhook::Column::Id.is_in(distinct(outcomes.iter().map(|o| &o.delivery.webhook_id))),
        )
        .order_by_asc(webhook::Column::Id)
        .into_query();
    Ok(change.lock(webhooks, LockType::NoKeyUpdate).await?)
}

/// Settles deliveries whose attempt succeeded with `status_code`.
fn settle_succeeded(
    status_code: Option<i32>,
    ids: Vec<String>,
    now: DateTime<Utc>,
) -> sea_orm::UpdateMany<delivery::Entity> {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(SUCCEEDED))
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .col_expr(
            delivery::Column::NextAttemptAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            delivery::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(delivery::Column::LastStatusCode, Expr::value(status_code))
        .col_expr(
            delivery::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.is_in(ids))
}
