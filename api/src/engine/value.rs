//! Values between the database, GraphQL and SQL parameters, and the opaque
//! keyset cursors built from them.

use std::sync::OnceLock;

use async_graphql::Value as GqlValue;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use erd::ColumnType;
use rust_decimal::Decimal;
use sea_orm::sea_query::Value as SqlValue;
use sea_orm::{ColIdx, QueryResult};
use serde::de::DeserializeOwned;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::engine::model::{ColumnInfo, DbEnumValue, Model, Scalar};
use crate::error::{ApiError, ApiResult};

/// Whether reading a column checks its type against the one the model
/// reads it as. The rows of one result share their column types: its first
/// row checks them, and the rows after it are trusted (on PostgreSQL the
/// check, a comparison of type descriptions, was a twentieth of the CPU of
/// a 5,000-row page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Types {
    Check,
    Trusted,
}

impl Types {
    /// For the row at `index` in its result.
    pub fn of_row(index: usize) -> Self {
        if index == 0 {
            Self::Check
        } else {
            Self::Trusted
        }
    }
}

/// Reads one column of a result row as the GraphQL value clients see; the
/// column is named by its alias, or by its position in the select list
/// (cheaper: no lookup of the name in the row's columns). Its type is
/// checked: [`read_with`] reads the rows after a result's first without.
pub fn read<I: ColIdx>(
    row: &QueryResult,
    alias: I,
    column: &ColumnInfo,
    model: &Model,
) -> ApiResult<GqlValue> {
    read_with(row, alias, column, model, Types::Check)
}

/// [`read`], its type checked as `types` says.
pub fn read_with<I: ColIdx>(
    row: &QueryResult,
    alias: I,
    column: &ColumnInfo,
    model: &Model,
    types: Types,
) -> ApiResult<GqlValue> {
    let value = match column.scalar {
        Scalar::Int => match column.ty {
            ColumnType::SmallInteger => {
                get::<i16, _>(row, alias, types)?.map(|v| GqlValue::from(i32::from(v)))
            }
            _ => get::<i32, _>(row, alias, types)?.map(GqlValue::from),
        },
        Scalar::BigInt => {
            get::<i64, _>(row, alias, types)?.map(|v| GqlValue::String(v.to_string()))
        }
        Scalar::Boolean => get::<bool, _>(row, alias, types)?.map(GqlValue::Boolean),
        Scalar::String => get::<String, _>(row, alias, types)?.map(GqlValue::String),
        Scalar::Decimal => get::<Decimal, _>(row, alias, types)?
            .map(|d| GqlValue::String(d.normalize().to_string())),
        Scalar::Uuid => {
            get::<uuid::Uuid, _>(row, alias, types)?.map(|u| GqlValue::String(u.to_string()))
        }
        Scalar::Date => get::<NaiveDate, _>(row, alias, types)?
            .map(|d| GqlValue::String(d.format("%Y-%m-%d").to_string())),
        Scalar::DateTime => get::<DateTime<Utc>, _>(row, alias, types)?
            .map(|t| GqlValue::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))),
        Scalar::Json | Scalar::GeoJson | Scalar::StringList => {
            json::<GqlValue, _>(row, alias, types)?
        }
        Scalar::Enum(e) => {
            let info = &model.enums[e];
            let name = match info.values.first().map(|(_, d)| d) {
                Some(DbEnumValue::Int(_)) => get::<i32, _>(row, alias, types)?
                    .map(|n| info.of_int(n).ok_or(DbEnumValue::Int(n))),
                _ => borrowed_text(row, alias, types)?.map(|text| {
                    info.of_text(text)
                        .ok_or_else(|| DbEnumValue::Text(text.into()))
                }),
            };
            match name {
                Some(Ok(name)) => Some(GqlValue::Enum(name.clone())),
                Some(Err(stored)) => {
                    return Err(ApiError::internal(format!(
                        "{}: stored value {stored:?} is not in the enum",
                        column.name
                    )));
                }
                None => None,
            }
        }
    };
    Ok(value.unwrap_or(GqlValue::Null))
}

