//! Chargebee: an event `{event_type, content: {customer, subscription, …}}`.

use super::{Reading, Request, Summary, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let kind = or(p, "/event_type", "event");
    let customer = first(
        p,
        &[
            "/content/customer/email",
            "/content/customer/id",
            "/content/subscription/customer_id",
        ],
    );
    let title = match &customer {
        Some(c) => format!("Chargebee: {} for {c}", words(&kind)),
        None => format!("Chargebee: {}", words(&kind)),
    };
    Reading::Post(
        Summary::new(title)
            .field("Subscription", text(p, "/content/subscription/id"))
            .field(
                "Plan",
                first(
                    p,
                    &[
                        "/content/subscription/plan_id",
                        "/content/subscription/subscription_items/0/item_price_id",
                    ],
                ),
            )
            .field(
                "Amount",
                text(p, "/content/invoice/total")
                    .map(|t| money(&t, &or(p, "/content/invoice/currency_code", ""))),
            )
            .field("Status", text(p, "/content/subscription/status")),
    )
}
