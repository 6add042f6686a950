//! Group commit for workers' writes. Every attempt writes twice: its lease
//! before the request, its outcome after. One transaction per write caps
//! throughput at what the database commits per second (on SQLite, one
//! writer at a time), so attempts hand their writes to two writer tasks
//! that take whatever has queued up and commit it as one transaction: one
//! commit for one attempt when idle, one commit for hundreds under load.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use entity::{delivery, event, webhook};
use moka::{policy::EvictionPolicy, sync::Cache};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    QueryFilter, QueryTrait,
    sea_query::{Expr, Query},
};
use tokio::sync::{mpsc, oneshot};

use super::sender::Attempt;
use crate::{
    db::JoinFirst,
    domain::{
        Ctx,
        outbox::{self, PENDING, lease_free},
    },
    error::{AppError, AppResult},
};

/// The most writes one transaction takes.
const MAX_BATCH: usize = 512;

/// A finished attempt, to be logged with the delivery's new state.
pub struct Finished {
    pub delivery: delivery::Model,
    pub attempt: Attempt,
    /// `PENDING` (with `next_attempt_at`), `SUCCEEDED` or `FAILED`.
    pub status: &'static str,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The webhook had a run of failures or was UNHEALTHY when the lease
    /// was taken. Only then does a success write its health: for a healthy
    /// webhook that write would change nothing and cost a round trip.
    pub webhook_was_failing: bool,
}

/// A leased delivery with its webhook as it was when the lease was taken
/// and its event (`None`: deleted meanwhile).
pub struct Claimed {
    pub delivery: delivery::Model,
    pub webhook: Option<Arc<webhook::Model>>,
    pub event: Option<Arc<event::Model>>,
}

/// Events kept in memory by each worker process.
const EVENT_CACHE: u64 = 4096;

type EventCache = Cache<String, Arc<event::Model>>;

struct Claim {
    delivery_id: String,
    until: DateTime<Utc>,
    due_by: DateTime<Utc>,
    /// A lease the delivery was handed over with, taken over if unchanged.
    handed_lease: Option<DateTime<Utc>>,
    reply: oneshot::Sender<AppResult<Option<Claimed>>>,
}

pub(super) struct Record {
    pub(super) finished: Finished,
    pub(super) reply: oneshot::Sender<AppResult<Option<delivery::Model>>>,
}

#[derive(Clone)]
pub struct Committer {
    claims: mpsc::Sender<Claim>,
    records: mpsc::Sender<Record>,
}

fn stopped() -> AppError {
    AppError::Internal(anyhow::anyhow!("the delivery writer has stopped"))
}

