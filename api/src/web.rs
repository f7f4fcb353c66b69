//! The HTML pages: GraphiQL for a domain, and the landing page listing the
//! mounted domains. Pure functions returning the page text; the router
//! decides where they are served.
//!
//! GraphiQL is a browser application (React and the GraphiQL UMD bundle).
//! [`GraphiqlAssets`] says where the browser loads it from: a public CDN, or
//! the gateway itself for air-gapped deployments (`cargo xtask
//! graphiql-assets` installs the files; nothing third-party is in git).

/// Where the GraphiQL page loads its scripts and stylesheet from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphiqlAssets {
    /// unpkg, pinned to the major versions GraphiQL 3 and React 18.
    Cdn,
    /// Served under `base` (for example `/assets`), with the npm packages'
    /// layout: `{base}/graphiql/graphiql.min.js`, `{base}/graphiql/graphiql.min.css`,
    /// `{base}/react/umd/react.production.min.js` and
    /// `{base}/react-dom/umd/react-dom.production.min.js`.
    Local { base: String },
}

/// The four files the page needs, as paths relative to the package root of
/// the npm packages they come from (`<package>/<path>`).
pub const GRAPHIQL_ASSET_FILES: [&str; 4] = [
    "react/umd/react.production.min.js",
    "react-dom/umd/react-dom.production.min.js",
    "graphiql/graphiql.min.css",
    "graphiql/graphiql.min.js",
];

const CDN: &str = "https://unpkg.com";
const GRAPHIQL_PACKAGE: &str = "graphiql@3";
const REACT_PACKAGE: &str = "react@18";
const REACT_DOM_PACKAGE: &str = "react-dom@18";

/// The URLs of the assets, in the order the page loads them.
struct AssetUrls {
    react: String,
    react_dom: String,
    css: String,
    graphiql: String,
}

impl GraphiqlAssets {
    fn urls(&self) -> AssetUrls {
        let (base, graphiql, react, react_dom) = match self {
            GraphiqlAssets::Cdn => (CDN, GRAPHIQL_PACKAGE, REACT_PACKAGE, REACT_DOM_PACKAGE),
            GraphiqlAssets::Local { base } => {
                (base.trim_end_matches('/'), "graphiql", "react", "react-dom")
            }
        };
        AssetUrls {
            react: format!("{base}/{react}/umd/react.production.min.js"),
            react_dom: format!("{base}/{react_dom}/umd/react-dom.production.min.js"),
            css: format!("{base}/{graphiql}/graphiql.min.css"),
            graphiql: format!("{base}/{graphiql}/graphiql.min.js"),
        }
    }
}

/// A complete HTML page running GraphiQL against `endpoint` (a URL, usually
/// relative such as `/iaso/graphql`). Queries are POSTed as JSON, with the
/// headers set in GraphiQL's headers editor.
pub fn graphiql_html(title: &str, endpoint: &str, assets: &GraphiqlAssets) -> String {
    let urls = assets.urls();
    let title = escape_html(title);
    let endpoint = script_json(endpoint);
    let react = escape_html(&urls.react);
    let react_dom = escape_html(&urls.react_dom);
    let css = escape_html(&urls.css);
    let graphiql = escape_html(&urls.graphiql);
    let hint = script_json(match assets {
        GraphiqlAssets::Cdn => "GraphiQL could not be loaded from the CDN (unpkg.com).",
        GraphiqlAssets::Local { .. } => {
            "GraphiQL's files are not installed on this server: run `cargo xtask graphiql-assets`."
        }
    });
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<meta name="robots" content="noindex">
<title>{title}</title>
<link rel="stylesheet" href="{css}">
<style>
  html, body {{ height: 100%; margin: 0; }}
  #graphiql {{ height: 100vh; }}
  #graphiql > p {{ font-family: system-ui, sans-serif; padding: 1rem; }}
</style>
</head>
<body>
<div id="graphiql"><p>Loading GraphiQL&hellip;</p></div>
<noscript>GraphiQL needs JavaScript.</noscript>
<script src="{react}"></script>
<script src="{react_dom}"></script>
<script src="{graphiql}"></script>
<script>
(function () {{
  "use strict";
  var container = document.getElementById("graphiql");
  if (typeof React === "undefined" || typeof ReactDOM === "undefined" || typeof GraphiQL === "undefined") {{
    container.firstChild.textContent = {hint};
    return;
  }}
  var fetcher = GraphiQL.createFetcher({{
    url: {endpoint},
    // One JSON POST per operation; no multipart responses.
    enableIncrementalDelivery: false
  }});
  ReactDOM.createRoot(container).render(
    React.createElement(GraphiQL, {{ fetcher: fetcher, isHeadersEditorEnabled: true }})
  );
}})();
</script>
</body>
</html>
"#
    )
}

