//! Zoho Desk: an array of `{eventType: "Ticket_Add", payload: {…}}`.

use serde_json::Value;

use super::{Reading, Request, Service, Summary, fallback, fields::*};

pub fn read(r: &Request) -> Reading {
    let events: &[Value] = match &r.payload {
        Value::Array(events) => events,
        single @ Value::Object(_) => std::slice::from_ref(single),
        other => return Reading::Post(fallback(Service::Zoho, None, other)),
    };
    let Some(e) = events.first() else {
        return Reading::Post(fallback(Service::Zoho, None, &r.payload));
    };
    let kind = or(e, "/eventType", "event");
    let t = e.pointer("/payload").unwrap_or(&Value::Null);
    let number = first(t, &["/ticketNumber", "/id"]).unwrap_or_else(|| "?".into());
    let subject = or(t, "/subject", "");
    let title = match kind.as_str() {
        "Ticket_Add" => format!("Ticket #{number} created: {subject}"),
        "Ticket_Update" => format!("Ticket #{number} updated: {subject}"),
        "Ticket_Thread_Add" => format!("New reply on ticket {}", or(t, "/ticketId", "?")),
        "Ticket_Comment_Add" => format!("New comment on ticket {}", or(t, "/ticketId", "?")),
        "Contact_Add" => format!(
            "New contact: {} {}",
            or(t, "/firstName", ""),
            or(t, "/lastName", "")
        ),
        other => return Reading::Post(fallback(Service::Zoho, Some(other.to_owned()), t)),
    };
    let contact = [text(t, "/contact/firstName"), text(t, "/contact/lastName")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Reading::Post(
        Summary::new(title)
            .field("Status", text(t, "/status"))
            .field("Priority", text(t, "/priority"))
            .field("Contact", Some(contact).filter(|c| !c.is_empty()))
            .field("Email", first(t, &["/email", "/contact/email"]))
            .line(clip(
                &strip_html(&first(t, &["/content", "/summary"]).unwrap_or_default()),
                500,
            ))
            .link(text(t, "/webUrl")),
    )
}
