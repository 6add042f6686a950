//! AppSignal: one top-level key says what the notification is about
//! (`exception`, `performance`, `marker` for deploys, `alert` for anomalies).

use super::{Reading, Request, Service, Summary, fallback, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let summary = if let Some(e) = p.pointer("/exception") {
        Summary::new(format!(
            "{}: {}",
            or(e, "/exception", "Error"),
            first_line(&or(e, "/message", ""), 200)
        ))
        .field("Action", text(e, "/action"))
        .field("Environment", text(e, "/environment"))
        .field("Backtrace", text(e, "/first_backtrace_line"))
        .link(text(e, "/url"))
    } else if let Some(perf) = p.pointer("/performance") {
        Summary::new(format!(
            "Slow request: {} took {} ms",
            or(perf, "/action", "?"),
            or(perf, "/duration", "?")
        ))
        .field("Environment", text(perf, "/environment"))
        .link(text(perf, "/url"))
    } else if let Some(m) = p.pointer("/marker") {
        Summary::new(format!(
            "{} deployed {} to {}",
            or(m, "/user", "someone"),
            or(m, "/revision", "?").chars().take(7).collect::<String>(),
            or(m, "/environment", "?")
        ))
        .field("Site", text(m, "/site"))
        .link(text(m, "/url"))
    } else if let Some(a) = p.pointer("/alert") {
        Summary::new(format!(
            "Alert {} {}: {}",
            or(a, "/metric_name", "metric"),
            or(a, "/state", "changed"),
            or(a, "/alert_id", "")
        ))
        .field("Value", text(a, "/last_value"))
        .field("Environment", text(a, "/environment"))
        .link(text(a, "/alert_url"))
    } else {
        fallback(Service::AppSignal, None, p)
    };
    Reading::Post(summary)
}
