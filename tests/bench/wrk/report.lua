-- Shared by every Souk benchmark script: done() prints the run's figures as one JSON line.
--
-- wrk calls done() once, after every thread stopped, with the merged statistics. The line
-- starts with a marker so the harness finds it whatever else wrk printed. Latencies are in
-- microseconds in wrk; the JSON gives milliseconds.

local report = {}

local function ms(us)
  return us / 1000.0
end

function report.done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local fields = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_s":%.6f', seconds),
    string.format('"requests_per_s":%.3f', summary.requests / seconds),
    string.format('"bytes":%d', summary.bytes),
    string.format('"mean_ms":%.3f', ms(latency.mean)),
    string.format('"stdev_ms":%.3f', ms(latency.stdev)),
    string.format('"max_ms":%.3f', ms(latency.max)),
    string.format('"p50_ms":%.3f', ms(latency:percentile(50))),
    string.format('"p90_ms":%.3f', ms(latency:percentile(90))),
    string.format('"p95_ms":%.3f', ms(latency:percentile(95))),
    string.format('"p99_ms":%.3f', ms(latency:percentile(99))),
    string.format(
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
      e.connect, e.read, e.write, e.status, e.timeout
    ),
  }
  io.write("\nSOUK_WRK_JSON {" .. table.concat(fields, ",") .. "}\n")
end

return report
