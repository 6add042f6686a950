//! The transactional outbox: the deliveries a change owes, written in the
//! change's own transaction so an event and its deliveries exist together
//! or not at all. Workers send them; this module only records them.

use chrono::{DateTime, Utc};
use entity::{delivery, event, webhook};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryResult, QueryTrait,
    sea_query::{Expr, ExprTrait, IntoIden, Query, SelectStatement},
};
use std::sync::Arc;

use super::{caches::Caches, ids};
use crate::{
    db::{Rows, Script, Txn},
    domain::delivery::queue::Handoff,
    error::AppResult,
};

pub const PENDING: &str = "PENDING";
pub const SUCCEEDED: &str = "SUCCEEDED";
pub const FAILED: &str = "FAILED";

/// `status = '<status>'`, with the status written into the SQL rather than
/// bound: the partial indexes on `deliveries` (migration
/// `m20261123_000012`) serve only conditions that name their literal
/// status; SQLite's planner and PostgreSQL's generic plans cannot see
/// that a parameter equals it.
pub fn status_is(status: &'static str) -> Expr {
    Expr::col(delivery::Column::Status).eq(Expr::Constant(status.into()))
}

/// No attempt at the delivery is in flight: its lease is unset or over.
pub fn lease_free(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(delivery::Column::LockedUntil.is_null())
        .add(delivery::Column::LockedUntil.lt(now))
}

/// An enabled webhook as each process keeps it per organization (see
/// `enabled_webhooks`): the whole row, which an event's hand-overs carry
/// to the in-process workers, and its filters read once.
#[derive(Debug)]
pub struct KnownWebhook {
    pub webhook: Arc<webhook::Model>,
    events: Vec<String>,
    project_ids: Vec<String>,
}

impl KnownWebhook {
    pub fn new(webhook: webhook::Model) -> Self {
        Self {
            events: listed(&webhook.events),
            project_ids: listed(&webhook.project_ids),
            webhook: Arc::new(webhook),
        }
    }
}

fn listed(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// Whether `known` wants `event`: enabled, and its event-type and project
/// filters (empty = all) let it through. An event outside any project only
/// reaches webhooks without a project filter.
pub fn webhook_matches(known: &KnownWebhook, event: &event::Model) -> bool {
    known.webhook.enabled
        && (known.events.is_empty() || known.events.contains(&event.event_type))
        && (known.project_ids.is_empty()
            || event
                .project_id
                .as_ref()
                .is_some_and(|p| known.project_ids.contains(p)))
        && !posted_by_own_channel(&known.webhook, event)
}

/// A channel's webhook does not echo back what that channel posted.
fn posted_by_own_channel(webhook: &webhook::Model, event: &event::Model) -> bool {
    webhook.channel_id.as_deref().is_some_and(|channel| {
        event
            .current_value
            .get("authorIntegrationId")
            .and_then(|v| v.as_str())
            == Some(channel)
    })
}

/// A pending delivery of `event` to the webhook `webhook_id` of
/// `organization_id`, due now, leased until `leased_until` if given.
pub fn new_delivery(
    webhook_id: &str,
    organization_id: &str,
    event: &event::Model,
    leased_until: Option<DateTime<Utc>>,
) -> delivery::Model {
    pending_delivery(
        ids::new_id(),
        webhook_id,
        organization_id,
        event,
        ids::now(),
        leased_until,
    )
}

/// The row of a delivery made at `made_at` and not attempted yet: due
/// then, leased until `leased_until` if given. Everything in it but its
/// id, times and lease comes from its webhook and event, which is how the
/// embedded queue holds a handed-over delivery without its row (see
/// `delivery::queue::HandedOver`).
pub fn pending_delivery(
    id: String,
    webhook_id: &str,
    organization_id: &str,
    event: &event::Model,
    made_at: DateTime<Utc>,
    leased_until: Option<DateTime<Utc>>,
) -> delivery::Model {
    delivery::Model {
        id,
        organization_id: organization_id.to_owned(),
        webhook_id: webhook_id.to_owned(),
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        status: PENDING.to_owned(),
        attempts: 0,
        next_attempt_at: Some(made_at),
        locked_until: leased_until,
        last_status_code: None,
        last_error: None,
        created_at: made_at,
        updated_at: made_at,
    }
}

/// Reads the webhook version of the organization `organization` names (a
/// value, or a column of the enclosing statement).
fn webhooks_version_query(organization: impl Into<Expr>) -> SelectStatement {
    Query::select()
        .column("version")
        .from("webhook_filter_versions")
        .and_where(Expr::col(("webhook_filter_versions", "organization_id")).eq(organization))
        .take()
}

/// The organization's webhook version, as an expression for the RETURNING
/// clause of the statement that inserts an event.
pub fn webhooks_version_of(organization_id: &str) -> Expr {
    Expr::SubQuery(
        None,
        Box::new(webhooks_version_query(organization_id).into()),
    )
}

/// The webhook version of the organization named in the `organization_id`
/// column of each row a statement returns (`table`'s), as an expression
/// for its RETURNING clause.
pub fn webhooks_version_of_row(table: impl IntoIden) -> Expr {
    Expr::SubQuery(
        None,
        Box::new(webhooks_version_query(Expr::col((table, "organization_id"))).into()),
    )
}

/// The organization's enabled webhooks at `version`: from memory when this
/// process has read them at that version, else read on `conn`.
pub async fn enabled_webhooks(
    caches: &Caches,
    conn: &impl ConnectionTrait,
    organization_id: &str,
    version: i64,
) -> AppResult<Arc<Vec<KnownWebhook>>> {
    if let Some((seen, webhooks)) = caches.webhooks.get(organization_id)
        && seen == Some(version)
    {
        return Ok(webhooks);
    }
    // Not known: read the version as it is now, then the webhooks, with
    // none of this transaction's writes between them, and keep them under
    // that version. (The version the events' insert read is this
    // transaction's own view: on PostgreSQL other transactions may have
    // committed since.) Read after the version, the rows are that
    // version's or newer ones committed since, which a later change that
    // reads the same version may use as well.
    let current: Option<i64> = conn
        .query_one(&webhooks_version_query(organization_id))
        .await?
        .map(|row| row.try_get_by_index(0))
        .transpose()?;
    let webhooks: Arc<Vec<KnownWebhook>> = Arc::new(
        webhook::Entity::find()
            .filter(webhook::Column::OrganizationId.eq(organization_id))
            .filter(webhook::Column::Enabled.eq(true))
            .all(conn)
            .await?
            .into_iter()
            .map(KnownWebhook::new)
            .collect(),
    );
    (caches.webhooks).insert(organization_id.to_owned(), (current, webhooks.clone()));
    Ok(webhooks)
}

/// The most deliveries written in one statement: a fan-out to many
/// webhooks must stay under the databases' bind-parameter limits.
const DELIVERIES_PER_STATEMENT: usize = 500;

/// The most events written in one statement, for the same reason.
const EVENTS_PER_STATEMENT: usize = 1000;

/// Writes a change's `events` and one pending delivery per matching webhook
/// and event, in `txn`, leased until `leased_until` if given (see
/// `Queue::handover_lease`); returns the deliveries with their
/// events and webhooks, to be queued once the transaction commits.
///
/// When this process knows the organization's webhooks, the events and
/// their deliveries go in one round trip (see [`record_known`]).
/// Otherwise, or when they changed meanwhile, the events are written first
/// and their statement reads the version the deliveries are matched at.
pub async fn record_events(
    caches: &Caches,
    txn: &Txn,
    organization_id: &str,
    events: &[event::Model],
    leased_until: Option<DateTime<Utc>>,
) -> AppResult<Vec<Handoff>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(owed) = record_known(caches, txn, organization_id, events, leased_until).await? {
        return Ok(owed);
    }
    let mut version = None;
    for chunk in events.chunks(EVENTS_PER_STATEMENT) {
        version = insert_events(txn, organization_id, chunk).await?;
    }
    enqueue_deliveries(caches, txn, organization_id, version, events, leased_until).await
}

