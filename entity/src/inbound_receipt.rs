use sea_orm::entity::prelude::*;

/// A provider delivery an integration has already turned into something,
/// keyed by the provider's own delivery id, so a provider's retry creates
/// nothing twice.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbound_receipts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub integration_id: String,
    /// `X-GitHub-Delivery`, a Stripe event id, `webhook-id`, …
    pub provider_delivery_id: String,
    /// `message`, `page` or `todo`, and its id.
    pub created_kind: String,
    pub created_id: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
