#!/usr/bin/env python3
"""The gateway's benchmark against PostGraphile and raw SQL (Python standard
library only). Not part of the tests or CI.

    python3 bench/run.py            # 100,000 org units, 1,000,000 instances
    python3 bench/run.py --small    # a smoke run: 5,000 units, short runs

What it does, in order (details in BENCHMARKS.md):
 1. builds the gateway in release mode;
 2. seeds PostgreSQL (schema `bench_iaso`, GATEWAY_PG_SCHEMA_PREFIX=bench_) and,
    for its timing only, SQLite (under target/bench/);
 3. starts the release gateway (`migrate`, then `serve`, GATEWAY_DOMAINS=iaso)
    and PostGraphile v4 (installed from npm into target/bench/postgraphile)
    over the same tables;
 4. checks that both answer each workload with the same rows;
 5. counts the gateway's SQL statements per request (GET /metrics);
 6. captures the gateway's own SQL per workload (PostgreSQL's statement log,
    `log_statement=all` on the gateway's sessions only) for the raw-SQL
    floor;
 7. measures each workload with wrk at concurrency 1, 16 and 64, the
    servers taking turns, the captured SQL replayed with pgbench at
    concurrency 1 in the same turns (its parameters sent as parameters,
    the floor, and bound as literals, for comparison), and reads the gateway's peak RSS
    (VmHWM);
 8. writes the figures into BENCHMARKS.md (between the result markers) and
    target/bench/results.json, then drops the bench_ schema.

Requirements: cargo, PostgreSQL reachable at --database-url (default
postgres://postgres@127.0.0.1:5432/test) as a superuser (for log_statement),
its server log readable (--pg-log), node and npm, wrk (`apt-get install wrk`),
pgbench and psql.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
WORK = TARGET / "bench"
SCHEMA_PREFIX = "bench_"
SCHEMA = SCHEMA_PREFIX + "iaso"
POSTGRAPHILE_VERSION = "4.14.1"
FILTER_PLUGIN_VERSION = "2.3.0"
WORKLOADS = ["w1", "w2", "w3", "w4", "w5", "w6"]
# A request that reads nothing, timed beside each workload at concurrency 1.
TRIVIAL_QUERY = "{ __typename }"
# W6 creates this many instances per request, each with a new UUID.
W6_BATCH = 100
UUID_MARK = "__UUID__"
CONCURRENCIES = [1, 16, 64]
RESULTS_BEGIN = "<!-- bench results: begin (written by bench/run.py) -->"
RESULTS_END = "<!-- bench results: end -->"


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(cmd, **kwargs):
    """Runs a command, failing loudly."""
    log("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run(cmd, check=True, **kwargs)


def output(cmd, **kwargs):
    return subprocess.run(
        cmd, check=True, capture_output=True, text=True, **kwargs
    ).stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url, sql, schema=None):
    env = dict(os.environ)
    if schema:
        env["PGOPTIONS"] = f"-c search_path={schema}"
    return output(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql], env=env).strip()


# The Authorization header each endpoint needs (the gateway's token).
AUTH = {}


def http(method, url, body=None, timeout=120):
    data = None if body is None else body.encode()
    request = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if url in AUTH:
        request.add_header("Authorization", AUTH[url])
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read().decode()


def wait_for(url, what, process, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode} while starting")
        try:
            status, _ = http("GET", url, timeout=5)
            if status == 200:
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} did not answer {url} within {timeout}s")


def stop(process):
    if process and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def metric(base):
    _, text = http("GET", base + "/metrics")
    for line in text.splitlines():
        if line.startswith('gateway_sql_statements_total{domain="iaso"}'):
            return int(float(line.split()[-1]))
    raise SystemExit("gateway_sql_statements_total{domain=\"iaso\"} missing from /metrics")


# --------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------


def w6_body(server, params):
    """W6, a batch upload of submissions: one request creating W6_BATCH
    instances, each with a UUID of its own (UUID_MARK, replaced per request
    by fresh() here and by post.lua under load). The items are variables,
    as a data-collection app sends them: the document's text is the same on
    every request, so neither server parses it again."""
    item = {
        "uuid": UUID_MARK,
        "formId": int(params["FORM_ID"]),
        "projectId": int(params["PROJECT_ID"]),
        "orgUnitId": int(params["HF_UNIT"]),
        "period": str(params["PERIOD"]),
    }
    if server == "gateway":
        query = "mutation W6($inputs: [CreateInstanceInput!]!) { createInstances(inputs: $inputs) { id } }"
        return json.dumps({"query": query, "variables": {"inputs": [item] * W6_BATCH}})
    # PostGraphile v4 creates one row per mutation field, and without a
    # plugin a request's mutations are not one atomic unit: it promises
    # less than the gateway's all-or-nothing batch.
    arguments = ", ".join(f"$i{n}: InstanceInput!" for n in range(W6_BATCH))
    fields = " ".join(
        f"i{n}: createInstance(input: {{ instance: $i{n} }}) {{ instance {{ id }} }}"
        for n in range(W6_BATCH)
    )
    query = f"mutation W6({arguments}) {{ {fields} }}"
    return json.dumps({"query": query, "variables": {f"i{n}": item for n in range(W6_BATCH)}})


def fresh(body):
    """The body with a new UUID at every UUID_MARK, and those UUIDs."""
    made = []

    def one(_):
        made.append(str(uuid.uuid4()))
        return made[-1]

    return re.sub(UUID_MARK, one, body), made


def load_query(server, workload, params):
    text = (BENCH / "queries" / server / f"{workload}.graphql").read_text()
    for key, value in params.items():
        text = text.replace("{{" + key + "}}", str(value))
    if "{{" in text:
        raise SystemExit(f"unfilled placeholder in {server}/{workload}: {text}")
    return text


def body_of(query):
    return json.dumps({"query": query})


def graphql(endpoint, body):
    body, _ = fresh(body)
    _, text = http("POST", endpoint, body)
    answer = json.loads(text)
    if answer.get("errors"):
        raise SystemExit(f"GraphQL errors from {endpoint}: {json.dumps(answer['errors'])[:2000]}")
    return answer["data"], len(text)


def fingerprint(workload, data):
    """What both servers must agree on, per workload."""
    if workload == "w6":
        if "createInstances" in data:
            return len(data["createInstances"])
        return sum(1 for v in data.values() if v and v.get("instance"))
    root = next(iter(data.values()))
    ids = [int(n["id"]) for n in root["nodes"]]
    if workload == "w1":
        return [
            (int(n["id"]), n["name"], int(n["parent"]["id"]), int(n["orgUnitType"]["id"]))
            for n in root["nodes"]
        ]
    if workload == "w2":
        return [
            (
                int(f["id"]),
                [int(v["id"]) for v in f["formVersions"]["nodes"]],
                [
                    (int(i["id"]), int(i["orgUnit"]["id"]), int((i["orgUnit"]["parent"] or {}).get("id", 0)))
                    for i in f["instances"]["nodes"]
                ],
            )
            for f in root["nodes"]
        ]
    if workload in ("w3", "w4"):
        return (int(root["totalCount"]), ids)
    return ids


def check_equivalence(workloads, endpoints):
    """Both servers answer every workload, with the same rows."""
    sizes = {}
    for w in WORKLOADS:
        prints = {}
        for server, endpoint in endpoints.items():
            data, size = graphql(endpoint, workloads[server][w])
            prints[server] = fingerprint(w, data)
            sizes[(server, w)] = size
        if prints["gateway"] != prints["postgraphile"]:
            raise SystemExit(
                f"{w}: the gateway and PostGraphile disagree:\n"
                f"  gateway:      {str(prints['gateway'])[:600]}\n"
                f"  postgraphile: {str(prints['postgraphile'])[:600]}"
            )
        first = prints["gateway"]
        if isinstance(first, int):
            rows = first  # W6: rows created
        else:
            rows = len(first[1]) if isinstance(first, tuple) else len(first)
        if rows == 0:
            raise SystemExit(f"{w}: no rows: the workload's parameters do not fit the data")
        log(f"{w}: both servers return the same {rows} top-level rows")
    return sizes


# --------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------


def wrk(endpoint, body_file, concurrency, seconds):
    threads = min(2, concurrency)
    env = dict(os.environ, BENCH_BODY=str(body_file), BENCH_AUTH=AUTH.get(endpoint, ""))
    out = output(
        [
            "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{seconds}s",
            "--timeout",
            "60s",
            "-s",
            str(BENCH / "post.lua"),
            endpoint,
        ],
        env=env,
    )
    for line in out.splitlines():
        if line.startswith("BENCHJSON "):
            r = json.loads(line[len("BENCHJSON "):])
            r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
            r["errors"] = sum(r[k] for k in r if k.startswith("errors_"))
            return r
    raise SystemExit(f"no summary from wrk:\n{out}")


# --------------------------------------------------------------------------
# Raw SQL
# --------------------------------------------------------------------------

EXECUTE = re.compile(r"LOG:\s+execute [^:]*: (.*)$")
DETAIL = re.compile(r"DETAIL:\s+parameters: (.*)$")
PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")


def capture_statements(pg_log, offset):
    """The statements logged since `offset`: (sql, {n: literal})."""
    with open(pg_log, "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    statements = []
    for line in text.splitlines():
        m = EXECUTE.search(line)
        if m:
            statements.append([m.group(1).strip(), {}])
            continue
        m = DETAIL.search(line)
        if m and statements:
            statements[-1][1] = {int(n): v for n, v in PARAM.findall(m.group(1))}
    return statements


def bind(sql, params, spell):
    """`sql` with each `$n` replaced by `spell(n, literal)`, the literal the
    log gave for it."""

    def one(m):
        n = int(m.group(1))
        if n not in params:
            raise SystemExit(f"parameter ${n} missing for: {sql}")
        return spell(n, params[n])

    # Parameters only: `$n` inside string literals does not occur in the
    # engine's SQL, which binds every value.
    return re.sub(r"\$(\d+)", one, sql)


def literal(value, made):
    """A parameter's literal; a write's new UUIDs made anew on each execution
    (the column is unique)."""
    return "gen_random_uuid()::text" if value.strip("'") in made else value


def literals(statements, made):
    """A pgbench script with every parameter bound as a literal."""
    return [bind(sql, params, lambda _, v: literal(v, made)) for sql, params in statements]


# pgbench refuses a statement with more variables than this (its
# MAX_ARGS, less one).
PGBENCH_MAX_VARIABLES = 255


def parameterised(statements, made):
    """A pgbench script that sends each statement's parameters as
    parameters (`:name` variables, which `-M prepared` binds as `$n`), as
    the gateway does, and the `-D` definitions it needs. PostgreSQL may
    then plan a statement afresh on each execution (a custom plan), as it
    does the gateway's; with literals a prepared statement has nothing to
    bind and is planned once. NULLs stay literals (a variable cannot be
    NULL), and so do the UUIDs of a write's new rows (each execution needs
    new ones); a statement with more parameters than pgbench allows keeps
    its literals."""
    lines, defines = [], []
    for i, (sql, params) in enumerate(statements):
        # Not a NULL, not a new UUID.
        variables = [n for n, v in params.items() if v != "NULL" and literal(v, made) == v]
        if len(variables) > PGBENCH_MAX_VARIABLES:
            lines += literals([(sql, params)], made)
            continue
        chosen = set(variables)
        lines.append(bind(sql, params, lambda n, v, i=i: f":s{i}p{n}" if n in chosen else literal(v, made)))
        defines += [f"s{i}p{n}={params[n][1:-1].replace(chr(39) * 2, chr(39))}" for n in variables]
    return lines, defines


def pgbench(url, script, seconds, workdir, defines=()):
    env = dict(os.environ, PGOPTIONS=f"-c search_path={SCHEMA}")
    prefix = workdir / f"{script.stem}_log"
    for old in workdir.glob(f"{script.stem}_log*"):
        old.unlink()
    out = output(
        [
            "pgbench",
            "-n",
            "-M",
            "prepared",
            "-c",
            "1",
            "-j",
            "1",
            "-T",
            str(seconds),
            "-f",
            str(script),
            "-l",
            f"--log-prefix={prefix}",
            *(f"-D{d}" for d in defines),
            url,
        ],
        env=env,
        cwd=workdir,
    )
    if "failed" in out and not re.search(r"number of failed transactions: 0\b", out):
        raise SystemExit(f"pgbench failures for {script}:\n{out}")
    latencies = []
    for path in workdir.glob(f"{script.stem}_log*"):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3:
                latencies.append(int(parts[2]))
    if not latencies:
        raise SystemExit(f"pgbench logged no transaction for {script}:\n{out}")
    latencies.sort()
    return {
        "transactions": len(latencies),
        "p50_us": latencies[len(latencies) // 2],
        "p99_us": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "mean_us": statistics.fmean(latencies),
        "tps": len(latencies) / seconds,
    }


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def ms(us):
    """Milliseconds: two decimals below one (a sub-millisecond floor would
    otherwise round to 0.2 or 0.3), one above."""
    return f"{us / 1000:.2f}" if us < 1000 else f"{us / 1000:.1f}"


def ratio(a, b):
    return f"{a / b:.2f}×" if b else "n/a"


def render(results):
    r = results
    lines = []
    lines.append(f"Run of {r['date']} ({'smoke run, --small' if r['small'] else 'full size'}): "
                 f"{r['org_units']:,} org units, {r['instances']:,} instances; "
                 f"each point is the median of {r.get('repeat', 1)} runs of {r['seconds']} s (the two servers "
                 f"taking turns), after a {r['warmup']} s warm-up at concurrency 16.")
    lines.append("")
    lines.append("Machine: " + r["machine"])
    lines.append("")
    lines.append("Versions: " + r["versions"])
    lines.append("")
    lines.append("### Seeding")
    lines.append("")
    lines.append("| backend | org units | instances | rows in all | time | rows/s |")
    lines.append("|---|---:|---:|---:|---:|---:|")
    for name, s in r["seeding"].items():
        lines.append(
            f"| {name} | {s['org_units']:,} | {s['instances']:,} | {s['rows']:,} | "
            f"{s['seconds']:.1f} s | {s['rows'] / s['seconds']:,.0f} |"
        )
    lines.append("")
    lines.append("### Throughput and latency")
    lines.append("")
    lines.append("Requests per second (rps) and latency percentiles in milliseconds, per "
                 "concurrency; *×PG* is the gateway's figure over PostGraphile's "
                 "(throughput: higher is better; p99: lower is better).")
    lines.append("")
    lines.append("| workload | c | gateway rps | PostGraphile rps | rps ×PG | gateway p50 | PG p50 | gateway p99 | PG p99 | p99 ×PG |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in WORKLOADS:
        for c in CONCURRENCIES:
            g = r["load"]["gateway"][w][str(c)]
            p = r["load"]["postgraphile"][w][str(c)]
            lines.append(
                f"| {w.upper()} | {c} | {g['rps']:.0f} | {p['rps']:.0f} | {ratio(g['rps'], p['rps'])} | "
                f"{ms(g['p50_us'])} | {ms(p['p50_us'])} | {ms(g['p99_us'])} | {ms(p['p99_us'])} | "
                f"{ratio(g['p99_us'], p['p99_us'])} |"
            )
    errors = [
        f"{s} {w} c={c}: {v['errors']}"
        for s, ws in r["load"].items()
        for w, cs in ws.items()
        for c, v in cs.items()
        if v["errors"]
    ]
    lines.append("")
    lines.append("Errors (connect/read/write/status/timeout) during the runs: "
                 + (", ".join(errors) if errors else "none") + ".")
    lines.append("")
    lines.append("### SQL statements per request, raw-SQL floor")
    lines.append("")
    lines.append("Statements per request: the median over "
                 f"{r['metric_requests']} sequential requests, each read from the gateway's "
                 "`/metrics` before and after it (a caller's scope lookups, kept 5 s, add "
                 "their statements to the request that refreshes them). The raw-SQL floor replays the "
                 "gateway's own statements for one steady-state request (captured from PostgreSQL's log) "
                 "with `pgbench -M prepared` at concurrency 1, in each turn of the gateway's "
                 "concurrency-1 runs (the median of its runs' p50 is kept): with their parameters "
                 "sent as parameters, as the gateway sends them (the floor), and, for comparison, "
                 "bound as literals, which PostgreSQL plans once. The last two columns are for reading the "
                 f"ratio, not part of the target: the gateway's p50 for `{TRIVIAL_QUERY}` with the same "
                 "token, in the same turns (what a request costs before it reads anything: HTTP, the "
                 "token, the document), and the gateway's p50 over the floor plus that cost.")
    lines.append("")
    lines.append("| workload | statements/request | at a smaller page | raw SQL p50 | with literals | "
                 "gateway p50 (c=1) | gateway / raw | gateway / literals | "
                 f"`{TRIVIAL_QUERY}` p50 | gateway / (raw + that) |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in WORKLOADS:
        s = r["statements"][w]
        small = r["statements_small_page"].get(w)
        raw = r["raw"][w]
        lit = r["raw_literals"][w]
        g = r["load"]["gateway"][w]["1"]
        t = r["per_request"][w]
        lines.append(
            f"| {w.upper()} | {s:g} | {'' if small is None else f'{small:g}'} | {ms(raw['p50_us'])} | "
            f"{ms(lit['p50_us'])} | {ms(g['p50_us'])} | {ratio(g['p50_us'], raw['p50_us'])} | "
            f"{ratio(g['p50_us'], lit['p50_us'])} | {ms(t['p50_us'])} | "
            f"{ratio(g['p50_us'], raw['p50_us'] + t['p50_us'])} |"
        )
    lines.append("")
    lines.append(f"Smaller pages: {r['small_pages']}.")
    lines.append("")
    lines.append(f"Peak RSS (VmHWM) after every run: gateway {r['rss_kib']['gateway'] / 1024:.0f} MiB, "
                 f"PostGraphile (node) {r['rss_kib']['postgraphile'] / 1024:.0f} MiB.")
    lines.append("")
    lines.append("### Targets")
    lines.append("")
    lines.append("| target | result |")
    lines.append("|---|---|")
    for target, verdict in r["targets"]:
        lines.append(f"| {target} | {verdict} |")
    return "\n".join(lines)


def judge(results):
    load = results["load"]
    targets = []
    for w in WORKLOADS:
        misses = []
        for c in ("16", "64"):
            g, p = load["gateway"][w][c], load["postgraphile"][w][c]
            x = g["rps"] / p["rps"]
            if x < 2:
                misses.append(f"c={c} throughput {x:.2f}×")
            if g["p99_us"] > p["p99_us"]:
                misses.append(f"c={c} p99 {g['p99_us'] / p['p99_us']:.2f}×")
        targets.append((
            f"{w.upper()}: throughput ≥ 2× PostGraphile at c=16 and 64, p99 no worse",
            "met" if not misses else "missed (" + "; ".join(misses) + ")",
        ))
    varying = [
        w for w, small in results["statements_small_page"].items()
        if small != results["statements"][w]
    ]
    targets.append((
        "statements per request independent of page size",
        "met" if not varying else "missed for " + ", ".join(varying),
    ))
    slow = []
    for w in WORKLOADS:
        x = load["gateway"][w]["1"]["p50_us"] / results["raw"][w]["p50_us"]
        if x > 1.5:
            slow.append(f"{w.upper()} {x:.2f}×")
    targets.append((
        "latency at c=1 within 1.5× of raw SQL (p50)",
        "met" if not slow else "missed (" + ", ".join(slow) + ")",
    ))
    rss = results["rss_kib"]["gateway"] / 1024
    targets.append((
        "gateway peak RSS < 150 MB at c=64",
        f"{'met' if rss * 1.048576 < 150 else 'missed'} ({rss:.0f} MiB)",
    ))
    return targets


def write_markdown(results):
    path = ROOT / "BENCHMARKS.md"
    block = RESULTS_BEGIN + "\n\n" + render(results) + "\n\n" + RESULTS_END
    if path.exists():
        text = path.read_text()
        if RESULTS_BEGIN in text and RESULTS_END in text:
            head, rest = text.split(RESULTS_BEGIN, 1)
            _, tail = rest.split(RESULTS_END, 1)
            path.write_text(head + block + tail)
            return path
    path.write_text("# Benchmarks\n\n## Results\n\n" + block + "\n")
    return path


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="smoke run: 5,000 org units, 3 s per point")
    parser.add_argument("--org-units", type=int, help="org units (default 100000; 5000 with --small)")
    parser.add_argument("--instances-per-unit", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=int, help="seconds per measured run (default 6; 3 with --small)")
    parser.add_argument("--repeat", type=int, help="runs per point, median kept (default 3; 1 with --small)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--pg-log", default="/var/log/postgresql/postgresql-15-main.log",
                        help="PostgreSQL's server log, for the raw-SQL capture")
    parser.add_argument("--skip-sqlite", action="store_true", help="do not time the SQLite seed")
    parser.add_argument("--keep", action="store_true", help="keep the bench_ schema afterwards")
    parser.add_argument("--no-markdown", action="store_true", help="do not touch BENCHMARKS.md")
    parser.add_argument("--only", help="measure only these workloads, e.g. w3,w5 (implies --no-markdown)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the bench_ schema of an earlier --keep run instead of seeding (implies --keep)")
    args = parser.parse_args()
    global WORKLOADS
    if args.only:
        chosen = [w.strip().lower() for w in args.only.split(",") if w.strip()]
        unknown = [w for w in chosen if w not in WORKLOADS]
        if unknown or not chosen:
            raise SystemExit(f"--only: unknown workloads {unknown}; choose among {WORKLOADS}")
        WORKLOADS = chosen
        args.no_markdown = True
    if args.reuse:
        args.keep = True
    org_units = args.org_units or (5_000 if args.small else 100_000)
    seconds = args.seconds or (3 if args.small else 6)
    repeat = args.repeat or (1 if args.small else 3)
    warmup = 2 if args.small else 5
    for tool in ["cargo", "psql", "pgbench", "node", "npm", "wrk"]:
        if not shutil.which(tool):
            raise SystemExit(f"`{tool}` is missing" + (" (apt-get install wrk)" if tool == "wrk" else ""))
    WORK.mkdir(parents=True, exist_ok=True)
    url = args.database_url
    # Both servers talk to PostgreSQL in plain text, over the loopback.
    # node-postgres (PostGraphile) uses TLS only when asked; sqlx (the
    # gateway) tries it first by default (`sslmode=prefer`), and on a
    # server with `ssl = on` that cost the gateway 5% of its CPU on W2 and
    # PostgreSQL its share of the encryption.
    if "sslmode=" not in url:
        url += ("&" if "?" in url else "?") + "sslmode=disable"

    machine = (
        f"{output(['nproc']).strip()} cores ({platform_cpu()}), "
        f"{mem_total()} memory (`free -h`), {output(['uname', '-sr']).strip()}"
    )
    versions = ", ".join([
        "PostgreSQL " + psql(url, "SHOW server_version").split()[0],
        "node " + output(["node", "--version"]).strip(),
        f"PostGraphile {POSTGRAPHILE_VERSION} with postgraphile-plugin-connection-filter {FILTER_PLUGIN_VERSION}",
        wrk_version(),
        output(["rustc", "--version"]).strip(),
    ])

    # 1. The release gateway.
    run(["cargo", "build", "--release", "-p", "gateway"], cwd=ROOT)
    gateway = TARGET / "release" / "gateway"

    # PostGraphile from npm, into target/bench/postgraphile.
    pg_dir = WORK / "postgraphile"
    pg_dir.mkdir(exist_ok=True)
    for name in ["package.json", "server.js"]:
        shutil.copy(BENCH / "postgraphile" / name, pg_dir / name)
    if not (pg_dir / "node_modules" / "postgraphile").exists():
        run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=pg_dir)

    base_env = dict(os.environ)
    for key in list(base_env):
        if key.startswith("GATEWAY_"):
            del base_env[key]
    pg_env = dict(
        base_env,
        GATEWAY_DATABASE_URL=url,
        GATEWAY_PG_SCHEMA_PREFIX=SCHEMA_PREFIX,
        GATEWAY_DOMAINS="iaso",
        # On PostgreSQL `serve` wants a key; the workloads run anonymously.
        GATEWAY_JWT_SECRET=secrets.token_hex(32),
        RUST_LOG="warn",
    )

    results = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "small": args.small,
        "org_units": org_units,
        "seconds": seconds,
        "repeat": repeat,
        "warmup": warmup,
        "machine": machine,
        "versions": versions,
        "seeding": {},
    }
    seed_args = ["seed", "--domain", "iaso", "--org-units", str(org_units),
                 "--instances-per-unit", str(args.instances_per_unit), "--seed", str(args.seed)]

    # 2. Seed PostgreSQL (a fresh bench_iaso schema) and time it.
    reusing = args.reuse and psql(url, f"SELECT count(*) FROM pg_namespace WHERE nspname = '{SCHEMA}'") == "1"
    if not reusing:
        psql(url, f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
    gateway_process = postgraphile_process = capture_process = None
    try:
        if reusing:
            log(f"reusing schema {SCHEMA} (not seeded, not timed)")
            args.skip_sqlite = True
            results["instances"] = int(psql(url, "SELECT count(*) FROM instance", SCHEMA))
        else:
            started = time.time()
            seeded = output([gateway, *seed_args], env=pg_env)
            results["seeding"]["PostgreSQL"] = seed_summary(seeded, org_units, time.time() - started)
            log(f"PostgreSQL seeded: {results['seeding']['PostgreSQL']}")
            results["instances"] = results["seeding"]["PostgreSQL"]["instances"]

        # Workload parameters, from the data.
        params = {
            "HF_TYPE": psql(url, "SELECT id FROM org_unit_type WHERE category = 'HF'", SCHEMA),
            "REGION_PATH": psql(url, "SELECT path FROM org_unit WHERE org_unit_type_id = "
                                "(SELECT id FROM org_unit_type WHERE category = 'REGION') ORDER BY id LIMIT 1", SCHEMA),
            "DISTRICT_PATH": psql(url, "SELECT path FROM org_unit WHERE org_unit_type_id = "
                                  "(SELECT id FROM org_unit_type WHERE category = 'DISTRICT') ORDER BY id LIMIT 1", SCHEMA),
            "FORM_ID": psql(url, "SELECT id FROM form WHERE form_id = 'monthly_activity'", SCHEMA),
            "PERIOD": "202603",
            "PROJECT_ID": psql(url, "SELECT project_id FROM instance WHERE form_id = "
                               "(SELECT id FROM form WHERE form_id = 'monthly_activity') ORDER BY id LIMIT 1", SCHEMA),
            "HF_UNIT": psql(url, "SELECT id FROM org_unit WHERE org_unit_type_id = "
                            "(SELECT id FROM org_unit_type WHERE category = 'HF') ORDER BY id LIMIT 1", SCHEMA),
            "PAGE": 5000,
        }
        results["params"] = params
        log(f"workload parameters: {params}")
        workloads = {
            server: {w: w6_body(server, params) if w == "w6" else body_of(load_query(server, w, params))
                     for w in WORKLOADS}
            for server in ("gateway", "postgraphile")
        }

        # 3. The servers.
        run([gateway, "migrate"], env=pg_env, stdout=subprocess.DEVNULL)
        gw_port = free_port()
        gateway_process = subprocess.Popen(
            [gateway, "serve"], env=dict(pg_env, GATEWAY_LISTEN=f"127.0.0.1:{gw_port}")
        )
        gw_base = f"http://127.0.0.1:{gw_port}"
        wait_for(gw_base + "/readyz", "the gateway", gateway_process)
        pgl_port = free_port()
        postgraphile_process = subprocess.Popen(
            ["node", "server.js", url, SCHEMA, str(pgl_port)],
            cwd=pg_dir,
            env=dict(base_env, NODE_ENV="production"),
        )
        pgl_base = f"http://127.0.0.1:{pgl_port}"
        endpoints = {"gateway": gw_base + "/iaso/graphql", "postgraphile": pgl_base + "/graphql"}
        # The gateway serves nobody without a token: an account admin's,
        # whose every statement carries the account's row scope.
        account = psql(url, "SELECT id FROM account ORDER BY id LIMIT 1", SCHEMA)
        admin = psql(url, "SELECT COALESCE((SELECT p.user_id FROM profile p WHERE p.account_id = "
                     f"{account} AND NOT EXISTS (SELECT 1 FROM profile_org_units j WHERE j.profile_id = p.id) "
                     "ORDER BY p.id LIMIT 1), 0)", SCHEMA)
        token = output([gateway, "token", "--domain", "iaso", "--sub", admin, "--tenant", account,
                        "--roles", "admin"], env=pg_env).strip()
        AUTH[endpoints["gateway"]] = f"Bearer {token}"
        wait_for_graphql(endpoints["postgraphile"], "PostGraphile", postgraphile_process)

        # W6 adds submissions to the subtree W4 reads: each phase that runs
        # W6 is followed by removing what it added (and a VACUUM), so that
        # every other workload, and its raw-SQL floor, reads the seeded data.
        seeded_instances = int(psql(url, "SELECT COALESCE(MAX(id), 0) FROM instance", SCHEMA))

        def forget_w6():
            if "w6" in WORKLOADS:
                removed = psql(url, f"WITH d AS (DELETE FROM instance WHERE id > {seeded_instances} RETURNING 1) "
                               "SELECT count(*) FROM d", SCHEMA)
                psql(url, f'VACUUM (ANALYZE) "{SCHEMA}".instance')
                log(f"removed the {removed} submissions W6 created")

        # 4. Same answers.
        sizes = check_equivalence(workloads, endpoints)
        results["response_bytes"] = {f"{s} {w}": n for (s, w), n in sizes.items()}

        # 5a. Statements per request, and at a smaller page.
        metric_requests = 20
        results["metric_requests"] = metric_requests
        results["statements"] = {w: statements_per_request(gw_base, endpoints["gateway"], workloads["gateway"][w], metric_requests)
                                 for w in WORKLOADS}
        smaller = {"w1": ("first: 50", "first: 5"), "w3": ("first: 100", "first: 10"),
                   "w4": ("first: 100", "first: 10"), "w5": ("first: 5000", "first: 100")}
        results["small_pages"] = "W1 50 → 5 rows, W3 and W4 100 → 10, W5 5,000 → 100"
        results["statements_small_page"] = {}
        for w, (old, new) in smaller.items():
            if w not in WORKLOADS:
                continue
            query = load_query("gateway", w, params)
            assert old in query, (w, old)
            results["statements_small_page"][w] = statements_per_request(
                gw_base, endpoints["gateway"], body_of(query.replace(old, new, 1)), metric_requests)
        log(f"statements per request: {results['statements']}, smaller pages: {results['statements_small_page']}")
        forget_w6()

        # 5b. Raw SQL: the gateway's own statements for one request,
        # captured from PostgreSQL's log through a second gateway (its
        # sessions only log), to be replayed by pgbench next to the
        # gateway's concurrency-1 runs below. A request that refreshed the
        # caller's scope lookups runs more statements than the steady
        # state measured above: it is captured again, so that the floor
        # is what the gateway runs at concurrency 1.
        capture_url = url + ("&" if "?" in url else "?") + "options[log_statement]=all"
        cap_port = free_port()
        capture_process = subprocess.Popen(
            [gateway, "serve"],
            env=dict(pg_env, GATEWAY_DATABASE_URL=capture_url, GATEWAY_LISTEN=f"127.0.0.1:{cap_port}"),
        )
        cap_base = f"http://127.0.0.1:{cap_port}"
        AUTH[cap_base + "/iaso/graphql"] = AUTH[endpoints["gateway"]]
        wait_for(cap_base + "/readyz", "the capturing gateway", capture_process)
        sql_dir = WORK / "sql"
        shutil.rmtree(sql_dir, ignore_errors=True)
        sql_dir.mkdir()
        scripts = {}
        results["raw_statements"] = {}
        for w in WORKLOADS:
            for _ in range(5):
                graphql(cap_base + "/iaso/graphql", workloads["gateway"][w])  # warm
                time.sleep(0.5)
                offset = os.path.getsize(args.pg_log)
                before = metric(cap_base)
                body, made = fresh(workloads["gateway"][w])
                http("POST", cap_base + "/iaso/graphql", body)
                counted = metric(cap_base) - before
                time.sleep(1.0)
                statements = capture_statements(args.pg_log, offset)
                if len(statements) != counted:
                    raise SystemExit(f"{w}: captured {len(statements)} statements, the gateway ran {counted}: "
                                     f"is {args.pg_log} PostgreSQL's log?")
                if counted == results["statements"][w]:
                    break
                log(f"{w}: the captured request ran {counted} statements, "
                    f"{results['statements'][w]:g} in the steady state: capturing again")
            else:
                raise SystemExit(f"{w}: no request ran the steady state's {results['statements'][w]:g} statements")
            results["raw_statements"][w] = len(statements)
            made = set(made)
            bound, defines = parameterised(statements, made)
            for kind, lines, needs in (("literals", literals(statements, made), ()), ("parameters", bound, defines)):
                script = sql_dir / f"{w}_{kind}.sql"
                replay = "".join(sql + ";\n" for sql in lines)
                if made:
                    # A write: in one transaction, as the gateway runs it.
                    replay = "BEGIN;\n" + replay + "COMMIT;\n"
                script.write_text(replay)
                scripts[(w, kind)] = (script, needs)
                # Fails the run now if PostgreSQL cannot type a parameter
                # from its context (pgbench sends them untyped).
                pgbench(url, script, 1, sql_dir, needs)
        stop(capture_process)
        forget_w6()

        # 5c. Load: every point `repeat` times, the two servers taking turns,
        # and the median kept (this machine is noisy). At concurrency 1 the
        # raw-SQL replay runs beside the gateway in each turn (pgbench -M
        # prepared, one connection), so the floor and the gateway's latency
        # are measured in the same minutes, not one phase apart.
        body_dir = WORK / "bodies"
        body_dir.mkdir(exist_ok=True)
        # The gateway's cost of a request that reads nothing: HTTP, the
        # token, a GraphQL document parsed, validated and answered. The
        # raw-SQL floor leaves it out; it is measured in the same turns.
        trivial = body_of(TRIVIAL_QUERY)
        (body_dir / "gateway_typename.json").write_text(trivial)
        _, answer = http("POST", endpoints["gateway"], trivial)
        if json.loads(answer) != {"data": {"__typename": "Query"}}:
            raise SystemExit(f"the gateway answered {TRIVIAL_QUERY} with {answer}")
        sizes[("gateway", "typename")] = len(answer)
        load = {"gateway": {}, "postgraphile": {}}
        servers = ("gateway", "postgraphile")
        for w in WORKLOADS:
            for server in servers:
                body_file = body_dir / f"{server}_{w}.json"
                body_file.write_text(workloads[server][w])
                wrk(endpoints[server], body_file, 16, warmup)
                load[server][w] = {}
            raw_runs = {"parameters": [], "literals": []}
            typename_runs = []
            for c in CONCURRENCIES:
                runs = {server: [] for server in servers}
                for rep in range(repeat):
                    turn = list(servers if rep % 2 == 0 else servers[::-1])
                    if c == 1:
                        # Always next to the gateway: gateway, its
                        # { __typename }, raw (as issued, then with
                        # literals), peer; then the reverse.
                        turn[1:1] = (["typename", "raw", "literals"] if rep % 2 == 0
                                     else ["literals", "raw", "typename"])
                    for server in turn:
                        if server in ("raw", "literals"):
                            kind = "parameters" if server == "raw" else "literals"
                            script, needs = scripts[(w, kind)]
                            raw_runs[kind].append(pgbench(url, script, seconds, sql_dir, needs))
                            continue
                        target, what = ("gateway", "typename") if server == "typename" else (server, w)
                        r = wrk(endpoints[target], body_dir / f"{target}_{what}.json", c, seconds)
                        expected = sizes[(target, what)]
                        if r["requests"] and abs(r["bytes"] / r["requests"] - expected) > 0.2 * expected + 500:
                            log(f"warning: {target} {what} c={c}: {r['bytes'] / r['requests']:.0f} bytes per "
                                f"response, {expected} expected: some answers were errors")
                            r["errors"] += 1
                        (typename_runs if server == "typename" else runs[server]).append(r)
                for server in servers:
                    r = median_run(runs[server])
                    load[server][w][str(c)] = r
                    log(f"{server:12} {w} c={c:<2} {r['rps']:8.1f} rps  p50 {ms(r['p50_us'])} ms  "
                        f"p99 {ms(r['p99_us'])} ms  errors {r['errors']}  (runs: "
                        + ", ".join(f"{x:.1f}" for x in r["runs_rps"]) + ")")
                if c == 1:
                    r = median_run(typename_runs)
                    results.setdefault("per_request", {})[w] = r
                    log(f"gateway      {TRIVIAL_QUERY} beside {w} c=1  p50 {ms(r['p50_us'])} ms  errors {r['errors']}")
                    for kind, key in (("parameters", "raw"), ("literals", "raw_literals")):
                        runs_of = raw_runs[kind]
                        raw = sorted(runs_of, key=lambda x: x["p50_us"])[len(runs_of) // 2]
                        raw["runs_p50_us"] = [x["p50_us"] for x in runs_of]
                        results.setdefault(key, {})[w] = raw
                        log(f"raw SQL      {w} c=1  {results['raw_statements'][w]} statements ({kind}), p50 "
                            f"{ms(raw['p50_us'])} ms (runs: " + ", ".join(ms(x) for x in raw["runs_p50_us"]) + ")")
        results["load"] = load
        forget_w6()
        results["rss_kib"] = {
            "gateway": vm_hwm_kib(gateway_process.pid),
            "postgraphile": vm_hwm_kib(postgraphile_process.pid),
        }
        stop(gateway_process)
        stop(postgraphile_process)

        # 7. The same seed into SQLite, for its timing only (last, alone).
        if not args.skip_sqlite:
            sqlite_dir = WORK / "sqlite"
            shutil.rmtree(sqlite_dir, ignore_errors=True)
            sqlite_env = dict(base_env, GATEWAY_DATA_DIR=str(sqlite_dir), GATEWAY_DOMAINS="iaso", RUST_LOG="warn")
            started = time.time()
            seeded = output([gateway, *seed_args], env=sqlite_env)
            results["seeding"]["SQLite"] = seed_summary(seeded, org_units, time.time() - started)
            log(f"SQLite seeded: {results['seeding']['SQLite']}")
            shutil.rmtree(sqlite_dir, ignore_errors=True)
    finally:
        for process in (gateway_process, postgraphile_process, capture_process):
            stop(process)
        if not args.keep:
            psql(url, f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
            log(f"dropped schema {SCHEMA}")

    results["targets"] = judge(results)
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
    print()
    print(render(results))
    if not args.no_markdown:
        log(f"wrote {write_markdown(results)}")


def median_run(runs):
    """The median of each figure over repeated runs of one point."""
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p50_us": statistics.median(r["p50_us"] for r in runs),
        "p99_us": statistics.median(r["p99_us"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "bytes": sum(r["bytes"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "runs_rps": [r["rps"] for r in runs],
    }


def seed_summary(stdout, org_units, seconds):
    rows = dict(re.findall(r"^(\w+)\s+(\d+)$", stdout, re.M))
    total = re.search(r"^(\d+) rows in", stdout, re.M)
    return {
        "org_units": int(rows.get("org_unit", 0)),
        "instances": int(rows.get("instance", 0)),
        "rows": int(total.group(1)) if total else 0,
        "seconds": round(seconds, 1),
    }


def statements_per_request(base, endpoint, body, n):
    """The median of n sequential requests' statement counts: a caller's
    scope lookups, kept for GATEWAY_SCOPE_CACHE_SECONDS, add their
    statements to the one request that refreshes them."""
    graphql(endpoint, body)
    counts = []
    for _ in range(n):
        before = metric(base)
        graphql(endpoint, body)
        counts.append(metric(base) - before)
    return statistics.median(counts)


def wait_for_graphql(endpoint, what, process, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode} while starting")
        try:
            status, _ = http("POST", endpoint, json.dumps({"query": "{ __typename }"}), timeout=5)
            if status == 200:
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"{what} did not answer within {timeout}s")


def platform_cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def mem_total():
    for line in output(["free", "-h"]).splitlines():
        if line.startswith("Mem:"):
            return line.split()[1]
    return "unknown"


def wrk_version():
    probe = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    text = (probe.stdout + probe.stderr).strip().splitlines()
    return text[0].split(" [")[0] if text else "wrk"


if __name__ == "__main__":
    main()
