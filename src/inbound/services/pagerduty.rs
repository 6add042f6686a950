//! PagerDuty v3 webhooks: `{"event": {"event_type": "incident.triggered",
//! "data": {…the incident…}}}`; `pagey.ping` checks the subscription.

use serde_json::json;

use super::{Reading, Request, Service, Summary, fallback, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let kind = or(p, "/event/event_type", "");
    if kind == "pagey.ping" {
        return Reading::Handshake(json!({ "pong": true }));
    }
    let Some(verb) = kind.strip_prefix("incident.") else {
        return Reading::Post(fallback(Service::PagerDuty, Some(kind), p));
    };
    let verb = match verb {
        "annotated" => "annotated".to_owned(),
        other => words(other),
    };
    Reading::Post(
        Summary::new(format!(
            "Incident #{} {verb}: {}",
            or(p, "/event/data/number", "?"),
            or(p, "/event/data/title", "")
        ))
        .field("Service", text(p, "/event/data/service/summary"))
        .field("Urgency", text(p, "/event/data/urgency"))
        .field("Status", text(p, "/event/data/status"))
        .field("By", text(p, "/event/agent/summary"))
        .line(clip(&or(p, "/event/data/content", ""), 500))
        .link(text(p, "/event/data/html_url")),
    )
}