/// Writes `events` and the deliveries they owe to the organization's
/// webhooks as this process knows them, in one round trip whose every part
/// writes only if the webhooks are still at the version they were known
/// at. A change that has run no statement yet goes whole (the rows it held
/// back too) as one statement that commits on its own, where the database
/// can (see [`Txn::run_alone`]).
///
/// Returns the deliveries, or `None` when nothing was written: the
/// webhooks are not known here or changed since, or there are too many
/// rows for one statement.
async fn record_known(
    caches: &Caches,
    txn: &Txn,
    organization_id: &str,
    events: &[event::Model],
    leased_until: Option<DateTime<Utc>>,
) -> AppResult<Option<Vec<Handoff>>> {
    if events.len() > EVENTS_PER_STATEMENT {
        return Ok(None);
    }
    let Some((version, webhooks)) = caches.webhooks.get(organization_id) else {
        return Ok(None);
    };
    let owed = owed_deliveries(&webhooks, events, leased_until);
    if owed.len() > DELIVERIES_PER_STATEMENT {
        return Ok(None);
    }
    let new_events = Rows::of(events.iter().map(|e| e.clone().into_active_model()));
    let new_deliveries = Rows::of(owed.iter().map(|h| h.delivery.clone().into_active_model()));
    let unchanged = match version {
        Some(version) => webhooks_version_of(organization_id).eq(version),
        None => webhooks_version_of(organization_id).is_null(),
    };
    let script = |held: &[Rows]| {
        let writes = held
            .iter()
            .chain([&new_events, &new_deliveries])
            .filter(|rows| !rows.is_empty())
            .map(|rows| rows.insert_if(unchanged.clone()))
            .collect();
        let mut version_seen = Query::select();
        version_seen.expr(webhooks_version_of(organization_id));
        Script::new(writes, version_seen)
    };
    let seen = |row: &Option<QueryResult>| version_in(row).ok().flatten();
    let row = match txn
        .run_alone(|held| Some(script(held)), |row| seen(row) == version)
        .await?
    {
        Some(row) => row,
        None => {
            let statement = script(&[]).build(txn.get_database_backend());
            txn.query_one_raw(statement).await?
        }
    };
    Ok((version_in(&row)? == version).then_some(owed))
}

