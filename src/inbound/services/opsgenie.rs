//! OpsGenie: the webhook integration's `{action, alert, source}`.

use super::{Reading, Request, Service, Summary, fallback, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let Some(action) = text(p, "/action") else {
        return Reading::Post(fallback(Service::OpsGenie, None, p));
    };
    let verb = match action.as_str() {
        "Create" => "created".to_owned(),
        "Acknowledge" => "acknowledged".to_owned(),
        "Close" => "closed".to_owned(),
        "AddNote" => "got a note".to_owned(),
        "Escalate" => "escalated".to_owned(),
        "AssignOwnership" => "assigned".to_owned(),
        other => words(other).to_lowercase(),
    };
    Reading::Post(
        Summary::new(format!(
            "Alert {} {verb}: {}",
            first(p, &["/alert/tinyId", "/alert/alertId"]).unwrap_or_default(),
            or(p, "/alert/message", "")
        ))
        .field("Priority", text(p, "/alert/priority"))
        .field("Entity", text(p, "/alert/entity"))
        .field("Source", text(p, "/alert/source"))
        .field("By", text(p, "/alert/username"))
        .field("Note", text(p, "/alert/note"))
        .field(
            "Tags",
            Some(
                list(p, "/alert/tags")
                    .iter()
                    .filter_map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
            .filter(|t| !t.is_empty()),
        ),
    )
}
