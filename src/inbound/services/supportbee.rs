//! SupportBee: `{action: "ticket.created", payload: {ticket: …}}` (replies
//! and comments carry `payload.reply` / `payload.comment`).

use super::{Reading, Request, Summary, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let action = first(p, &["/action", "/type"]).unwrap_or_else(|| "ticket.updated".into());
    let t = "/payload/ticket";
    let subject = or(p, &format!("{t}/subject"), "(no subject)");
    let requester = first(
        p,
        &[
            &format!("{t}/requester/name"),
            &format!("{t}/requester/email"),
        ],
    )
    .unwrap_or_else(|| "someone".into());
    let title = match action.as_str() {
        "ticket.created" => format!("New ticket from {requester}: {subject}"),
        a if a.starts_with("ticket.replied") => format!("New reply on ticket: {subject}"),
        "ticket.commented" => format!("New comment on ticket: {subject}"),
        other => format!(
            "Ticket {}: {subject}",
            words(other.trim_start_matches("ticket."))
        ),
    };
    let body = first(
        p,
        &[
            "/payload/reply/content/text",
            "/payload/comment/content/text",
            &format!("{t}/content/text"),
        ],
    );
    Reading::Post(
        Summary::new(title)
            .line(clip(&body.unwrap_or_default(), 500))
            .field("Ticket", text(p, &format!("{t}/id"))),
    )
}
