//! Netlify: outgoing deploy notifications carry the deploy object; its
//! `state` says which notification it is.

use super::{Reading, Request, Service, Summary, fallback, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let Some(state) = text(p, "/state") else {
        return Reading::Post(fallback(Service::Netlify, None, p));
    };
    let site = or(p, "/name", "a site");
    let what = match state.as_str() {
        "ready" => "succeeded",
        "error" => "failed",
        "building" | "enqueued" => "started",
        "new" => "was created",
        "processing" => "is processing",
        other => other,
    };
    Reading::Post(
        Summary::new(format!("Deploy of {site} {what}"))
            .field("Context", text(p, "/context"))
            .field("Branch", text(p, "/branch"))
            .field("Commit", text(p, "/title"))
            .field("Error", text(p, "/error_message"))
            .link(first(
                p,
                &["/deploy_ssl_url", "/ssl_url", "/admin_url", "/url"],
            )),
    )
}