/// A JSON column's value as rows hold it: its compact JSON text, and its
/// GraphQL value, built from the text only when something asks for it.
///
/// A page's JSON columns (a mobile sync's 5,000 GeoJSON locations) are
/// mostly written straight back out as JSON ([`crate::engine::plain`]):
/// decoded into GraphQL values, every object a map with its own keys,
/// they were a third of such a request's CPU between decoding, writing
/// and freeing them. The text is transcoded from what the database sent,
/// without a value tree, into the form async-graphql writes a value in
/// (no whitespace, numbers as serde_json writes them), so either path
/// answers with the same bytes. A stored object with a repeated key (not
/// possible in PostgreSQL's `jsonb`) is written with every occurrence,
/// where the value keeps the last.
#[derive(Debug)]
pub struct JsonText {
    text: Box<RawValue>,
    value: OnceLock<GqlValue>,
}

impl JsonText {
    /// The compact JSON text.
    pub fn raw(&self) -> &RawValue {
        &self.text
    }

    /// The GraphQL value of the text, built on first use.
    pub fn value(&self) -> &GqlValue {
        self.value.get_or_init(|| {
            // The text is JSON this process wrote: it always parses.
            serde_json::from_str(self.text.get()).unwrap_or(GqlValue::Null)
        })
    }
}

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = serde_json::value::to_raw_value(&serde_transcode::Transcoder::new(deserializer))
            .map_err(D::Error::custom)?;
        Ok(Self {
            text,
            value: OnceLock::new(),
        })
    }
}

/// A column's value as a row holds it: a JSON column as its text
/// ([`JsonText`]), any other as its GraphQL value ([`read`]).
#[derive(Debug)]
pub enum Cell {
    Value(GqlValue),
    Json(Box<JsonText>),
}

impl Cell {
    pub fn value(&self) -> &GqlValue {
        match self {
            Self::Value(value) => value,
            Self::Json(json) => json.value(),
        }
    }
}

/// [`read`], a JSON column kept as its text.
pub fn read_cell<I: ColIdx>(
    row: &QueryResult,
    alias: I,
    column: &ColumnInfo,
    model: &Model,
    types: Types,
) -> ApiResult<Cell> {
    if !column.scalar.stored_as_json() {
        return read_with(row, alias, column, model, types).map(Cell::Value);
    }
    Ok(match json::<JsonText, _>(row, alias, types)? {
        Some(text) => Cell::Json(Box::new(text)),
        None => Cell::Value(GqlValue::Null),
    })
}

/// One column as `T`. A PostgreSQL row is decoded by sqlx directly, its
/// column's type checked only when `types` asks (a null value is not
/// decoded, but its column's type is still checked, so the rows after it
/// may be trusted); any other goes through sea-orm, which checks every
/// value.
fn get<'r, T, I>(row: &'r QueryResult, alias: I, types: Types) -> ApiResult<Option<T>>
where
    T: sea_orm::TryGetable
        + sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Postgres>
        + sea_orm::sqlx::Type<sea_orm::sqlx::Postgres>,
    I: ColIdx,
{
    match row.try_as_pg_row() {
        Some(pg) => pg_get(pg, alias, types),
        None => row
            .try_get_by::<Option<T>, _>(alias)
            .map_err(ApiError::internal),
    }
}

fn pg_get<'r, T, I>(
    row: &'r sea_orm::sqlx::postgres::PgRow,
    alias: I,
    types: Types,
) -> ApiResult<Option<T>>
where
    T: sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Postgres>
        + sea_orm::sqlx::Type<sea_orm::sqlx::Postgres>,
    I: ColIdx,
{
    use sea_orm::sqlx::{Column as _, Row as _, TypeInfo as _};
    let index = alias.as_sqlx_postgres_index();
    if types == Types::Check {
        let column = row.try_column(&index).map_err(ApiError::internal)?;
        let ty = column.type_info();
        if !ty.is_null() && !T::compatible(ty) {
            return Err(ApiError::internal(format!(
                "column {:?} is of type {}, which the model does not read as {}",
                column.name(),
                ty.name(),
                std::any::type_name::<T>()
            )));
        }
    }
    row.try_get_unchecked::<Option<T>, _>(index)
        .map_err(ApiError::internal)
}

