//! A service's request as adapters see it: headers, the raw body (what
//! signatures cover) and the body read as JSON, whatever it came as.

use actix_web::http::header::HeaderMap;
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};

pub struct Request<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The body as JSON: JSON bodies as they are, forms as objects (with
    /// `a[b][c]` keys nested and a `payload=`/`data=` JSON field unwrapped),
    /// an empty body as the query string's fields (Yo calls with a GET).
    pub payload: Value,
}

impl Request<'_> {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }
}

/// Reads a body as JSON, a form, or (when empty) the query string; `400`
/// when it is none of these. Any U+0000 in it becomes U+FFFD: PostgreSQL
/// stores no NUL in text, and a service's message is worth more than the
/// character (refused, it would be lost: services do not retry a 400).
pub fn parse_body(content_type: Option<&str>, query: &str, body: &[u8]) -> AppResult<Value> {
    let mut payload = read_body(content_type, query, body)?;
    replace_nul(&mut payload);
    Ok(payload)
}

fn replace_nul(value: &mut Value) {
    fn clean(text: &str) -> Option<String> {
        text.contains('\0').then(|| text.replace('\0', "\u{FFFD}"))
    }
    match value {
        Value::String(text) => {
            if let Some(clean) = clean(text) {
                *text = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(replace_nul),
        Value::Object(fields) => {
            if fields.keys().any(|key| key.contains('\0')) {
                *fields = std::mem::take(fields)
                    .into_iter()
                    .map(|(key, value)| (clean(&key).unwrap_or(key), value))
                    .collect();
            }
            fields.values_mut().for_each(replace_nul);
        }
        _ => {}
    }
}

fn read_body(content_type: Option<&str>, query: &str, body: &[u8]) -> AppResult<Value> {
    let content_type = content_type.unwrap_or("").to_ascii_lowercase();
    if body.iter().all(u8::is_ascii_whitespace) {
        let fields = form(query.as_bytes())?;
        if fields.as_object().is_some_and(Map::is_empty) {
            return Err(AppError::MalformedRequest(
                "the request has no body to read".into(),
            ));
        }
        return Ok(fields);
    }
    if content_type.contains("json") {
        return json(body);
    }
    if content_type.contains("x-www-form-urlencoded") {
        return form(body);
    }
    // No (or an odd) content type: JSON if it parses, else a form.
    json(body).or_else(|_| {
        if body.contains(&b'=') {
            form(body)
        } else {
            Err(AppError::MalformedRequest(
                "the body is neither JSON nor a form".into(),
            ))
        }
    })
}

fn json(body: &[u8]) -> AppResult<Value> {
    serde_json::from_slice(body)
        .map_err(|e| AppError::MalformedRequest(format!("the body is not valid JSON: {e}")))
}

fn form(body: &[u8]) -> AppResult<Value> {
    if std::str::from_utf8(body).is_err() {
        return Err(AppError::MalformedRequest(
            "the form body is not UTF-8".into(),
        ));
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    // Slack, Mattermost and Librato send `payload=<json>`, Olark `data=<json>`.
    if let [(key, value)] = pairs.as_slice()
        && (key == "payload" || key == "data")
        && value.trim_start().starts_with(['{', '['])
    {
        return serde_json::from_str(value).map_err(|e| {
            AppError::MalformedRequest(format!("the `{key}` field is not valid JSON: {e}"))
        });
    }
    let mut root = Map::new();
    for (key, value) in pairs {
        insert_nested(&mut root, &key, value);
    }
    Ok(Value::Object(root))
}

/// `data[merges][EMAIL]=x` → `{"data": {"merges": {"EMAIL": "x"}}}`, as
/// Mailchimp and Chargify send their forms.
fn insert_nested(root: &mut Map<String, Value>, key: &str, value: String) {
    let mut parts = key.split('[').map(|p| p.trim_end_matches(']'));
    let head = parts.next().unwrap_or_default().to_owned();
    let rest: Vec<&str> = parts.collect();
    let mut slot = root.entry(head).or_insert(Value::Null);
    for part in rest {
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        slot = slot
            .as_object_mut()
            .expect("just made an object")
            .entry(part.to_owned())
            .or_insert(Value::Null);
    }
    *slot = Value::String(value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_characters_become_replacement_characters_in_values_and_keys() {
        let parsed = parse_body(
            Some("application/json"),
            "",
            br#"{"text": "a\u0000b", "list": ["\u0000"], "k\u0000": {"n": 1}}"#,
        )
        .unwrap();
        assert_eq!(
            parsed,
            json!({"text": "a\u{FFFD}b", "list": ["\u{FFFD}"], "k\u{FFFD}": {"n": 1}})
        );
        let form = parse_body(None, "", b"text=a%00b").unwrap();
        assert_eq!(form, json!({"text": "a\u{FFFD}b"}));
    }

    #[test]
    fn reads_json_forms_and_queries() {
        assert_eq!(
            parse_body(Some("application/json"), "", br#"{"a":1}"#).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            parse_body(
                Some("application/x-www-form-urlencoded"),
                "",
                b"type=subscribe&data[merges][EMAIL]=a%40b.c&data[id]=7"
            )
            .unwrap(),
            json!({"type": "subscribe", "data": {"merges": {"EMAIL": "a@b.c"}, "id": "7"}})
        );
        assert_eq!(
            parse_body(None, "", b"payload=%7B%22text%22%3A%22hi%22%7D").unwrap(),
            json!({"text": "hi"})
        );
        assert_eq!(
            parse_body(None, "username=ALICE", b"").unwrap(),
            json!({"username": "ALICE"})
        );
    }

    #[test]
    fn refuses_unreadable_bodies() {
        for (content_type, body) in [
            (Some("application/json"), &b"{not json"[..]),
            (None, b"just words"),
            (None, b"  "),
            (
                Some("application/x-www-form-urlencoded"),
                b"payload={broken",
            ),
        ] {
            let err = parse_body(content_type, "", body).unwrap_err();
            assert_eq!(err.code(), "BAD_REQUEST", "{body:?}");
        }
    }
}
