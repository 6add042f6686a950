//! Deliveries handed over in memory: on the embedded queue with in-process
//! workers, the change that owes a delivery inserts it leased and hands it
//! to the workers with its event. Whoever holds the lease attempts it, and
//! only they: a handoff whose lease would run out mid-attempt renews it,
//! and one whose lease another worker has taken over sends nothing.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use clap::Parser;
use entity::{delivery, event, webhook};
use junction::{
    cli::Cli,
    domain::delivery::{
        attempt::{Deliverer, Outcome},
        queue::{HandedOver, Handoff},
    },
    startup,
};
use sea_orm::{
    ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use serde_json::json;

use crate::{
    helpers::*,
    receiver::{Answer, Receiver},
};

const WAIT: Duration = Duration::from_secs(15);

/// A worker of its own on `app`'s database, outside any server.
async fn deliverer(app: &TestApp) -> Deliverer {
    let named = secret_key_for(&app.database_url, &[]);
    let mut args = vec![
        "junction",
        "--database-url",
        &app.database_url,
        "--jwt-secret",
        &app.jwt_secret,
        "--allow-private-targets",
        "--in-process-workers",
        "false",
    ];
    args.extend(named.iter().map(String::as_str));
    let cli = Cli::try_parse_from(args).unwrap();
    let (state, _) = startup::build_state(cli.settings).await.unwrap();
    Deliverer::new(state.ctx).unwrap()
}

/// The job a change would hand over for `delivery`, leased until `lease`
/// from now, with its event and webhook as they are now.
async fn handed(
    db: &DatabaseConnection,
    delivery: &delivery::Model,
    lease: Duration,
) -> (String, HandedOver) {
    let until = junction::domain::ids::now() + chrono::Duration::from_std(lease).unwrap();
    set_lease(db, &delivery.id, until).await;
    let event = event::Entity::find_by_id(&delivery.event_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let webhook = webhook::Entity::find_by_id(&delivery.webhook_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    Handoff {
        delivery: delivery::Model {
            locked_until: Some(until),
            ..delivery.clone()
        },
        event: Arc::new(event),
        webhook: Arc::new(webhook),
    }
    .into_job()
}

async fn set_lease(db: &DatabaseConnection, id: &str, until: chrono::DateTime<Utc>) {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::LockedUntil, Expr::value(until))
        .filter(delivery::Column::Id.eq(id))
        .exec(db)
        .await
        .unwrap();
}

async fn status_of(db: &DatabaseConnection, id: &str) -> String {
    delivery::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test]
async fn a_handed_over_delivery_is_sent_once_by_whoever_holds_its_lease() {
    let mut receiver = Receiver::start(Answer::Ok).await;
    // A server that owes deliveries and attempts none: this test plays its
    // workers, with the jobs such a server would hand over.
    let app = spawn_app_with(&["--allow-private-targets", "--in-process-workers", "false"]).await;
    let owner = app.register("owner").await;
    app.ok(
        Some(&owner.token),
        "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }",
        json!({ "i": { "name": "Handed", "url": receiver.url, "events": ["PROJECT_CREATED"] } }),
    )
    .await;
    for name in ["direct", "renewed"] {
        app.create_project(&owner, name).await;
    }
    let db = Database::connect(&app.database_url).await.unwrap();
    let owed = delivery::Entity::find()
        .order_by_asc(delivery::Column::CreatedAt)
        .order_by_asc(delivery::Column::Id)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(owed.len(), 2, "one delivery per project");
    let worker = deliverer(&app).await;

    // A lease that covers a whole attempt: sent as handed over.
    let job = handed(&db, &owed[0], Duration::from_secs(60)).await;
    assert_eq!(
        worker.attempt(&job.0, Some(&job.1)).await.unwrap(),
        Outcome::Succeeded
    );
    let sent = receiver.next(WAIT).await;
    assert_eq!(sent.json()["currentValue"]["name"], "direct");
    assert_eq!(status_of(&db, &owed[0].id).await, "SUCCEEDED");

    // A handoff that waited in the queue until its lease would run out
    // before the request timeout (15 s), and meanwhile another worker took
    // the delivery over: nothing is sent.
    let job = handed(&db, &owed[1], Duration::from_secs(2)).await;
    set_lease(&db, &owed[1].id, Utc::now() + chrono::Duration::minutes(1)).await;
    assert_eq!(
        worker.attempt(&job.0, Some(&job.1)).await.unwrap(),
        Outcome::Skipped
    );
    assert!(
        receiver.drain(Duration::from_millis(300)).await.is_empty(),
        "another worker holds the lease"
    );
    assert_eq!(status_of(&db, &owed[1].id).await, "PENDING");

    // The same, with its lease still the one it was handed: renewed, then
    // sent.
    let job = handed(&db, &owed[1], Duration::from_secs(2)).await;
    assert_eq!(
        worker.attempt(&job.0, Some(&job.1)).await.unwrap(),
        Outcome::Succeeded
    );
    let sent = receiver.next(WAIT).await;
    assert_eq!(sent.json()["currentValue"]["name"], "renewed");
    assert_eq!(status_of(&db, &owed[1].id).await, "SUCCEEDED");
    assert!(receiver.drain(Duration::from_millis(300)).await.is_empty());
}
