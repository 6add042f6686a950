//! Intercom: a notification `{topic, data: {item}}`; `ping` when set up.

use serde_json::json;

use super::{Reading, Request, Service, Summary, fallback, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let topic = or(p, "/topic", "");
    if topic == "ping" {
        return Reading::Handshake(json!({ "pong": true }));
    }
    let item = "/data/item";
    let person = first(
        p,
        &[
            &format!("{item}/source/author/name"),
            &format!("{item}/user/name"),
            &format!("{item}/name"),
            &format!("{item}/source/author/email"),
            &format!("{item}/email"),
        ],
    )
    .unwrap_or_else(|| "someone".to_owned());
    let title = match topic.as_str() {
        "conversation.user.created" => format!("New conversation from {person}"),
        "conversation.user.replied" => format!("{person} replied in a conversation"),
        "conversation.admin.replied" => format!(
            "{} replied to a conversation",
            or(
                p,
                &format!("{item}/conversation_parts/conversation_parts/0/author/name"),
                "An admin"
            )
        ),
        "conversation.admin.closed" => "A conversation was closed".to_owned(),
        "user.created" | "contact.user.created" => format!("New user: {person}"),
        "contact.lead.created" => format!("New lead: {person}"),
        _ => return Reading::Post(fallback(Service::Intercom, Some(topic), p)),
    };
    let body = first(
        p,
        &[
            &format!("{item}/conversation_parts/conversation_parts/0/body"),
            &format!("{item}/source/body"),
            &format!("{item}/conversation_message/body"),
        ],
    );
    Reading::Post(
        Summary::new(title)
            .field(
                "Subject",
                text(p, &format!("{item}/source/subject")).map(|s| strip_html(&s)),
            )
            .line(clip(&strip_html(&body.unwrap_or_default()), 500))
            .link(first(
                p,
                &[
                    &format!("{item}/links/conversation_web"),
                    &format!("{item}/url"),
                ],
            )),
    )
}