/// A JSON column decoded straight into `T` (a GraphQL value, or a
/// [`JsonText`]), without a `serde_json::Value` in between (on a
/// 5,000-row page with one JSON column, that step was a tenth of the
/// request's CPU). Object keys come in the order the database returns
/// them.
fn json<T: DeserializeOwned, I: ColIdx>(
    row: &QueryResult,
    alias: I,
    types: Types,
) -> ApiResult<Option<T>> {
    use sea_orm::sqlx::types::Json;
    Ok(decoded::<Json<T>, I>(row, alias, types)?.map(|Json(value)| value))
}

/// A text column's value, borrowed from the row: an enum's stored text
/// is only looked up, not kept.
fn borrowed_text<I: ColIdx>(row: &QueryResult, alias: I, types: Types) -> ApiResult<Option<&str>> {
    decoded::<&str, I>(row, alias, types)
}

/// One column decoded by sqlx itself, for types sea-orm does not read (a
/// JSON column into any `T`, a borrowed string). The gateway reads only
/// PostgreSQL and SQLite rows.
fn decoded<'r, T, I>(row: &'r QueryResult, alias: I, types: Types) -> ApiResult<Option<T>>
where
    T: sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Postgres>
        + sea_orm::sqlx::Type<sea_orm::sqlx::Postgres>
        + sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Sqlite>
        + sea_orm::sqlx::Type<sea_orm::sqlx::Sqlite>,
    I: ColIdx,
{
    use sea_orm::sqlx::Row as _;
    if let Some(pg) = row.try_as_pg_row() {
        pg_get(pg, alias, types)
    } else if let Some(sqlite) = row.try_as_sqlite_row() {
        sqlite
            .try_get::<Option<T>, _>(alias.as_sqlx_sqlite_index())
            .map_err(ApiError::internal)
    } else {
        Err(ApiError::internal("a row of another backend"))
    }
}

/// Converts a GraphQL input value to a SQL parameter for `column`. `field`
/// names the input in errors.
pub fn to_sql(
    column: &ColumnInfo,
    model: &Model,
    value: &GqlValue,
    field: &str,
) -> ApiResult<SqlValue> {
    let bad = |what: &str| ApiError::bad_field(field, format!("`{field}`: expected {what}"));
    Ok(match column.scalar {
        Scalar::Int => {
            let n = match value {
                GqlValue::Number(n) => n.as_i64(),
                _ => None,
            }
            .ok_or_else(|| bad("an integer"))?;
            match column.ty {
                ColumnType::SmallInteger => {
                    SqlValue::from(i16::try_from(n).map_err(|_| bad("a 16-bit integer"))?)
                }
                _ => SqlValue::from(i32::try_from(n).map_err(|_| bad("a 32-bit integer"))?),
            }
        }
        Scalar::BigInt => {
            let n = match value {
                GqlValue::Number(n) => n.as_i64(),
                GqlValue::String(s) => s.parse::<i64>().ok(),
                _ => None,
            }
            .ok_or_else(|| bad("a 64-bit integer"))?;
            SqlValue::from(n)
        }
        Scalar::Boolean => match value {
            GqlValue::Boolean(b) => SqlValue::from(*b),
            _ => return Err(bad("a boolean")),
        },
        Scalar::String | Scalar::StringList => match value {
            GqlValue::String(s) => SqlValue::from(s.clone()),
            _ => return Err(bad("a string")),
        },
        Scalar::Decimal => {
            let d = match value {
                GqlValue::String(s) => s.parse::<Decimal>().ok(),
                GqlValue::Number(n) => n.to_string().parse::<Decimal>().ok(),
                _ => None,
            }
            .ok_or_else(|| bad("a decimal number"))?;
            SqlValue::from(d)
        }
        Scalar::Uuid => match value {
            GqlValue::String(s) => {
                SqlValue::from(uuid::Uuid::parse_str(s).map_err(|_| bad("a UUID"))?)
            }
            _ => return Err(bad("a UUID")),
        },
        Scalar::Date => match value {
            GqlValue::String(s) => SqlValue::from(
                NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad("a date (YYYY-MM-DD)"))?,
            ),
            _ => return Err(bad("a date (YYYY-MM-DD)")),
        },
        Scalar::DateTime => match value {
            GqlValue::String(s) => SqlValue::from(
                DateTime::parse_from_rfc3339(s)
                    .map_err(|_| bad("an RFC 3339 date-time"))?
                    .with_timezone(&Utc),
            ),
            _ => return Err(bad("an RFC 3339 date-time")),
        },
        Scalar::Json | Scalar::GeoJson => {
            // A geometry is an object with a string `type` (RFC 7946);
            // checked here rather than by the scalar, whose validator
            // async-graphql applies to output too.
            if column.scalar == Scalar::GeoJson
                && !matches!(value, GqlValue::Object(o) if matches!(o.get("type"), Some(GqlValue::String(_))))
            {
                return Err(bad("a GeoJSON object with a string `type`"));
            }
            let json = value.clone().into_json().map_err(|_| bad("JSON"))?;
            SqlValue::from(json)
        }
        Scalar::Enum(e) => {
            let info = &model.enums[e];
            let name = match value {
                GqlValue::Enum(n) => n.as_str(),
                GqlValue::String(s) => s.as_str(),
                _ => return Err(bad(&format!("a {} value", info.name))),
            };
            match info.to_db(name) {
                Some(DbEnumValue::Text(s)) => SqlValue::from(s.clone()),
                Some(DbEnumValue::Int(n)) => SqlValue::from(*n),
                None => return Err(bad(&format!("a {} value", info.name))),
            }
        }
    })
}

