//! Datadog: the webhook integration's default payload (`title`, `body`,
//! `alert_transition`, `link`, …; the template is the user's to change).

use super::{Reading, Request, Service, Summary, fallback, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let Some(title) = first(p, &["/title", "/event_title", "/alert_title"]) else {
        return Reading::Post(fallback(Service::Datadog, text(p, "/event_type"), p));
    };
    let state = first(p, &["/alert_transition", "/alert_status", "/alert_type"]);
    let title = match state {
        Some(state) if !title.contains(&state) => format!("[{state}] {title}"),
        _ => title,
    };
    Reading::Post(
        Summary::new(title)
            .line(clip(
                &first(p, &["/body", "/event_msg"]).unwrap_or_default(),
                1_000,
            ))
            .field("Priority", text(p, "/priority"))
            .field("Host", text(p, "/hostname"))
            .field("Tags", text(p, "/tags"))
            .link(first(p, &["/link", "/url"])),
    )
}