impl Committer {
    /// Starts the two writer tasks; they end when every `Committer` clone
    /// is dropped.
    pub fn start(app: Ctx) -> Self {
        let (claims, claim_rx) = mpsc::channel(4 * MAX_BATCH);
        let (records, record_rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(claim_loop(app.clone(), claim_rx));
        tokio::spawn(super::record::record_loop(app, record_rx));
        Self { claims, records }
    }

    /// Takes the lease on a pending delivery due by `due_by`, until
    /// `until`, and returns it with its webhook and event; `None` when it
    /// is settled, gone, not due or held by another worker. A delivery
    /// still under `handed_lease`, the lease it was handed over with, is
    /// taken over.
    pub async fn claim(
        &self,
        delivery_id: &str,
        until: DateTime<Utc>,
        due_by: DateTime<Utc>,
        handed_lease: Option<DateTime<Utc>>,
    ) -> AppResult<Option<Claimed>> {
        let (reply, answer) = oneshot::channel();
        let claim = Claim {
            delivery_id: delivery_id.to_owned(),
            until,
            due_by,
            handed_lease,
            reply,
        };
        self.claims.send(claim).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Logs the attempt, settles or reschedules the delivery and updates
    /// the webhook's health; returns the delivery as stored, or `None`
    /// when it was deleted meanwhile (its webhook deleted).
    pub async fn record(&self, finished: Finished) -> AppResult<Option<delivery::Model>> {
        let (reply, answer) = oneshot::channel();
        self.records
            .send(Record { finished, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Waits for one item, then takes whatever else is already queued.
pub(super) async fn next_batch<T>(rx: &mut mpsc::Receiver<T>) -> Option<Vec<T>> {
    let first = rx.recv().await?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(item) => batch.push(item),
            Err(_) => break,
        }
    }
    Some(batch)
}

async fn claim_loop(app: Ctx, mut rx: mpsc::Receiver<Claim>) {
    // Where the lease does not bring them: events never change once
    // written, and a fan-out sends one event to many webhooks: each is read
    // once.
    let events = Cache::builder()
        .max_capacity(EVENT_CACHE)
        .eviction_policy(EvictionPolicy::lru())
        .build();
    while let Some(batch) = next_batch(&mut rx).await {
        match claim_all(&app, &events, &batch).await {
            Ok(mut taken) => {
                for claim in batch {
                    let _ = claim.reply.send(Ok(taken.remove(&claim.delivery_id)));
                }
            }
            Err(e) => {
                tracing::warn!(
                    error = e.detail(),
                    count = batch.len(),
                    "claiming deliveries failed"
                );
                for claim in batch {
                    let _ = claim.reply.send(Err(AppError::Internal(anyhow::anyhow!(
                        "claiming the delivery failed"
                    ))));
                }
            }
        }
    }
}

async fn claim_all(
    app: &Ctx,
    events: &EventCache,
    batch: &[Claim],
) -> AppResult<HashMap<String, Claimed>> {
    let now = Utc::now();
    // Every claim in a batch asks for the same lease length and tolerance;
    // take the longest so none is shortened.
    let until = batch.iter().map(|c| c.until).max().unwrap_or(now);
    let due_by = batch.iter().map(|c| c.due_by).max().unwrap_or(now);
    // The lease is the batch's only write: one statement that commits on
    // its own, with no BEGIN and COMMIT around it (two round trips fewer on
    // PostgreSQL; on SQLite the writer slot is held for one statement).
    // Ahead of the API's queued writes: every delivery waits for its lease.
    // Each leased row comes back with its organization's webhook version
    // (`outbox::webhooks_version_of_row`), so that its webhook can come from
    // the organization's enabled webhooks as this process knows them at
    // that version, without a read.
    let mut lease =
        delivery::Entity::update_many()
            .col_expr(delivery::Column::LockedUntil, Expr::value(until))
            .filter(delivery::Column::Id.is_in(batch.iter().map(|c| c.delivery_id.clone())))
            .filter(delivery::Column::Status.eq(PENDING))
            .filter(
                Condition::any()
                    .add(delivery::Column::NextAttemptAt.is_null())
                    .add(delivery::Column::NextAttemptAt.lte(due_by)),
            )
            .filter(Condition::any().add(lease_free(now)).add(
                delivery::Column::LockedUntil.is_in(batch.iter().filter_map(|c| c.handed_lease)),
            ))
            .into_query();
    let columns = delivery::Column::iter().count();
    lease.returning(
        Query::returning().exprs(
            delivery::Column::iter()
                .map(Expr::col)
                .chain([outbox::webhooks_version_of_row(delivery::Entity)]),
        ),
    );
    // A delivery's attempt waits for its event: where the database can,
    // the batch's events come in the lease's statement, a round trip fewer
    // (at moderate rates a batch is one delivery).
    let with_events = JoinFirst {
        on: "event_id",
        table: "events",
        columns: event::Column::iter()
            .map(|column| IdenStatic::as_str(&column))
            .collect(),
        prefix: EVENT,
    };
    let rows = app.db.update_ahead(&lease, &with_events).await?;
    let mut taken = Vec::with_capacity(rows.len());
    let mut versions: BTreeMap<String, i64> = BTreeMap::new();
    let mut joined: HashMap<String, Arc<event::Model>> = HashMap::new();
    for row in rows {
        let delivery = delivery::Model::from_query_result(&row, "")?;
        if let Some(version) = row.try_get_by_index::<Option<i64>>(columns)? {
            versions.insert(delivery.organization_id.clone(), version);
        }
        if row
            .try_get::<Option<String>>(EVENT, "id")
            .ok()
            .flatten()
            .is_some()
        {
            let event = event::Model::from_query_result(&row, EVENT)?;
            joined.insert(event.id.clone(), Arc::new(event));
        }
        taken.push(delivery);
    }
    // Their webhooks: known ones from memory (a read of the organization's
    // enabled webhooks when its version is new to this process), the rest
    // (disabled since, say) in one query for the batch. These are reads;
    // should one fail, the leases just taken lapse at `until` and the
    // sweeper queues their deliveries again.
    // Only the webhooks the batch names are taken from the organization's
    // list: a one-delivery batch of an organization with a hundred webhooks
    // copies one.
    let wanted: HashSet<&str> = taken.iter().map(|d| d.webhook_id.as_str()).collect();
    let mut webhooks: HashMap<String, Arc<webhook::Model>> = HashMap::new();
    for (organization_id, version) in &versions {
        for known in outbox::enabled_webhooks(&app.caches, &app.db, organization_id, *version)
            .await?
            .iter()
            .filter(|known| wanted.contains(known.webhook.id.as_str()))
        {
            webhooks.insert(known.webhook.id.clone(), known.webhook.clone());
        }
    }
    let webhook_ids = distinct(
        taken
            .iter()
            .map(|d| &d.webhook_id)
            .filter(|id| !webhooks.contains_key(*id)),
    );
    if !webhook_ids.is_empty() {
        for webhook in webhook::Entity::find()
            .filter(webhook::Column::Id.is_in(webhook_ids))
            .all(&app.db)
            .await?
        {
            webhooks.insert(webhook.id.clone(), Arc::new(webhook));
        }
    }
    let unjoined = (taken.iter().map(|d| &d.event_id)).filter(|id| !joined.contains_key(*id));
    joined.extend(events_of(&app.db, events, unjoined).await?);
    Ok(taken
        .into_iter()
        .map(|delivery| {
            let claimed = Claimed {
                webhook: webhooks.get(&delivery.webhook_id).cloned(),
                event: joined.get(&delivery.event_id).cloned(),
                delivery,
            };
            (claimed.delivery.id.clone(), claimed)
        })
        .collect())
}

/// The events `wanted` names: from this worker's `cache`, the rest read in
/// one query for the whole batch (a fan-out batch shares few events) and
/// kept, as events never change.
async fn events_of<'a>(
    conn: &impl ConnectionTrait,
    cache: &EventCache,
    wanted: impl Iterator<Item = &'a String>,
) -> AppResult<HashMap<String, Arc<event::Model>>> {
    let mut found = HashMap::new();
    let mut unread = Vec::new();
    for id in wanted {
        match cache.get(id) {
            Some(event) => drop(found.insert(id.clone(), event)),
            None => unread.push(id),
        }
    }
    let unread = distinct(unread.into_iter());
    if !unread.is_empty() {
        for event in event::Entity::find()
            .filter(event::Column::Id.is_in(unread))
            .all(conn)
            .await?
        {
            let event = Arc::new(event);
            cache.insert(event.id.clone(), event.clone());
            found.insert(event.id.clone(), event);
        }
    }
    Ok(found)
}

/// The prefix of the event's columns in a lease read with its events.
const EVENT: &str = "event__";

pub(super) fn distinct<'a>(ids: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut ids: Vec<String> = ids.cloned().collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use sea_orm::IntoActiveModel;

    use super::*;

    fn event(id: &str) -> event::Model {
        event::Model {
            id: id.to_string(),
            organization_id: "org".into(),
            project_id: None,
            event_type: "TODO_CREATED".into(),
            actor_id: None,
            current_value: serde_json::json!({}),
            previous_value: None,
            created_at: Utc::now(),
        }
    }

    /// An event the cache holds is not read again; one it lacks is read
    /// once for the batch, and kept.
    #[tokio::test]
    async fn a_batch_reads_only_the_events_the_cache_lacks() {
        use migration::MigratorTrait;
        let db = crate::db::in_memory().await;
        migration::Migrator::up(&db, None).await.unwrap();
        let now = Utc::now();
        let org = entity::organization::Model {
            id: "org".into(),
            name: "o".into(),
            created_at: now,
            updated_at: now,
        };
        entity::organization::Entity::insert(org.into_active_model())
            .exec_without_returning(&db)
            .await
            .unwrap();
        event::Entity::insert(event("b").into_active_model())
            .exec_without_returning(&db)
            .await
            .unwrap();
        let cache = Cache::new(4);
        // Not in the database: found only if taken from the cache.
        cache.insert("a".to_string(), Arc::new(event("a")));

        let wanted = ["a", "b", "b"].map(String::from);
        let found = events_of(&db, &cache, wanted.iter()).await.unwrap();
        assert_eq!(found.len(), 2);
        assert!(cache.contains_key("b"), "a read event is kept");
    }
}
