//! One attempt at one delivery, from job to logged outcome: take the
//! delivery's lease, sign and send the payload, then in one transaction log
//! the attempt, settle or reschedule the delivery and update the webhook's
//! health.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{delivery, event, webhook};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde::Serialize;

use super::{
    commit::{self, Claimed, Committer},
    health,
    queue::{Due, HandedOver},
    sender::{Attempt, Outgoing, Sender},
};
use crate::{
    config::RetrySchedule,
    domain::Ctx,
    domain::{
        ids,
        outbox::{FAILED, PENDING, SUCCEEDED},
        webhooks::{WebhookView, signing_secrets},
    },
    error::AppResult,
};

/// A job that arrives this much before its delivery is due waits for it;
/// an earlier one is queued again for the right time.
const EARLY_TOLERANCE: Duration = Duration::from_secs(2);
/// The lease outlives the request timeout by this much, covering the
/// writes around the request.
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// How long a delivery's lease lasts, for a request timeout of `timeout`.
pub fn lease_length(timeout: Duration) -> Duration {
    timeout + LEASE_MARGIN
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to do: gone (before or during its attempt), settled, not
    /// due, or another worker holds it.
    Skipped,
    Succeeded,
    /// Failed; another attempt is scheduled.
    Retrying,
    /// Failed for good (schedule exhausted, 410, webhook disabled).
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Skipped => "skipped",
            Outcome::Succeeded => "succeeded",
            Outcome::Retrying => "retrying",
            Outcome::Failed => "failed",
        }
    }
}

/// Everything an attempt needs; one per worker process.
pub struct Deliverer {
    app: Ctx,
    committer: Committer,
    sender: Sender,
    schedule: RetrySchedule,
    timeout: Duration,
}

/// The body receivers get: Blue's payload shape, serialized once so the
/// signed bytes are the sent bytes.
pub fn payload(webhook: &webhook::Model, event: &event::Model) -> Vec<u8> {
    // The event's values are serialized where they lie, not copied into a
    // new JSON value first (a fan-out sends one event a hundred times).
    // Keys in the order a JSON object of them had, so the bytes are too.
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Payload<'a> {
        current_value: &'a serde_json::Value,
        event: &'a str,
        previous_value: &'a Option<serde_json::Value>,
        webhook: WebhookView<'a>,
    }
    serde_json::to_vec(&Payload {
        current_value: &event.current_value,
        event: &event.event_type,
        previous_value: &event.previous_value,
        webhook: WebhookView::new(webhook),
    })
    .expect("payloads serialize")
}

impl Deliverer {
    pub fn new(app: Ctx) -> anyhow::Result<Self> {
        let timeout = app.settings.delivery_timeout();
        Ok(Self {
            sender: Sender::new(
                timeout,
                app.settings.allow_private_targets,
                app.settings.worker_concurrency,
            )?,
            committer: Committer::start(app.clone()),
            schedule: app.settings.retry_schedule.clone(),
            timeout,
            app,
        })
    }

    /// Attempts the delivery `delivery_id`, handed over in memory with
    /// `handoff` when the change that owed it gave it to this process's
    /// queue.
    #[tracing::instrument(skip_all, fields(delivery = %delivery_id, outcome))]
    pub async fn attempt(
        &self,
        delivery_id: &str,
        handoff: Option<&HandedOver>,
    ) -> AppResult<Outcome> {
        let outcome = self.run(delivery_id, handoff).await?;
        tracing::Span::current().record("outcome", outcome.as_str());
        if outcome != Outcome::Skipped {
            self.app.metrics.delivery_outcome(outcome.as_str());
        }
        Ok(outcome)
    }

    /// The delivery, leased, with its webhook and event: handed over by the
    /// change that owed it while its lease still covers a whole attempt,
    /// else leased here (only one worker may have an attempt in flight,
    /// whatever the queue hands out twice). `None`: nothing to attempt.
    async fn take(
        &self,
        delivery_id: &str,
        handoff: Option<&HandedOver>,
    ) -> AppResult<Option<Claimed>> {
        let now = Utc::now();
        let handed_lease = handoff.and_then(|handoff| handoff.leased_until);
        let covers_attempt = |until: DateTime<Utc>| until - now >= ids::span(self.timeout);
        if let Some(handoff) = handoff
            && handed_lease.is_some_and(covers_attempt)
        {
            return Ok(Some(Claimed {
                delivery: handoff.delivery(delivery_id),
                webhook: Some(handoff.webhook.clone()),
                event: Some(handoff.event.clone()),
            }));
        }
        // A handoff that waited in the queue too long renews its lease like
        // any job, and may still take it over while it runs.
        let until = now + ids::span(lease_length(self.timeout));
        let due_by = now + ids::span(EARLY_TOLERANCE);
        self.committer
            .claim(delivery_id, until, due_by, handed_lease)
            .await
    }

