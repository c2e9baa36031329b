-- wrk script for bench/load.py: one page per run, every response checked, not just counted.
--
-- Arguments (after wrk's `--`): method, path, marker the body must hold, marker it must not hold
-- ("" for none), a file of signed requests ("" for a fixed request), the number of wrk threads,
-- then headers as "Name: value". With a file, each line is "signature<TAB>form body"; thread n
-- takes every line whose number is n modulo the thread count, so no two requests repeat one.
-- The counts of every thread are summed in done() and printed as one JSON line for load.py.

local threads = {}
local counter = 0
local keys = { "ok", "bad_status", "status_5xx", "no_marker", "forbidden", "exhausted" }

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  method, path, must, must_not, pool = args[1], args[2], args[3], args[4], args[5]
  local nthreads = tonumber(args[6])
  headers = {}
  for i = 7, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  ok, bad_status, status_5xx, no_marker, forbidden, exhausted = 0, 0, 0, 0, 0, 0
  if pool ~= "" then
    signatures, bodies = {}, {}
    local n = 0
    for line in io.lines(pool) do
      if n % nthreads == tid then
        local signature, body = line:match("^([^\t]*)\t(.*)$")
        table.insert(signatures, signature)
        table.insert(bodies, body)
      end
      n = n + 1
    end
    following = 1
  else
    fixed = wrk.format(method, path, headers, nil)
  end
end

function request()
  if fixed then
    return fixed
  end
  local i = following
  following = following + 1
  if i > #bodies then
    -- The pool is used up: a repeated CallSid would be a replay, not a new call. Count it.
    exhausted = exhausted + 1
    i = (i - 1) % #bodies + 1
  end
  headers["X-Twilio-Signature"] = signatures[i]
  return wrk.format(method, path, headers, bodies[i])
end

function response(status, response_headers, body)
  if status >= 500 then
    status_5xx = status_5xx + 1
  end
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif not body or not body:find(must, 1, true) then
    no_marker = no_marker + 1
  elseif must_not ~= "" and body:find(must_not, 1, true) then
    forbidden = forbidden + 1
  else
    ok = ok + 1
  end
end

function done(summary, latency, requests)
  local total = {}
  for _, key in ipairs(keys) do
    total[key] = 0
  end
  for _, thread in ipairs(threads) do
    for _, key in ipairs(keys) do
      total[key] = total[key] + thread:get(key)
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'LOADRESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "connect": %d, '
      .. '"read": %d, "write": %d, "timeout": %d, "ok": %d, "bad_status": %d, "status_5xx": %d, '
      .. '"no_marker": %d, "forbidden": %d, "exhausted": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), errors.connect,
    errors.read, errors.write, errors.timeout, total.ok, total.bad_status, total.status_5xx,
    total.no_marker, total.forbidden, total.exhausted
  ))
end
