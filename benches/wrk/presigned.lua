-- wrk script for scripts/bench.sh: replays one presigned URL and checks every response.
-- Arguments (after `--`): METHOD, expected status, expected body length (GET), and for PUT
-- the body length to send. A run with any wrong answer is reported as invalid, so a
-- server that answers errors fast cannot win.
--   wrk -t1 -c32 -d10s -s benches/wrk/presigned.lua URL -- GET 200 1024
--   wrk -t1 -c32 -d10s -s benches/wrk/presigned.lua URL -- PUT 200 0 1024

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  method = args[1] or "GET"
  want_status = tonumber(args[2] or "200")
  want_length = tonumber(args[3] or "-1")
  wrk.method = method
  local put_size = tonumber(args[4] or "0")
  if put_size > 0 then
    wrk.body = string.rep("x", put_size)
    wrk.headers["Content-Length"] = tostring(put_size)
  end
  bad = 0
  first_bad = ""
end

function response(status, headers, body)
  if status ~= want_status or (want_length >= 0 and #body ~= want_length) then
    bad = bad + 1
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local total_bad = 0
  local example = ""
  for _, t in ipairs(threads) do
    total_bad = total_bad + t:get("bad")
    local e = t:get("first_bad")
    if example == "" and e ~= nil then example = e end
  end
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT requests=%d seconds=%.3f rate=%.1f bad=%d errors=%d\n",
    summary.requests, secs, summary.requests / secs, total_bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
  if total_bad > 0 then
    io.write("FIRST_BAD " .. example .. "\n")
  end
end
