//! Ordering and Relay paging: `orderBy` with the primary key as the last
//! tie-break, `first/after/last/before` with keyset cursors, and the page
//! size limits, all checked before any SQL runs.

use async_graphql::Value as GqlValue;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, NullOrdering, Order, SimpleExpr};

use crate::engine::model::{EntityInfo, Model};
use crate::engine::value::{decode_cursor, to_sql};
use crate::error::{ApiError, ApiResult};

/// Page size limits.
#[derive(Clone, Copy, Debug)]
pub struct PageLimits {
    /// Rows of a page when neither `first` nor `last` is given.
    pub default_size: u64,
    pub max_size: u64,
}

/// One ORDER BY term: a column index and its direction. Ascending puts
/// nulls first, descending last, on every backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrderTerm {
    pub column: usize,
    pub descending: bool,
}

impl OrderTerm {
    /// Nulls sort as the largest value, as in PostgreSQL: last when
    /// ascending, first when descending. PostgreSQL's plain indexes then
    /// serve both directions, nullable columns included.
    pub fn sql_order(self) -> (Order, NullOrdering) {
        if self.descending {
            (Order::Desc, NullOrdering::First)
        } else {
            (Order::Asc, NullOrdering::Last)
        }
    }

    fn reversed(self) -> Self {
        Self {
            descending: !self.descending,
            ..self
        }
    }
}

/// Parses `orderBy`, then appends the primary key so that the order is
/// total and paging deterministic.
pub fn parse_order(entity: &EntityInfo, order_by: Option<&GqlValue>) -> ApiResult<Vec<OrderTerm>> {
    let mut terms: Vec<OrderTerm> = Vec::new();
    let items: Vec<&GqlValue> = match order_by {
        Some(GqlValue::List(items)) => items.iter().collect(),
        Some(GqlValue::Object(_)) => order_by.into_iter().collect(),
        _ => Vec::new(),
    };
    for item in items {
        let GqlValue::Object(fields) = item else {
            continue;
        };
        let name = match fields.get("field") {
            Some(GqlValue::Enum(n)) => n.as_str(),
            Some(GqlValue::String(s)) => s.as_str(),
            _ => return Err(ApiError::bad_field("orderBy", "`orderBy` needs a `field`")),
        };
        let column = entity
            .public_columns()
            .find(|(_, c)| c.order_name == name && c.scalar.comparable())
            .map(|(i, _)| i)
            .ok_or_else(|| ApiError::bad_field("orderBy", format!("cannot order by `{name}`")))?;
        let descending = match fields.get("direction") {
            Some(GqlValue::Enum(d)) => d.as_str() == "DESC",
            Some(GqlValue::String(d)) => d == "DESC",
            _ => false,
        };
        if !terms.iter().any(|t| t.column == column) {
            terms.push(OrderTerm { column, descending });
        }
    }
    for &pk in &entity.pk {
        if !terms.iter().any(|t| t.column == pk) {
            terms.push(OrderTerm {
                column: pk,
                descending: false,
            });
        }
    }
    Ok(terms)
}

/// A normalized page request: which way to read, how many rows, and the
/// keyset bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Reading backwards (`last`): the SQL order is reversed, then the page.
    pub backward: bool,
    pub limit: u64,
    pub after: Option<Vec<GqlValue>>,
    pub before: Option<Vec<GqlValue>>,
}

fn page_size(value: Option<&GqlValue>, name: &str, limits: PageLimits) -> ApiResult<Option<u64>> {
    match value {
        None | Some(GqlValue::Null) => Ok(None),
        Some(GqlValue::Number(n)) => match n.as_u64() {
            Some(size) if size <= limits.max_size => Ok(Some(size)),
            _ => Err(ApiError::bad_field(
                name,
                format!(
                    "`{name}` must be between 0 and {} (the maximum page size)",
                    limits.max_size
                ),
            )),
        },
        Some(_) => Err(ApiError::bad_field(
            name,
            format!("`{name}` must be an integer"),
        )),
    }
}

fn cursor(value: Option<&GqlValue>, name: &str, terms: usize) -> ApiResult<Option<Vec<GqlValue>>> {
    match value {
        Some(GqlValue::String(s)) => Ok(Some(decode_cursor(s, terms, name)?)),
        _ => Ok(None),
    }
}

/// Parses `first/after/last/before`.
pub fn parse_window(
    args: &async_graphql::indexmap::IndexMap<async_graphql::Name, GqlValue>,
    terms: usize,
    limits: PageLimits,
) -> ApiResult<Window> {
    let first = page_size(args.get("first"), "first", limits)?;
    let last = page_size(args.get("last"), "last", limits)?;
    if first.is_some() && last.is_some() {
        return Err(ApiError::bad_input("pass `first` or `last`, not both"));
    }
    let after = cursor(args.get("after"), "after", terms)?;
    let before = cursor(args.get("before"), "before", terms)?;
    let backward = last.is_some() || (first.is_none() && before.is_some() && after.is_none());
    Ok(Window {
        backward,
        limit: first.or(last).unwrap_or(limits.default_size),
        after,
        before,
    })
}

/// The order the SQL reads in: reversed when paging backwards.
pub fn sql_terms(terms: &[OrderTerm], window: &Window) -> Vec<OrderTerm> {
    if window.backward {
        terms.iter().map(|t| t.reversed()).collect()
    } else {
        terms.to_vec()
    }
}

/// The keyset bounds of `window` on the table aliased `alias`.
pub fn keyset_condition(
    model: &Model,
    entity: usize,
    alias: &str,
    terms: &[OrderTerm],
    window: &Window,
) -> ApiResult<Condition> {
    let mut all = Condition::all();
    if let Some(after) = &window.after {
        all = all.add(strictly_after(model, entity, alias, terms, after, "after")?);
    }
    if let Some(before) = &window.before {
        let reversed: Vec<OrderTerm> = terms.iter().map(|t| t.reversed()).collect();
        all = all.add(strictly_after(
            model, entity, alias, &reversed, before, "before",
        )?);
    }
    Ok(all)
}

/// Rows strictly after `values` in the order `terms`, nulls counting as
/// the largest value (last ascending, first descending).
fn strictly_after(
    model: &Model,
    entity: usize,
    alias: &str,
    terms: &[OrderTerm],
    values: &[GqlValue],
    field: &str,
) -> ApiResult<Condition> {
    let info = &model.entities[entity];
    let col =
        |t: &OrderTerm| Expr::col((Alias::new(alias), Alias::new(&info.columns[t.column].name)));
    let mut any = Condition::any();
    for i in 0..terms.len() {
        let mut step = Condition::all();
        for (term, value) in terms[..i].iter().zip(values) {
            step = step.add(if matches!(value, GqlValue::Null) {
                col(term).is_null()
            } else {
                col(term).eq(to_sql(&info.columns[term.column], model, value, field)?)
            });
        }
        let term = &terms[i];
        let value = &values[i];
        // Null is the largest value. Ascending, nothing follows a null and
        // the nulls follow every value; descending, every value follows a
        // null.
        let greater: SimpleExpr = match (term.descending, matches!(value, GqlValue::Null)) {
            (false, true) => Expr::val(1).eq(0),
            (false, false) => col(term)
                .gt(to_sql(&info.columns[term.column], model, value, field)?)
                .or(col(term).is_null()),
            (true, true) => col(term).is_not_null(),
            (true, false) => col(term).lt(to_sql(&info.columns[term.column], model, value, field)?),
        };
        any = any.add(step.add(greater));
    }
    Ok(any)
}
