//! Formstack: a submission's fields by name, plus `FormID`, `UniqueID`
//! and the `HandshakeKey` (the shared secret, never shown).

use serde_json::Value;

use super::{Reading, Request, Summary, fields::*};

const META: &[&str] = &["FormID", "UniqueID", "HandshakeKey"];

pub fn read(r: &Request) -> Reading {
    let p = &r.payload;
    let answers = p
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, _)| !META.contains(&key.as_str()))
        .map(|(key, value)| {
            let answer = match value {
                Value::String(s) => s.clone(),
                Value::Object(parts) => parts
                    .values()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
                other => other.to_string(),
            };
            format!("{key}: {}", clip(&answer, 300))
        });
    Reading::Post(
        Summary::new(format!("New submission to form {}", or(p, "/FormID", "?")))
            .lines(answers)
            .link(
                text(p, "/UniqueID")
                    .map(|id| format!("https://www.formstack.com/admin/submission/view/{id}")),
            ),
    )
}