    async fn run(&self, delivery_id: &str, handoff: Option<&HandedOver>) -> AppResult<Outcome> {
        let Some(Claimed {
            delivery,
            webhook,
            event,
        }) = self.take(delivery_id, handoff).await?
        else {
            return self.not_taken(delivery_id).await;
        };
        if let Some(due) = delivery.next_attempt_at {
            tokio::time::sleep((due - Utc::now()).to_std().unwrap_or_default()).await;
        }
        let (Some(webhook), Some(event)) = (webhook, event) else {
            // Deleted since: the cascade removes the delivery too.
            return Ok(Outcome::Skipped);
        };
        if !webhook.enabled {
            return self.give_up(delivery, "the webhook is disabled").await;
        }

        let body = payload(&webhook, &event);
        let now = Utc::now();
        let signing = signing_secrets(&self.app.secrets, &webhook, now)?;
        let secrets: Vec<&str> = signing.iter().map(String::as_str).collect();
        let attempt = self
            .sender
            .send(&Outgoing {
                delivery_id: &delivery.id,
                event_type: &delivery.event_type,
                url: &webhook.url,
                secrets: &secrets,
                body: &body,
                timestamp: now.timestamp(),
            })
            .await;
        self.app.metrics.delivery_latency(attempt.latency);
        let was_failing = health::is_failing(&webhook);
        self.record(delivery, attempt, was_failing).await
    }

    /// A job whose delivery could not be leased: settled, gone, held by
    /// another worker, or not due yet. Only the last needs anything: a job
    /// at the right time.
    async fn not_taken(&self, delivery_id: &str) -> AppResult<Outcome> {
        let delivery = delivery::Entity::find_by_id(delivery_id)
            .one(&self.app.db)
            .await?;
        if let Some(delivery) = delivery
            && delivery.status == PENDING
            && let Some(due) = delivery.next_attempt_at
            && due > Utc::now()
        {
            let due = Due::new(delivery.id, due);
            self.app.queue.push(&[due]).await;
        }
        Ok(Outcome::Skipped)
    }

    /// Works out what an attempt means for its delivery, has it recorded
    /// (see [`Committer`]), then queues the retry and tells subscribers.
    async fn record(
        &self,
        delivery: delivery::Model,
        attempt: Attempt,
        webhook_was_failing: bool,
    ) -> AppResult<Outcome> {
        let number = delivery.attempts + 1;
        let (outcome, next) = if attempt.succeeded() {
            (Outcome::Succeeded, None)
        } else if attempt.status == Some(410) {
            (Outcome::Failed, None)
        } else {
            let asked = attempt.retry_after.map(|d| d.min(MAX_RETRY_AFTER));
            match self.schedule.delay_before(number as usize + 1, asked) {
                Some(delay) => (Outcome::Retrying, Some(ids::now() + ids::span(delay))),
                None => (Outcome::Failed, None),
            }
        };
        let status = match outcome {
            Outcome::Succeeded => SUCCEEDED,
            Outcome::Retrying => PENDING,
            _ => FAILED,
        };
        let Some(settled) = self
            .committer
            .record(commit::Finished {
                delivery,
                attempt,
                status,
                next_attempt_at: next,
                webhook_was_failing,
            })
            .await?
        else {
            tracing::debug!("the delivery was deleted during its attempt; nothing to record");
            return Ok(Outcome::Skipped);
        };
        if let Some(at) = next {
            let due = Due::new(settled.id.clone(), at);
            self.app.queue.push(&[due]).await;
        }
        self.app.deliveries.publish(&[settled]).await;
        Ok(outcome)
    }

    /// Settles a delivery as failed without an attempt.
    async fn give_up(&self, delivery: delivery::Model, why: &str) -> AppResult<Outcome> {
        let txn = self.app.db.begin().await?;
        let mut active: delivery::ActiveModel = delivery.into();
        active.status = Set(FAILED.to_owned());
        active.next_attempt_at = Set(None);
        active.locked_until = Set(None);
        active.last_error = Set(Some(why.to_owned()));
        active.updated_at = Set(ids::now());
        let settled = active.update(&txn).await?;
        txn.commit().await?;
        self.app.deliveries.publish(&[settled]).await;
        Ok(Outcome::Failed)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The payload's bytes are those of the JSON object Blue's example
    /// shows (keys sorted, as a serde_json object writes them), with the
    /// webhook's secret blank; the view it is serialized through must not
    /// change them.
    #[test]
    fn payload_is_blues_shape_without_the_secret() {
        let mut w = crate::domain::webhooks::sample(true, json!(["TODO_CREATED"]), json!([]));
        w.secret = "whsec_not-to-be-sent".into();
        w.created_by_id = Some("u1".into());
        let now = w.created_at;
        let e = event::Model {
            id: "e1".into(),
            organization_id: "o".into(),
            project_id: Some("p1".into()),
            event_type: "TODO_CREATED".into(),
            actor_id: Some("u1".into()),
            current_value: json!({"id": "t1", "title": "Ship \"it\"", "done": false}),
            previous_value: None,
            created_at: now,
        };
        let expected = json!({
            "event": "TODO_CREATED",
            "webhook": {
                "id": "w",
                "uid": "u",
                "name": "n",
                "url": "https://example.com/hook",
                "secret": "",
                "status": "HEALTHY",
                "enabled": true,
                "metadata": { "events": ["TODO_CREATED"], "projectIds": [] },
                "createdById": "u1",
                "createdAt": now,
                "updatedAt": now,
            },
            "currentValue": {"id": "t1", "title": "Ship \"it\"", "done": false},
            "previousValue": null,
        });
        let body = payload(&w, &e);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            serde_json::to_string(&expected).unwrap()
        );
        assert_eq!(
            crate::domain::webhooks::webhook_json(&w),
            expected["webhook"]
        );
    }
}
