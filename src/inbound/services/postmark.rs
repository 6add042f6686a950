//! Postmark: `RecordType` webhooks (bounces, deliveries, opens, spam
//! complaints…) and inbound e-mail (`From`, `Subject`, `TextBody`).

use super::{Reading, Request, Service, Summary, fallback, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let subject = or(p, "/Subject", "(no subject)");
    let summary = match text(p, "/RecordType").as_deref() {
        Some("Bounce") => Summary::new(format!(
            "{} for {}: {subject}",
            or(p, "/Name", "Bounce"),
            or(p, "/Email", "?")
        ))
        .field("Description", text(p, "/Description"))
        .field("Details", text(p, "/Details")),
        Some("Delivery") => Summary::new(format!(
            "Delivered to {}: {}",
            or(p, "/Recipient", "?"),
            or(p, "/Details", "")
        )),
        Some("Open") => Summary::new(format!("{} opened a message", or(p, "/Recipient", "?"))),
        Some("Click") => Summary::new(format!(
            "{} clicked {}",
            or(p, "/Recipient", "?"),
            or(p, "/OriginalLink", "a link")
        )),
        Some("SpamComplaint") => Summary::new(format!(
            "Spam complaint from {}: {subject}",
            or(p, "/Email", "?")
        )),
        Some(other) => fallback(Service::Postmark, Some(other.to_owned()), p),
        None if p.pointer("/From").is_some() => Summary::new(format!(
            "E-mail from {}: {subject}",
            first(p, &["/FromName", "/From"]).unwrap_or_default()
        ))
        .line(clip(&or(p, "/TextBody", ""), 1_000)),
        None => fallback(Service::Postmark, None, p),
    };
    Reading::Post(summary.field("Tag", text(p, "/Tag")))
}
