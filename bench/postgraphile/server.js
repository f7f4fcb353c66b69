// PostGraphile v4 over one schema, as a library so that every option is
// explicit: node server.js <database url> <schema> <port>
"use strict";
const http = require("http");
const { Pool } = require("pg");
const { postgraphile } = require("postgraphile");
const { makeJSONPgSmartTagsPlugin } = require("graphile-utils");
const ConnectionFilterPlugin = require("postgraphile-plugin-connection-filter");

const [url, schema, port] = process.argv.slice(2);
if (!url || !schema || !port) {
  console.error("usage: node server.js <database url> <schema> <port>");
  process.exit(2);
}

// The gateway's junction tables (every column in a two-column primary key)
// are renamed and left out: PostGraphile's inflector would name
// `account_feature_flags` like the table `account_feature_flag`, and no
// workload reads them.
async function junctionTables() {
  const pool = new Pool({ connectionString: url, max: 1 });
  try {
    const { rows } = await pool.query(
      `SELECT c.relname AS name
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
        WHERE n.nspname = $1 AND c.relkind = 'r' AND i.indnatts = 2
          AND (SELECT count(*) FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) = 2`,
      [schema],
    );
    return rows.map((r) => r.name);
  } finally {
    await pool.end();
  }
}

async function main() {
  const junctions = await junctionTables();
  const classTags = {};
  for (const name of junctions) classTags[`${schema}.${name}`] = { tags: { name: `${name}_link`, omit: true } };
  const SmartTags = makeJSONPgSmartTagsPlugin({ version: 1, config: { class: classTags } });

  const middleware = postgraphile(url, schema, {
    // Filters (`filter:` with equalTo, startsWith, ... and through relations).
    appendPlugins: [SmartTags, ConnectionFilterPlugin],
    graphileBuildOptions: { connectionFilterRelations: true },
    // JSON columns as JSON values (the gateway's GeoJSON and JSON scalars).
    dynamicJson: true,
    // Production settings: no per-query logging, no watch, no GraphiQL.
    disableQueryLog: true,
    watchPg: false,
    graphiql: false,
    enableQueryBatching: false,
    legacyRelations: "omit",
    retryOnInitFail: false,
    // The pg pool keeps its default of 10 connections: the gateway's default
    // too (GATEWAY_DB_MAX_CONNECTIONS=10).
  });

  http.createServer(middleware).listen(Number(port), "127.0.0.1", () => {
    console.error(
      `postgraphile listening on 127.0.0.1:${port}, schema ${schema} (${junctions.length} junction tables omitted)`,
    );
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
