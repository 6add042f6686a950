//! `filter`, `order`, `offset`, `limit` and `mask` of the list route,
//! parsed into typed values; anything else is a `BAD_USER_INPUT` that says
//! what was wrong.

use entity::integration_point;
use sea_orm::{ColumnTrait, Order, QueryFilter, QueryOrder, QuerySelect, Select};
use serde_json::Value;

use super::fields::{ALL, Field};
use crate::{
    error::{AppError, AppResult},
    secrets::{Secrets, purpose},
};

pub const DEFAULT_LIMIT: u64 = 100;
pub const MAX_LIMIT: u64 = 1_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Wanted {
    Text(String),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filter: Vec<(Field, Wanted)>,
    /// Fields and whether descending.
    pub order: Vec<(Field, bool)>,
    pub offset: u64,
    pub limit: u64,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            filter: Vec::new(),
            order: Vec::new(),
            offset: 0,
            limit: DEFAULT_LIMIT,
        }
    }
}

fn json_param(name: &str, raw: &str) -> AppResult<Value> {
    serde_json::from_str(raw)
        .map_err(|e| AppError::validation(format!("`{name}` is not valid JSON: {e}")))
}

/// `{"type": "public", "opts.issync": false}` or with `opts`/`ext` nested.
pub fn parse_filter(raw: &str) -> AppResult<Vec<(Field, Wanted)>> {
    let Value::Object(object) = json_param("filter", raw)? else {
        return Err(AppError::validation("`filter` must be a JSON object"));
    };
    let mut flat = Vec::new();
    for (key, value) in object {
        match value {
            Value::Object(inner) if key == "opts" || key == "ext" => {
                flat.extend(inner.into_iter().map(|(k, v)| (format!("{key}.{k}"), v)))
            }
            other => flat.push((key, other)),
        }
    }
    flat.into_iter()
        .map(|(key, value)| {
            let field = Field::parse(&key)?;
            if field.is_token() && field != Field::TokenLocal {
                return Err(AppError::validation(format!(
                    "`filter` cannot match {} (kept encrypted)",
                    field.name()
                )));
            }
            let wanted = match (&value, field.is_bool(), field.is_time()) {
                (_, _, true) => {
                    return Err(AppError::validation(format!(
                        "`filter` cannot match {} (a time)",
                        field.name()
                    )));
                }
                (Value::Bool(b), true, _) => Wanted::Bool(*b),
                (Value::String(s), false, _) => Wanted::Text(s.clone()),
                _ => {
                    return Err(AppError::validation(format!(
                        "`filter` on {} takes a {}, not {value}",
                        field.name(),
                        if field.is_bool() { "boolean" } else { "string" }
                    )));
                }
            };
            Ok((field, wanted))
        })
        .collect()
}

/// `["code", "-ext.ct", {"type": "desc"}]`, or plainly `code,-ext.ct`.
pub fn parse_order(raw: &str) -> AppResult<Vec<(Field, bool)>> {
    let items: Vec<Value> = if raw.trim_start().starts_with('[') {
        match json_param("order", raw)? {
            Value::Array(items) => items,
            _ => unreachable!("starts with ["),
        }
    } else {
        raw.split(',')
            .map(|s| Value::String(s.to_owned()))
            .collect()
    };
    let mut order = Vec::new();
    for item in items {
        match item {
            Value::String(s) => {
                let s = s.trim();
                match s.strip_prefix('-') {
                    Some(name) => order.push((Field::parse(name)?, true)),
                    None => order.push((Field::parse(s.trim_start_matches('+'))?, false)),
                }
            }
            Value::Object(object) => {
                for (name, direction) in object {
                    let desc = match direction.as_str().map(str::to_ascii_lowercase).as_deref() {
                        Some("asc") => false,
                        Some("desc") => true,
                        _ => {
                            return Err(AppError::validation(format!(
                                "`order` direction of {name} must be \"asc\" or \"desc\""
                            )));
                        }
                    };
                    order.push((Field::parse(&name)?, desc));
                }
            }
            other => {
                return Err(AppError::validation(format!(
                    "`order` items are field names or {{field: direction}}, not {other}"
                )));
            }
        }
    }
    if let Some((token, _)) = order.iter().find(|(field, _)| field.is_token()) {
        return Err(AppError::validation(format!(
            "`order` cannot sort by {} (kept encrypted)",
            token.name()
        )));
    }
    Ok(order)
}