/// The landing page: every mounted domain with its description and links to
/// its GraphiQL page and GraphQL endpoint. The first domain is the default
/// one, also served at `/graphql` and `/graphiql`.
pub fn landing_html(domains: &[(&str, &str)]) -> String {
    let mut items = String::new();
    for (name, description) in domains {
        let name = escape_html(name);
        let description = escape_html(description);
        items.push_str(&format!(
            "  <li><strong>{name}</strong>: {description}<br>\
             <a href=\"/{name}/graphiql\">/{name}/graphiql</a> \
             &middot; <a href=\"/{name}/graphql\"><code>/{name}/graphql</code></a></li>\n"
        ));
    }
    let default = match domains.first() {
        Some((name, _)) => format!(
            "<p><a href=\"/graphiql\">/graphiql</a> and <code>/graphql</code> \
             serve the default domain, <strong>{}</strong> (the first one listed).</p>\n",
            escape_html(name)
        ),
        None => "<p>No domain is mounted.</p>\n".to_string(),
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Domain gateway</title>
<style>
  body {{ font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }}
  li {{ margin-bottom: 0.75rem; }}
</style>
</head>
<body>
<h1>Domain gateway</h1>
<p>GraphQL endpoints, one per domain. Each <code>/&lt;domain&gt;/graphql</code> takes POSTed JSON queries; <code>/&lt;domain&gt;/graphiql</code> is an in-browser IDE for it.</p>
<ul>
{items}</ul>
{default}<p><a href="/healthz">/healthz</a> &middot; <a href="/readyz">/readyz</a></p>
</body>
</html>
"#
    )
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON string literal that is safe inside an inline `<script>`: no `<`,
/// `>` or `&` (so no `</script>` or `<!--`), and no U+2028/U+2029.
fn script_json(text: &str) -> String {
    let json = serde_json::Value::String(text.to_string()).to_string();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn local() -> GraphiqlAssets {
        GraphiqlAssets::Local {
            base: "/assets".into(),
        }
    }

    #[test]
    fn the_title_is_escaped() {
        let page = graphiql_html("<b>\"a\" & 'b'</b>", "/graphql", &local());
        assert!(page.contains("<title>&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;</title>"));
        assert!(!page.contains("<b>"));
    }

    #[test]
    fn the_endpoint_is_a_json_string_that_cannot_close_the_script() {
        let page = graphiql_html("t", "/iaso/graphql", &local());
        assert!(page.contains(r#"url: "/iaso/graphql","#), "{page}");

        let page = graphiql_html("t", "/x\"</script><script>alert(1)</script>", &local());
        assert!(page.contains(
            r#"url: "/x\"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e","#
        ));
        // The closing tags of the three scripts loaded by `src` and of the
        // inline one, and nothing else.
        assert_eq!(page.matches("</script>").count(), 4);
        assert_eq!(script_json("a\u{2028}b"), r#""a\u2028b""#);
    }

    #[test]
    fn the_fetcher_is_graphiqls_own() {
        let page = graphiql_html("t", "/graphql", &local());
        assert!(page.contains("GraphiQL.createFetcher("));
        assert!(page.contains("ReactDOM.createRoot("));
    }

    #[test]
    fn local_assets_are_served_under_the_base() {
        for base in ["/assets", "/assets/"] {
            let page = graphiql_html(
                "t",
                "/graphql",
                &GraphiqlAssets::Local { base: base.into() },
            );
            for path in GRAPHIQL_ASSET_FILES {
                assert!(page.contains(&format!("\"/assets/{path}\"")), "{path}");
            }
            assert!(!page.contains("https://"), "{page}");
            assert!(!page.contains("//assets"));
        }
    }

    #[test]
    fn cdn_assets_are_pinned() {
        let page = graphiql_html("t", "/graphql", &GraphiqlAssets::Cdn);
        for url in [
            "https://unpkg.com/react@18/umd/react.production.min.js",
            "https://unpkg.com/react-dom@18/umd/react-dom.production.min.js",
            "https://unpkg.com/graphiql@3/graphiql.min.css",
            "https://unpkg.com/graphiql@3/graphiql.min.js",
        ] {
            assert!(page.contains(&format!("\"{url}\"")), "{url}");
        }
        assert!(!page.contains("/assets/"));
    }

    #[test]
    fn react_loads_before_graphiql() {
        let page = graphiql_html("t", "/graphql", &local());
        let position = |needle: &str| page.find(needle).unwrap();
        assert!(position("react.production.min.js") < position("react-dom.production.min.js"));
        assert!(position("react-dom.production.min.js") < position("graphiql.min.js"));
    }

    #[test]
    fn the_landing_page_lists_every_domain() {
        let domains = [
            ("iaso", "health data collection"),
            ("gans", "a <chat> bot & more"),
        ];
        let page = landing_html(&domains);
        for (name, _) in domains {
            assert!(page.contains(&format!("<strong>{name}</strong>")));
            assert!(page.contains(&format!("href=\"/{name}/graphiql\"")));
            assert!(page.contains(&format!("href=\"/{name}/graphql\"")));
        }
        assert!(page.contains("health data collection"));
        assert!(page.contains("a &lt;chat&gt; bot &amp; more"));
        assert!(page.contains("the default domain, <strong>iaso</strong>"));
    }

    #[test]
    fn the_landing_page_escapes_names_and_handles_no_domain() {
        let page = landing_html(&[("a\"b", "d")]);
        assert!(page.contains("href=\"/a&quot;b/graphiql\""));
        assert!(landing_html(&[]).contains("No domain is mounted."));
    }
}
