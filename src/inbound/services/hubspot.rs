//! HubSpot: webhooks come in batches, an array of subscription events.

use serde_json::Value;

use super::{Reading, Request, Service, Summary, fallback, fields::*, plural};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let events = match p {
        Value::Array(events) => events.as_slice(),
        other => return Reading::Post(fallback(Service::HubSpot, None, other)),
    };
    let lines: Vec<String> = events.iter().map(describe).collect();
    let summary = match lines.as_slice() {
        [one] => Summary::new(format!("HubSpot: {one}")),
        many => Summary::new(format!(
            "HubSpot: {} event{}",
            many.len(),
            plural(many.len())
        ))
        .lines(many.iter().map(|l| format!("- {l}"))),
    };
    let link = events.first().and_then(|e| {
        let object = or(e, "/subscriptionType", "").split('.').next()?.to_owned();
        Some(format!(
            "https://app.hubspot.com/contacts/{}/{object}/{}",
            text(e, "/portalId")?,
            text(e, "/objectId")?
        ))
    });
    Reading::Post(summary.link(link))
}

/// `contact.propertyChange` → `contact 123: email changed to a@b.c`.
fn describe(e: &Value) -> String {
    let kind = or(e, "/subscriptionType", "event");
    let (object, change) = kind.split_once('.').unwrap_or((&kind, "changed"));
    let id = or(e, "/objectId", "?");
    match change {
        "propertyChange" => format!(
            "{object} {id}: {} changed to {}",
            or(e, "/propertyName", "a property"),
            or(e, "/propertyValue", "(empty)")
        ),
        "creation" => format!("{object} {id} created"),
        "deletion" => format!("{object} {id} deleted"),
        other => format!("{object} {id}: {}", words(other)),
    }
}
