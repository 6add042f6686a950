//! Mailchimp: a form body, `type=subscribe&data[email]=…`. Mailchimp checks
//! a new URL with a GET first (answered by the route).

use super::{Reading, Request, Summary, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let email = first(p, &["/data/email", "/data/new_email"]).unwrap_or_else(|| "someone".into());
    let list = or(p, "/data/list_id", "?");
    let title = match text(p, "/type").as_deref() {
        Some("subscribe") => format!("{email} subscribed to list {list}"),
        Some("unsubscribe") => format!("{email} unsubscribed from list {list}"),
        Some("profile") => format!("{email} updated their profile in list {list}"),
        Some("upemail") => format!(
            "{} changed their address to {email} in list {list}",
            or(p, "/data/old_email", "someone")
        ),
        Some("cleaned") => format!("{email} was cleaned from list {list}"),
        Some("campaign") => format!(
            "Campaign \"{}\" {}",
            or(p, "/data/subject", "?"),
            or(p, "/data/status", "sent")
        ),
        other => format!(
            "Mailchimp {} for list {list}",
            other.unwrap_or("notification")
        ),
    };
    let name = [text(p, "/data/merges/FNAME"), text(p, "/data/merges/LNAME")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Reading::Post(
        Summary::new(title)
            .field("Name", Some(name).filter(|n| !n.is_empty()))
            .field("Reason", text(p, "/data/reason"))
            .field("At", text(p, "/fired_at")),
    )
}
