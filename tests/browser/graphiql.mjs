// Opens a GraphiQL page in headless Chromium, runs a query (by default
// `{ __typename }`) and prints the result once it contains the expected text. Fails when the query does not answer within 30 s, or
// as soon as the page requests anything from a host other than its own
// (GraphiQL must come from the server itself, not from a CDN).
//
//   node tests/browser/graphiql.mjs http://127.0.0.1:8000/graphiql ['<query>' '<expected text>']
//
// With GRAPHIQL_AUTHORIZATION set, sends it as the Authorization header.
// Needs `npm install` in tests/browser (playwright-core) and Chromium at
// /usr/bin/chromium (or CHROMIUM_PATH). Exit codes: 0 success, 1 failure,
// 2 usage.

import { chromium } from 'playwright-core';

const TIMEOUT_MS = 30_000;
const QUERY = process.argv[3] ?? '{ __typename }';
const EXPECTED = process.argv[4] ?? '"__typename"';
const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const EXECUTE_BUTTON = '.graphiql-execute-button';

const pageUrl = process.argv[2];
if (!pageUrl) {
  console.error('usage: node graphiql.mjs <url of a GraphiQL page>');
  process.exit(2);
}
const ownHost = new URL(pageUrl).host;
const deadline = Date.now() + TIMEOUT_MS;
const left = () => Math.max(1, deadline - Date.now());

const requests = [];
const foreign = [];
const problems = [];

// Rejects at the first request to another host; every wait races it.
let rejectForeign;
const foreignRequest = new Promise((_, reject) => {
  rejectForeign = reject;
});
foreignRequest.catch(() => {});
const guarded = (promise) => Promise.race([promise, foreignRequest]);

function record(url, kind) {
  requests.push(`${kind} ${url}`);
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  // data: and blob: URLs (the stylesheet's embedded fonts) reach no host.
  if (parsed && ['data:', 'blob:', 'about:'].includes(parsed.protocol)) return;
  if (!parsed || parsed.host !== ownHost) {
    foreign.push(`${kind} ${url}`);
    rejectForeign(new Error(`a request to a host other than ${ownHost}: ${kind} ${url}`));
  }
}

function fail(message) {
  console.error(`graphiql.mjs: FAILED: ${message}`);
  console.error(`page: ${pageUrl}`);
  if (foreign.length) console.error(`requests to other hosts:\n  ${foreign.join('\n  ')}`);
  if (problems.length) console.error(`page errors:\n  ${problems.join('\n  ')}`);
  console.error(`requests:\n  ${requests.join('\n  ') || '(none)'}`);
  process.exitCode = 1;
}

// A backstop in case the browser itself hangs: the waits below have their
// own timeouts.
const backstop = setTimeout(() => {
  fail(`no result within ${TIMEOUT_MS / 1000 + 15} s (browser hung?)`);
  process.exit(1);
}, TIMEOUT_MS + 15_000);

const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const browser = await chromium
  .launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: TIMEOUT_MS,
  })
  .catch((error) => {
    fail(`cannot start Chromium (${executablePath}): ${error?.message ?? error}`);
    process.exit(1);
  });

let page;
let step = 'opening the page';
try {
  const context = await browser.newContext();
  // The gateway serves nobody without a token: GRAPHIQL_AUTHORIZATION is
  // sent with the page's requests, as a user's header would be.
  if (process.env.GRAPHIQL_AUTHORIZATION) {
    await context.setExtraHTTPHeaders({ Authorization: process.env.GRAPHIQL_AUTHORIZATION });
  }
  context.on('request', (request) => record(request.url(), request.method()));
  page = await context.newPage();
  page.on('websocket', (ws) => record(ws.url(), 'WEBSOCKET'));
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });

  const response = await guarded(page.goto(pageUrl, { timeout: left(), waitUntil: 'load' }));
  if (!response || !response.ok()) {
    throw new Error(`the page answered HTTP ${response?.status()}`);
  }

  step = `waiting for the query editor (${QUERY_EDITOR})`;
  await guarded(page.waitForSelector(QUERY_EDITOR, { timeout: left() }));

  step = 'setting the query';
  await guarded(
    page.evaluate(
      ([selector, query]) => document.querySelector(selector).CodeMirror.setValue(query),
      [QUERY_EDITOR, QUERY],
    ),
  );

  step = `clicking the execute button (${EXECUTE_BUTTON})`;
  await guarded(page.click(EXECUTE_BUTTON, { timeout: left() }));

  step = `waiting for ${EXPECTED} in the result pane`;
  const handle = await guarded(
    page.waitForFunction(
      (expected) => {
        const editor = document.querySelector('.graphiql-response .CodeMirror');
        const text = editor?.CodeMirror
          ? editor.CodeMirror.getValue()
          : document.querySelector('.graphiql-response')?.innerText;
        return text && text.includes(expected) ? text : null;
      },
      EXPECTED,
      { timeout: left(), polling: 100 },
    ),
  );
  const result = await handle.jsonValue();

  if (foreign.length) {
    fail(`requests to hosts other than ${ownHost}`);
  } else {
    console.log(result);
    if (problems.length) console.error(`page messages (not failures):\n  ${problems.join('\n  ')}`);
  }
} catch (error) {
  const timedOut = error?.name === 'TimeoutError';
  let text = '';
  try {
    text = await page?.evaluate(() => document.body?.innerText.slice(0, 500));
  } catch {}
  fail(
    (timedOut
      ? `timed out (${TIMEOUT_MS / 1000} s) while ${step}`
      : `while ${step}: ${error?.message ?? error}`) +
      (text ? `\npage text: ${JSON.stringify(text)}` : ''),
  );
} finally {
  await browser.close().catch(() => {});
  clearTimeout(backstop);
}
