//! Opbeat: `{action, object: {type, title, culprit, url}, app}` for error
//! groups and releases.

use super::{Reading, Request, Service, Summary, fallback, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let Some(title) = first(p, &["/object/title", "/title"]) else {
        return Reading::Post(fallback(Service::Opbeat, text(p, "/action"), p));
    };
    let kind = or(p, "/object/type", "error group").replace('_', " ");
    Reading::Post(
        Summary::new(format!(
            "{} {} {}: {title}",
            or(p, "/app/name", "App"),
            kind,
            or(p, "/action", "updated")
        ))
        .field("Culprit", text(p, "/object/culprit"))
        .field("Occurrences", text(p, "/object/count"))
        .link(first(p, &["/object/html_url", "/object/url", "/url"])),
    )
}
