//! Olark: `data=<json>` with a conversation's transcript and visitor.

use super::{Reading, Request, Summary, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let visitor = first(
        p,
        &["/visitor/fullName", "/visitor/emailAddress", "/visitor/id"],
    )
    .unwrap_or_else(|| "a visitor".to_owned());
    let kind = or(p, "/kind", "Conversation");
    let items = list(p, "/items");
    let title = if kind == "Conversation" {
        format!("Chat with {visitor} ({} message(s))", items.len())
    } else {
        format!("Olark {}: {visitor}", words(&kind))
    };
    Reading::Post(
        Summary::new(title)
            .field("Email", text(p, "/visitor/emailAddress"))
            .lines(items.iter().take(15).map(|item| {
                format!(
                    "{}: {}",
                    or(item, "/nickname", "?"),
                    clip(&or(item, "/body", ""), 300)
                )
            }))
            .link(text(p, "/visitor/conversationBeginPage")),
    )
}