/// Inserts `events`; returns their organization's webhook version as the
/// statement saw it (read in the same statement: no round trip of its
/// own). The rows are written as they are rather than read back: reading
/// them back would parse their JSON again.
async fn insert_events(
    txn: &Txn,
    organization_id: &str,
    events: &[event::Model],
) -> AppResult<Option<i64>> {
    let mut insert =
        event::Entity::insert_many(events.iter().map(|e| e.clone().into_active_model()));
    insert
        .query()
        .returning(Query::returning().expr(webhooks_version_of(organization_id)));
    version_in(&txn.query_one(&*insert.query()).await?)
}

/// The version a statement returned as its first column.
fn version_in(row: &Option<QueryResult>) -> AppResult<Option<i64>> {
    Ok(row
        .as_ref()
        .map(|row| row.try_get_by_index::<Option<i64>>(0))
        .transpose()?
        .flatten())
}

/// The deliveries `events` owe to `webhooks`: one per event and webhook
/// that wants it.
fn owed_deliveries(
    webhooks: &[KnownWebhook],
    events: &[event::Model],
    leased_until: Option<DateTime<Utc>>,
) -> Vec<Handoff> {
    let mut owed = Vec::new();
    for event in events {
        let matching: Vec<&KnownWebhook> = webhooks
            .iter()
            .filter(|w| webhook_matches(w, event))
            .collect();
        if matching.is_empty() {
            continue;
        }
        let event = Arc::new(event.clone());
        owed.extend(matching.into_iter().map(|known| Handoff {
            delivery: new_delivery(
                &known.webhook.id,
                &known.webhook.organization_id,
                &event,
                leased_until,
            ),
            event: event.clone(),
            webhook: known.webhook.clone(),
        }));
    }
    owed
}

/// Records one pending delivery per matching webhook and event, on `conn`,
/// leased until `leased_until` if given; returns them with their events
/// and webhooks. `version` is the organization's webhook version as the
/// events' insert read it (`None`: the organization never had a webhook).
async fn enqueue_deliveries(
    caches: &Caches,
    conn: &Txn,
    organization_id: &str,
    version: Option<i64>,
    events: &[event::Model],
    leased_until: Option<DateTime<Utc>>,
) -> AppResult<Vec<Handoff>> {
    let Some(version) = version else {
        // Known from now on, for the next change's one round trip, whose
        // statement checks that there is still no version.
        (caches.webhooks).insert(organization_id.to_owned(), (None, Arc::default()));
        return Ok(Vec::new());
    };
    let webhooks = enabled_webhooks(caches, conn, organization_id, version).await?;
    let owed = owed_deliveries(&webhooks, events, leased_until);
    for chunk in owed.chunks(DELIVERIES_PER_STATEMENT) {
        delivery::Entity::insert_many(chunk.iter().map(|h| h.delivery.clone().into_active_model()))
            .exec(conn)
            .await?;
    }
    Ok(owed)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;

    fn hook(enabled: bool, events: serde_json::Value, projects: serde_json::Value) -> KnownWebhook {
        KnownWebhook::new(crate::domain::webhooks::sample(enabled, events, projects))
    }

    fn event(event_type: &str, project: Option<&str>) -> event::Model {
        event::Model {
            id: "e".into(),
            organization_id: "o".into(),
            project_id: project.map(str::to_owned),
            event_type: event_type.into(),
            actor_id: None,
            current_value: json!({}),
            previous_value: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn empty_filters_mean_all_and_disabled_means_none() {
        assert!(webhook_matches(
            &hook(true, json!([]), json!([])),
            &event("TODO_CREATED", Some("p"))
        ));
        assert!(webhook_matches(
            &hook(true, json!([]), json!([])),
            &event("MEMBER_ADDED", None)
        ));
        assert!(!webhook_matches(
            &hook(false, json!([]), json!([])),
            &event("TODO_CREATED", Some("p"))
        ));
    }

    #[test]
    fn event_and_project_filters_both_apply() {
        let w = hook(true, json!(["TODO_CREATED"]), json!(["p"]));
        assert!(webhook_matches(&w, &event("TODO_CREATED", Some("p"))));
        assert!(!webhook_matches(&w, &event("TODO_DELETED", Some("p"))));
        assert!(!webhook_matches(&w, &event("TODO_CREATED", Some("q"))));
        assert!(!webhook_matches(&w, &event("TODO_CREATED", None)));
    }

    #[test]
    fn a_handed_over_job_rebuilds_the_row_its_change_inserts() {
        let hooks = [
            hook(true, json!([]), json!([])),
            hook(true, json!(["TODO_CREATED"]), json!([])),
        ];
        let lease = Some(Utc::now() + chrono::Duration::seconds(30));
        let owed = owed_deliveries(&hooks, &[event("TODO_CREATED", Some("p"))], lease);
        assert_eq!(owed.len(), 2);
        for handoff in owed {
            let inserted = handoff.delivery.clone();
            let (delivery_id, kept) = handoff.into_job();
            assert_eq!(kept.delivery(&delivery_id), inserted);
        }
    }
}
