//! Reading loosely-typed payloads: every service names and nests things its
//! own way, and a missing field must never fail a webhook.

use serde_json::Value;

/// The field at JSON pointer `ptr` as text (strings, numbers and booleans),
/// if present and not blank.
pub fn text(v: &Value, ptr: &str) -> Option<String> {
    match v.pointer(ptr)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The first of several pointers that has text.
pub fn first(v: &Value, ptrs: &[&str]) -> Option<String> {
    ptrs.iter().find_map(|p| text(v, p))
}

/// [`text`], or `default` when absent.
pub fn or(v: &Value, ptr: &str, default: &str) -> String {
    text(v, ptr).unwrap_or_else(|| default.to_owned())
}

/// The array at `ptr`, empty when absent.
pub fn list<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The first line of `s`, at most `max` characters.
pub fn first_line(s: &str, max: usize) -> String {
    clip(s.lines().next().unwrap_or(""), max)
}

/// `s` cut to `max` characters, with an ellipsis when cut.
pub fn clip(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// Text with HTML tags removed (Intercom and Zendesk send bodies as HTML).
pub fn strip_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `snake_case` or `dotted.names` as words: `subscription_created` →
/// `subscription created`.
pub fn words(s: &str) -> String {
    s.replace(['_', '.', ':'], " ")
}

/// An amount in minor units as `12.34 USD`.
pub fn money(minor: &str, currency: &str) -> String {
    let amount = match minor.parse::<i64>() {
        Ok(cents) => format!(
            "{}{}.{:02}",
            if cents < 0 { "-" } else { "" },
            cents.abs() / 100,
            cents.abs() % 100
        ),
        Err(_) => minor.to_owned(),
    };
    format!("{amount} {}", currency.to_uppercase())
        .trim_end()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_text_from_strings_numbers_and_booleans() {
        let v = json!({"a": {"b": " x "}, "n": 3, "t": true, "e": "", "o": {}});
        assert_eq!(text(&v, "/a/b").as_deref(), Some("x"));
        assert_eq!(text(&v, "/n").as_deref(), Some("3"));
        assert_eq!(text(&v, "/t").as_deref(), Some("true"));
        assert_eq!(text(&v, "/e"), None);
        assert_eq!(text(&v, "/o"), None);
        assert_eq!(first(&v, &["/missing", "/n"]).as_deref(), Some("3"));
    }

    #[test]
    fn clips_strips_and_formats() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(first_line("one\ntwo", 10), "one");
        assert_eq!(strip_html("<p>Hi <b>there</b></p>"), "Hi there");
        assert_eq!(money("2000", "usd"), "20.00 USD");
        assert_eq!(money("-5", "eur"), "-0.05 EUR");
        assert_eq!(
            words("customer.subscription_created"),
            "customer subscription created"
        );
    }
}
