-- wrk script for POST /v1/webhooks: a JSON body, Basic auth, a content type.
-- BENCH_AUTH: base64 of "api_key_id:api_key_secret". Every request creates one durable row.
-- done() prints one parseable line: BENCH key=value ... (latencies in milliseconds).
wrk.method = "POST"
wrk.path = "/v1/webhooks"
wrk.body = '{"url":"http://127.0.0.1:9/hook","events":["*"],"name":"bench"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Basic " .. (os.getenv("BENCH_AUTH") or "")

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "non2xx=%d connect_err=%d read_err=%d write_err=%d timeout_err=%d bytes=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect, e.read, e.write, e.timeout, summary.bytes))
end
