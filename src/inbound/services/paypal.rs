//! PayPal: a webhook event `{event_type, summary, resource}`.

use super::{Reading, Request, Summary, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let kind = or(p, "/event_type", "EVENT");
    let amount = first(p, &["/resource/amount/value", "/resource/amount/total"]).map(|v| {
        format!(
            "{v} {}",
            first(
                p,
                &[
                    "/resource/amount/currency_code",
                    "/resource/amount/currency"
                ]
            )
            .unwrap_or_default()
        )
    });
    Reading::Post(
        Summary::new(
            text(p, "/summary")
                .unwrap_or_else(|| format!("PayPal {}", words(&kind).to_lowercase())),
        )
        .field("Event", Some(kind))
        .field("Amount", amount)
        .field("Status", text(p, "/resource/status"))
        .field("Resource", text(p, "/resource/id"))
        .link(
            list(p, "/resource/links")
                .iter()
                .find(|l| text(l, "/rel").as_deref() == Some("self"))
                .and_then(|l| text(l, "/href")),
        ),
    )
}
