//! Stripe: an Event object; `type` names what happened to `data.object`.

use serde_json::Value;

use super::{Reading, Request, Summary, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let kind = or(p, "/type", "event");
    let o = p.pointer("/data/object").unwrap_or(&Value::Null);
    let object = or(o, "/object", "object").replace('_', " ");
    let amount = first(o, &["/amount", "/amount_due", "/amount_paid", "/total"])
        .map(|a| money(&a, &or(o, "/currency", "")));
    let outcome = kind.rsplit('.').next().unwrap_or(&kind).replace('_', " ");
    let title = match &amount {
        Some(amount) => format!("Stripe {object} of {amount} {outcome}"),
        None => format!("Stripe {object} {} {outcome}", or(o, "/id", "")),
    };
    let dashboard = match p.pointer("/livemode") {
        Some(Value::Bool(true)) => "https://dashboard.stripe.com",
        _ => "https://dashboard.stripe.com/test",
    };
    Reading::Post(
        Summary::new(title)
            .field("Event", Some(kind))
            .field("Description", text(o, "/description"))
            .field(
                "Customer",
                first(
                    o,
                    &["/receipt_email", "/customer_email", "/email", "/customer"],
                ),
            )
            .field(
                "Reason",
                first(o, &["/failure_message", "/cancellation_details/reason"]),
            )
            .link(text(p, "/id").map(|id| format!("{dashboard}/events/{id}"))),
    )
}
