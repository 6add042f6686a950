//! Zendesk: event webhooks (`type: zen:event-type:ticket.created`, the
//! ticket under `detail`) and trigger webhooks (a `ticket` object).

use super::{Reading, Request, Service, Summary, fallback, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    if let Some(kind) = text(p, "/type") {
        let event = kind.rsplit(':').next().unwrap_or(&kind).to_owned();
        let id = or(p, "/detail/id", "?");
        let subject = or(p, "/detail/subject", "");
        let title = match event.as_str() {
            "ticket.created" => format!("Ticket #{id} created: {subject}"),
            "ticket.status_changed" => format!(
                "Ticket #{id} status changed from {} to {}: {subject}",
                or(p, "/event/previous", "?"),
                or(p, "/event/current", "?")
            ),
            "ticket.comment_added" => format!("New comment on ticket #{id}: {subject}"),
            "ticket.priority_changed" => format!(
                "Ticket #{id} priority changed to {}: {subject}",
                or(p, "/event/current", "?")
            ),
            other if other.starts_with("ticket.") => {
                format!(
                    "Ticket #{id} {}: {subject}",
                    words(&other["ticket.".len()..])
                )
            }
            _ => return Reading::Post(fallback(Service::Zendesk, Some(kind), p)),
        };
        return Reading::Post(
            Summary::new(title)
                .line(clip(&strip_html(&or(p, "/event/comment/body", "")), 500))
                .field("Status", text(p, "/detail/status"))
                .field("Priority", text(p, "/detail/priority"))
                .field("Via", text(p, "/detail/via/channel")),
        );
    }
    if p.pointer("/ticket").is_some() {
        return Reading::Post(
            Summary::new(format!(
                "Ticket #{} {}: {}",
                or(p, "/ticket/id", "?"),
                or(p, "/ticket/event", "updated"),
                first(p, &["/ticket/title", "/ticket/subject"]).unwrap_or_default()
            ))
            .field("Status", text(p, "/ticket/status"))
            .field("Requester", text(p, "/ticket/requester"))
            .line(clip(&or(p, "/ticket/latest_comment", ""), 500))
            .link(text(p, "/ticket/url")),
        );
    }
    Reading::Post(fallback(Service::Zendesk, None, p))
}
