//! The integration point as seed 002 shows it: fields in its order, `opts`
//! and `ext` nested (or `opts.title`-style keys with `flat`), times like
//! `2019-08-28T13:34:16.42Z`.

use chrono::{DateTime, Timelike, Utc};
use entity::integration_point;
use serde_json::{Map, Value, json};

use super::fields::Field;

/// `2019-08-28T13:34:16.42Z`: UTC, hundredths of a second.
pub fn time(t: DateTime<Utc>) -> String {
    format!(
        "{}.{:02}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.nanosecond() % 1_000_000_000 / 10_000_000
    )
}

fn value(c: &integration_point::Model, field: Field) -> Value {
    match field {
        Field::Id => json!(c.id),
        Field::Code => json!(c.code),
        Field::Type => json!(c.kind),
        Field::TokenLocal => json!(c.token_local),
        Field::TokenRemote => json!(c.token_remote),
        Field::TokenRemote2 => json!(c.token_remote2),
        Field::Url => json!(c.url),
        Field::RecvSvcScriptCode => json!(c.recv_svcscriptcode),
        Field::RecvSvcScriptCodeWs => json!(c.recv_svcscriptcode_ws),
        Field::SendSvcScriptCode => json!(c.send_svcscriptcode),
        Field::SendSvcScriptCodeWs => json!(c.send_svcscriptcode_ws),
        Field::OptsTitle => json!(c.opts_title),
        Field::OptsComment => json!(c.opts_comment),
        Field::OptsAllowFilesApi => json!(c.opts_allow_files_api),
        Field::OptsIsSync => json!(c.opts_issync),
        Field::ExtCt => json!(time(c.created_at)),
        Field::ExtLwt => json!(time(c.updated_at)),
        Field::ProjectId => json!(c.project_id),
    }
}

/// The entity with only `fields` (in the seed's order), nested or flat.
pub fn render(c: &integration_point::Model, fields: &[Field], flat: bool) -> Value {
    let mut root = Map::new();
    for field in fields {
        let name = field.name();
        match name.split_once('.') {
            Some((group, key)) if !flat => {
                let slot = root
                    .entry(group.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(inner) = slot {
                    inner.insert(key.to_owned(), value(c, *field));
                }
            }
            _ => {
                root.insert(name.to_owned(), value(c, *field));
            }
        }
    }
    Value::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_have_hundredths() {
        let t = Utc.with_ymd_and_hms(2019, 8, 28, 13, 34, 16).unwrap()
            + chrono::Duration::milliseconds(420);
        assert_eq!(time(t), "2019-08-28T13:34:16.42Z");
        let t = Utc.with_ymd_and_hms(2019, 9, 10, 12, 49, 25).unwrap()
            + chrono::Duration::microseconds(179_999);
        assert_eq!(time(t), "2019-09-10T12:49:25.17Z");
    }
}
