//! Fulcrum: `{type: "record.create", data: {…the record…}}`.

use super::{Reading, Request, Service, Summary, fallback, fields::*};

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let kind = or(p, "/type", "");
    let Some((object, action)) = kind.split_once('.') else {
        return Reading::Post(fallback(Service::Fulcrum, None, p));
    };
    let verb = match action {
        "create" => "created",
        "update" => "updated",
        "delete" => "deleted",
        other => other,
    };
    let id = or(p, "/data/id", "?");
    let mut summary = Summary::new(format!(
        "Fulcrum {} {} {verb}",
        object.replace('_', " "),
        first(p, &["/data/name", "/data/title"]).unwrap_or_else(|| id.clone())
    ))
    .field("Status", text(p, "/data/status"))
    .field("Form", text(p, "/data/form_id"))
    .field(
        "Location",
        text(p, "/data/latitude").map(|lat| format!("{lat}, {}", or(p, "/data/longitude", "?"))),
    );
    if object == "record" {
        summary = summary.link(Some(format!("https://web.fulcrumapp.com/records/{id}")));
    }
    Reading::Post(summary)
}
