-- wrk script for the delivery ceiling: POSTs a webhook body with the headers repute sends (content type,
-- webhook-id, webhook-timestamp, both signatures) to the same nginx the delivery engine targets.
-- BENCH_BODY: the body. done() prints one parseable line: BENCH key=value ...
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or "{}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["webhook-id"] = "5b3e2a0c-8f1d-4c7e-9a6b-2d4f8e1c3a5b"
wrk.headers["webhook-timestamp"] = "1795773600"
wrk.headers["webhook-signature"] = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="
wrk.headers["X-Argyle-Signature"] = string.rep("ab", 64)

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d errors=%d\n",
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
