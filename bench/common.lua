-- bench/common.lua: what every scenario script shares. Each script loads it
-- with dofile(), so it runs in every one of wrk's Lua states (one per thread,
-- plus the main state where setup() and done() run).
--
--   setup(thread)       numbers the threads (the thread global `tid`, from 0)
--                       and keeps them, so that done() can sum their counters
--   parse_args(args)    the "key=value" words after wrk's `--`
--   common_init(a)      the per-thread counters; `expect` is "2xx" or a status
--   count(status, body) counts one response; true when it is the expected one
--   done(...)           prints "BENCH_RESULT {json}" (and at most one
--                       "BENCH_SAMPLE <status> <body>" per thread) for run.py
--
-- wrk's own error counts go into socket_errors: a request that timed out, or
-- a connection that failed to connect, read or write, is an error even though
-- no response reached count().

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- wrk numbers the script arguments from 0, not from 1.
function parse_args(args)
  local a = {}
  local i = 0
  while args[i] ~= nil do
    local key, value = args[i]:match("^([%w_]+)=(.*)$")
    if key then a[key] = value end
    i = i + 1
  end
  return a
end

function common_init(a)
  expect = a.expect or "2xx"
  expect_code = tonumber(expect)
  responses = 0
  ok = 0
  unexpected = 0
  starved = 0       -- requests sent without a usable token (refresh.lua)
  statuses = {}
  sample = nil
end

function count(status, body)
  responses = responses + 1
  statuses[status] = (statuses[status] or 0) + 1
  local good
  if expect_code then
    good = status == expect_code
  else
    good = status >= 200 and status < 300
  end
  if good then
    ok = ok + 1
  else
    unexpected = unexpected + 1
    if not sample then sample = status .. " " .. (body or ""):sub(1, 200) end
  end
  return good
end

local function ms(us) return us / 1000.0 end

function done(summary, latency, requests)
  local total = { ok = 0, unexpected = 0, starved = 0, responses = 0 }
  local codes = {}
  for _, t in ipairs(threads) do
    for key in pairs(total) do total[key] = total[key] + (t:get(key) or 0) end
    for code, n in pairs(t:get("statuses") or {}) do codes[code] = (codes[code] or 0) + n end
    local s = t:get("sample")
    if s then io.write("BENCH_SAMPLE ", (s:gsub("[\r\n]", " ")), "\n") end
  end
  local parts = {}
  for code, n in pairs(codes) do parts[#parts + 1] = string.format('"%d":%d', code, n) end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"seconds":%.3f,"rps":%.2f,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,' ..
    '"responses":%d,"ok":%d,"unexpected":%d,"starved":%d,' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"statuses":{%s}}\n',
    summary.requests, seconds, summary.requests / seconds,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency.max), ms(latency.mean),
    total.responses, total.ok, total.unexpected, total.starved,
    e.connect, e.read, e.write, e.timeout, table.concat(parts, ",")))
end
