//! Parsed documents kept by query text.
//!
//! Clients send the same few query texts again and again (an SPA's list, a
//! mobile app's sync), each with other variables. async-graphql parses the
//! text of every request with a PEG parser, which was about 5% of the
//! gateway's CPU on the benchmark's nested workload (W2), more than its
//! validation. [`ParsedQueries`] keeps each text's parsed document and
//! hands later requests a copy. Only parsing is skipped: every request is
//! still validated (variables, depth and complexity limits) and executed
//! on its own. A text that does not parse is not kept: it fails the same
//! way each time.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerResult, Variables};
use moka::future::Cache;

/// At most this many bytes of documents are kept, as estimated by
/// [`weight`].
const CAPACITY_BYTES: u64 = 8 * 1024 * 1024;

/// A parsed document takes about ten times its text (positions, names and
/// values of every node; the benchmark's W6, 8.6 KB batches of 100 literal
/// inputs, raised the peak RSS by ~45 MiB with ~480 of them kept, ~100 KB
/// each). Counted generously: with texts that never
/// repeat (literal values instead of variables) the cache fills to its
/// capacity, and that is what it then costs.
fn weight(text: &str) -> u32 {
    u32::try_from(text.len().saturating_mul(16)).unwrap_or(u32::MAX)
}

/// Texts longer than this are parsed every time: they would crowd out the
/// rest.
const LONGEST: usize = 16 * 1024;

/// The extension: one cache per schema.
#[derive(Clone)]
pub struct ParsedQueries {
    cache: Cache<Arc<str>, Arc<ExecutableDocument>>,
}

impl Default for ParsedQueries {
    fn default() -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(CAPACITY_BYTES)
                .weigher(|text: &Arc<str>, _| weight(text))
                .build(),
        }
    }
}

impl ParsedQueries {
    /// How many texts are kept now.
    pub async fn kept(&self) -> u64 {
        self.cache.run_pending_tasks().await;
        self.cache.entry_count()
    }
}

impl ExtensionFactory for ParsedQueries {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ParsedQueries {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if query.len() > LONGEST {
            return next.run(ctx, query, variables).await;
        }
        if let Some(document) = self.cache.get(query).await {
            return Ok(ExecutableDocument::clone(&document));
        }
        let document = next.run(ctx, query, variables).await?;
        self.cache
            .insert(Arc::from(query), Arc::new(document.clone()))
            .await;
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use async_graphql::dynamic::{Field, FieldFuture, Object, Schema, TypeRef};
    use async_graphql::{Request, Value};

    use super::*;

    /// Counts the texts that reach the parser (registered after
    /// [`ParsedQueries`], it sees only what the cache let through).
    #[derive(Clone, Default)]
    struct Parses(Arc<std::sync::atomic::AtomicUsize>);

    impl ExtensionFactory for Parses {
        fn create(&self) -> Arc<dyn Extension> {
            Arc::new(self.clone())
        }
    }

    #[async_graphql::async_trait::async_trait]
    impl Extension for Parses {
        async fn parse_query(
            &self,
            ctx: &ExtensionContext<'_>,
            query: &str,
            variables: &Variables,
            next: NextParseQuery<'_>,
        ) -> ServerResult<ExecutableDocument> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            next.run(ctx, query, variables).await
        }
    }

    impl Parses {
        fn count(&self) -> usize {
            self.0.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    fn schema(parsed: &ParsedQueries, parses: &Parses) -> Schema {
        let query = Object::new("Query").field(
            Field::new("echo", TypeRef::named_nn(TypeRef::STRING), |ctx| {
                FieldFuture::new(async move {
                    let text = ctx.args.try_get("text")?.string()?.to_string();
                    Ok(Some(Value::from(text)))
                })
            })
            .argument(async_graphql::dynamic::InputValue::new(
                "text",
                TypeRef::named_nn(TypeRef::STRING),
            )),
        );
        Schema::build("Query", None, None)
            .register(query)
            .extension(parsed.clone())
            .extension(parses.clone())
            .finish()
            .unwrap()
    }

    #[tokio::test]
    async fn a_text_is_parsed_once_and_each_request_keeps_its_variables() {
        let parsed = ParsedQueries::default();
        let parses = Parses::default();
        let schema = schema(&parsed, &parses);
        let text = "query Q($t: String!) { echo(text: $t) }";
        for word in ["first", "second"] {
            let response = schema
                .execute(
                    Request::new(text)
                        .variables(Variables::from_json(serde_json::json!({ "t": word }))),
                )
                .await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            assert_eq!(
                response.data.into_json().unwrap(),
                serde_json::json!({ "echo": word })
            );
        }
        assert_eq!(parsed.kept().await, 1);
        assert_eq!(parses.count(), 1, "the second request reused the document");

        // A kept document is still validated against each request's
        // variables.
        let response = schema
            .execute(
                Request::new(text).variables(Variables::from_json(serde_json::json!({ "t": 5 }))),
            )
            .await;
        assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
    }

    #[tokio::test]
    async fn a_text_that_does_not_parse_is_not_kept() {
        let parsed = ParsedQueries::default();
        let parses = Parses::default();
        let schema = schema(&parsed, &parses);
        for _ in 0..2 {
            let response = schema.execute("{ echo(text: ").await;
            assert_eq!(response.errors.len(), 1);
        }
        assert_eq!(parsed.kept().await, 0);
        assert_eq!(parses.count(), 2);
    }
}