/// A stable text for a key value, for grouping rows by parent.
pub fn key_text(value: &GqlValue) -> String {
    with_key_text(value, str::to_owned)
}

/// Calls `f` with [`key_text`] of `value`, without allocating for a text
/// or an integer (most keys: looked up once per row of a page).
pub fn with_key_text<T>(value: &GqlValue, f: impl FnOnce(&str) -> T) -> T {
    match value {
        GqlValue::String(s) => f(s),
        GqlValue::Number(n) => match n.as_i64() {
            Some(i) => f(itoa::Buffer::new().format(i)),
            None => f(&n.to_string()),
        },
        other => f(&other.to_string()),
    }
}

/// An opaque cursor: the row's order-by values, then its primary key.
pub fn encode_cursor(values: &[GqlValue]) -> String {
    let json = serde_json::Value::Array(
        values
            .iter()
            .map(|v| v.clone().into_json().unwrap_or(serde_json::Value::Null))
            .collect(),
    );
    URL_SAFE_NO_PAD.encode(json.to_string())
}

/// Decodes a cursor made for an ordering of `expected` values.
pub fn decode_cursor(cursor: &str, expected: usize, field: &str) -> ApiResult<Vec<GqlValue>> {
    let invalid = || {
        ApiError::bad_field(
            field,
            format!("`{field}` is not a cursor of this list and order"),
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let serde_json::Value::Array(items) = json else {
        return Err(invalid());
    };
    if items.len() != expected {
        return Err(invalid());
    }
    items
        .into_iter()
        .map(|v| GqlValue::from_json(v).map_err(|_| invalid()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let values = vec![
            GqlValue::String("Brussels".into()),
            GqlValue::Null,
            GqlValue::from(42),
        ];
        let cursor = encode_cursor(&values);
        assert_eq!(decode_cursor(&cursor, 3, "after").unwrap(), values);
        assert_eq!(
            decode_cursor(&cursor, 2, "after").unwrap_err().code(),
            "BAD_USER_INPUT"
        );
        assert_eq!(
            decode_cursor("!!!", 3, "after").unwrap_err().code(),
            "BAD_USER_INPUT"
        );
        assert_eq!(
            decode_cursor(&URL_SAFE_NO_PAD.encode("{}"), 3, "before")
                .unwrap_err()
                .code(),
            "BAD_USER_INPUT"
        );
    }
}
