//! Incoming webhooks, Slack-compatible (as Mattermost also accepts them):
//! `text`, `attachments`, `blocks`, `username`, as JSON or `payload=<json>`.

use serde_json::{Value, json};

use super::{Reading, Request, Summary, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    if text(p, "/type").as_deref() == Some("url_verification") {
        return Reading::Handshake(json!({ "challenge": text(p, "/challenge") }));
    }
    let mut parts: Vec<String> = Vec::new();
    parts.extend(text(p, "/text"));
    for block in list(p, "/blocks") {
        parts.extend(block_text(block));
    }
    for a in list(p, "/attachments") {
        parts.extend(first(a, &["/pretext"]));
        parts.extend(first(a, &["/title"]));
        parts.extend(first(a, &["/text", "/fallback"]));
        for field in list(a, "/fields") {
            if let Some(title) = text(field, "/title") {
                parts.push(format!("{title}: {}", or(field, "/value", "")));
            }
        }
        parts.extend(text(a, "/title_link"));
    }
    // One message as the sender wrote it: the first line leads.
    let all = parts.join("\n");
    let mut lines = all.lines().map(str::to_owned);
    let title = lines.next().unwrap_or_else(|| "(empty message)".to_owned());
    let mut summary = Summary::new(title).lines(lines);
    summary.author = text(p, "/username");
    Reading::Post(summary)
}

/// Block Kit: section and header texts, context elements, section fields.
fn block_text(block: &Value) -> Vec<String> {
    let mut out: Vec<String> = text(block, "/text/text").into_iter().collect();
    for item in list(block, "/fields")
        .iter()
        .chain(list(block, "/elements"))
    {
        out.extend(text(item, "/text"));
    }
    out
}
