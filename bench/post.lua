-- wrk script: POSTs the JSON body in $BENCH_BODY and prints a JSON summary.
local path = os.getenv("BENCH_BODY")
local file = assert(io.open(path, "rb"))
local body = file:read("*a")
file:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

-- A body with __UUID__ marks (W6, a batch upload) gets a new UUID at each
-- mark for every request: the column is unique, and a retried upload is
-- not what W6 measures. UUIDs are <time>-<thread>-<random>-<random>-<n>:
-- unique across threads, runs and requests.
local dynamic = body:find("__UUID__", 1, true) ~= nil
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local started
local counter = 0

function init(args)
  started = os.time()
  math.randomseed(started * 100 + (tid or 0))
end

function request()
  if not dynamic then
    return wrk.format()
  end
  local made = body:gsub("__UUID__", function()
    counter = counter + 1
    return string.format("%08x-%04x-4%03x-8%03x-%012x",
      started % 0x100000000, (tid or 0) % 0x10000,
      math.random(0, 0xfff), math.random(0, 0xfff), counter)
  end)
  return wrk.format(nil, nil, nil, made)
end

function done(summary, latency, requests)
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, "errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_status": %d, "errors_timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
