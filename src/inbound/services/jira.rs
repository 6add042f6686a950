//! Jira: `webhookEvent` names the kind; the browse link is built from the
//! issue's REST `self` URL.

use serde_json::Value;

use super::{Reading, Request, Service, Summary, fallback, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let event = or(p, "/webhookEvent", "");
    let kind = or(p, "/issue_event_type_name", "");
    let key = or(p, "/issue/key", "?");
    let summary_text = or(p, "/issue/fields/summary", "");
    let who = first(p, &["/user/displayName", "/comment/author/displayName"])
        .unwrap_or_else(|| "someone".to_owned());
    let link = browse_link(p);
    let summary = match event.as_str() {
        "jira:issue_created" => Summary::new(format!(
            "{who} created {} {key}: {summary_text}",
            or(p, "/issue/fields/issuetype/name", "issue").to_lowercase()
        ))
        .field("Priority", text(p, "/issue/fields/priority/name"))
        .field("Status", text(p, "/issue/fields/status/name"))
        .field("Assignee", text(p, "/issue/fields/assignee/displayName")),
        "jira:issue_updated" if kind == "issue_commented" => {
            Summary::new(format!("{who} commented on {key}: {summary_text}"))
                .line(clip(&or(p, "/comment/body", ""), 500))
        }
        "jira:issue_updated" => Summary::new(format!("{who} updated {key}: {summary_text}")).lines(
            list(p, "/changelog/items").iter().map(|item| {
                format!(
                    "{}: {} → {}",
                    or(item, "/field", "field"),
                    or(item, "/fromString", "(none)"),
                    or(item, "/toString", "(none)")
                )
            }),
        ),
        "comment_created" | "comment_updated" => Summary::new(format!(
            "{who} {} on {key}: {summary_text}",
            if event == "comment_created" {
                "commented"
            } else {
                "edited a comment"
            }
        ))
        .line(clip(&or(p, "/comment/body", ""), 500)),
        "jira:issue_deleted" => Summary::new(format!("{who} deleted {key}: {summary_text}")),
        _ => fallback(Service::Jira, Some(event), p).field("Issue", text(p, "/issue/key")),
    };
    Reading::Post(summary.link(link))
}

/// `https://x.atlassian.net/rest/api/2/issue/10002` → `…/browse/KEY-1`.
fn browse_link(p: &Value) -> Option<String> {
    let own = text(p, "/issue/self")?;
    let base = own.split("/rest/").next()?;
    Some(format!("{base}/browse/{}", text(p, "/issue/key")?))
}
