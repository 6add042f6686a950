//! Crashlytics (Fabric): `issue_impact_change` for issues, and a
//! `verification` call when the webhook is set up.

use serde_json::json;

use super::{Reading, Request, Service, Summary, fallback, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    match text(p, "/event").as_deref() {
        Some("verification") => Reading::Handshake(json!({ "verified": true })),
        Some("issue_impact_change") => Reading::Post(
            Summary::new(format!(
                "Crash issue #{} is affecting {} device(s): {}",
                or(p, "/payload/display_id", "?"),
                or(p, "/payload/impacted_devices_count", "?"),
                or(p, "/payload/title", "")
            ))
            .field("Method", text(p, "/payload/method"))
            .field("Crashes", text(p, "/payload/crashes_count"))
            .field("Impact level", text(p, "/payload/impact_level"))
            .link(text(p, "/payload/url")),
        ),
        other => Reading::Post(fallback(Service::Crashlytics, other.map(str::to_owned), p)),
    }
}