/// `id,code,opts.title`: the fields to return.
pub fn parse_mask(raw: &str) -> AppResult<Vec<Field>> {
    let fields = raw
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(Field::parse)
        .collect::<AppResult<Vec<_>>>()?;
    if fields.is_empty() {
        return Err(AppError::validation("`mask` names no field"));
    }
    Ok(fields)
}

pub fn parse_count(name: &str, raw: &str, max: u64) -> AppResult<u64> {
    let n: u64 = raw.trim().parse().map_err(|_| {
        AppError::validation(format!(
            "`{name}` must be a non-negative integer, not {raw:?}"
        ))
    })?;
    if n > max {
        return Err(AppError::validation(format!(
            "`{name}` must be at most {max}"
        )));
    }
    Ok(n)
}

pub fn parse_bool(name: &str, raw: &str) -> AppResult<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(AppError::validation(format!(
            "`{name}` must be true or false"
        ))),
    }
}

impl ListQuery {
    pub fn apply(
        &self,
        secrets: &Secrets,
        mut select: Select<integration_point::Entity>,
    ) -> Select<integration_point::Entity> {
        for (field, wanted) in &self.filter {
            select = match wanted {
                // Found by its lookup value (parse_filter takes no other token).
                Wanted::Text(s) if field.is_token() => select.filter(
                    integration_point::Column::TokenLocalHash
                        .eq(secrets.lookup(purpose::CHANNEL_TOKEN, s)),
                ),
                Wanted::Text(s) => select.filter(field.column().eq(s.clone())),
                Wanted::Bool(b) => select.filter(field.column().eq(*b)),
            };
        }
        for (field, desc) in &self.order {
            select = select.order_by(field.column(), if *desc { Order::Desc } else { Order::Asc });
        }
        select
            .order_by_asc(integration_point::Column::Id)
            .offset(self.offset)
            .limit(self.limit)
    }
}

/// Every field, for an unmasked answer.
pub fn all_fields() -> Vec<Field> {
    ALL.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_filters_orders_and_masks() {
        assert_eq!(
            parse_filter(r#"{"type": "public", "opts": {"issync": false}}"#).unwrap(),
            vec![
                (Field::OptsIsSync, Wanted::Bool(false)),
                (Field::Type, Wanted::Text("public".into()))
            ]
        );
        assert_eq!(
            parse_order(r#"["code", "-ext.ct", {"type": "DESC"}]"#).unwrap(),
            vec![
                (Field::Code, false),
                (Field::ExtCt, true),
                (Field::Type, true)
            ]
        );
        assert_eq!(
            parse_order("code,-id").unwrap(),
            vec![(Field::Code, false), (Field::Id, true)]
        );
        assert_eq!(
            parse_mask("id,tokenlocal,opts.title").unwrap(),
            vec![Field::Id, Field::TokenLocal, Field::OptsTitle]
        );
    }

    #[test]
    fn refuses_unknown_fields_wrong_types_and_injection() {
        for bad in [
            r#"{"nope": "x"}"#,
            r#"{"type": 3}"#,
            r#"{"opts.issync": "yes"}"#,
            r#"{"ext.ct": "2019"}"#,
            r#"["code"]"#,
            r#"{"code": "x"#,
            r#"{"code; DROP TABLE integration_points": "x"}"#,
        ] {
            assert_eq!(
                parse_filter(bad).unwrap_err().code(),
                "BAD_USER_INPUT",
                "{bad}"
            );
        }
        for bad in [
            r#"["nope"]"#,
            r#"[{"code": "sideways"}]"#,
            "[1]",
            "code desc",
            "id;--",
        ] {
            assert!(parse_order(bad).is_err(), "{bad}");
        }
        assert!(parse_mask("id,secret").is_err());
        assert!(parse_mask(",").is_err());
        assert!(parse_count("limit", "-1", MAX_LIMIT).is_err());
        assert!(parse_count("limit", "1001", MAX_LIMIT).is_err());
        assert!(parse_bool("flat", "maybe").is_err());
    }
}
