//! Librato alerts: `payload=<json>` with the alert, its violations, and
//! `clear` when it recovers.

use super::{Reading, Request, Summary, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let name = or(p, "/alert/name", "an alert");
    let cleared = p.pointer("/clear").is_some();
    let mut summary = Summary::new(if cleared {
        format!("Librato alert {name} cleared")
    } else {
        format!("Librato alert {name} triggered")
    });
    if let Some(violations) = p.pointer("/violations").and_then(|v| v.as_object()) {
        for (source, list) in violations {
            for v in list.as_array().into_iter().flatten() {
                summary = summary.line(format!(
                    "{source}: {} = {}",
                    or(v, "/metric", "metric"),
                    or(v, "/value", "?")
                ));
            }
        }
    }
    Reading::Post(summary.link(first(p, &["/alert/runbook_url"]).or_else(|| {
        text(p, "/alert/id").map(|id| format!("https://metrics.librato.com/alerts/{id}"))
    })))
}
