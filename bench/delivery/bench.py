#!/usr/bin/env python3
"""Delivery benchmark (issue 4 "Measured", DESIGN §6); run it through bench/delivery/run.sh.

Every run has three parts, all against the same nginx on loopback (Debian's nginx, `return 200` to any POST):

  ceiling  wrk POSTs a webhook body with repute's headers to that nginx: what loopback HTTP allows here.
  drain    SUBSCRIPTIONS subscriptions and DELIVERIES pending deliveries (bodies as the outbox makes them) are
           written into a fresh database, then `repute serve` starts and delivers them all, outcomes durably
           recorded (synchronous=FULL). Reported: deliveries/s (first to last 2xx, from the server's own
           delivered_at), CPU seconds per 10,000 deliveries, peak RSS, and event-to-2xx p50/p99, which in a
           backlog is mostly time spent queued.
  offered  a fresh server with the same subscriptions; RATE events/s for RATE_SECONDS are made through the API
           (POST /v1/accounts: each sandbox account's initial scan emits reputations.added, fanned out to every
           subscription). Reported: event-to-2xx p50/p99 (delivered_at - the event's created_at), the rates
           reached, CPU and RSS.

Medians over RUNS are printed as a markdown table (and written to OUT). Only loopback addresses are used; the
processes started here are stopped by their PIDs whatever happens.
"""
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def env(name, default, kind=str):
    value = os.environ.get(name, "")
    return kind(value) if value != "" else default


RUNS = env("RUNS", 3, int)
PARTS = env("PARTS", "ceiling drain offered").split()
SUBSCRIPTIONS = env("SUBSCRIPTIONS", 16, int)
DELIVERIES = env("DELIVERIES", 100_000, int)
RATE = env("RATE", 500, int)
RATE_SECONDS = env("RATE_SECONDS", 20, int)
WRK_SECONDS = env("WRK_SECONDS", 10, int)
WRK_CONNECTIONS = env("WRK_CONNECTIONS", 256, int)
WRK_THREADS = env("WRK_THREADS", 2, int)
NGINX_WORKERS = env("NGINX_WORKERS", os.cpu_count() or 2, int)
EXTRA_ARGS = env("EXTRA_ARGS", "").split()
REPUTE_BIN = env("REPUTE_BIN", os.path.join(ROOT, "build", "repute"))
BENCH_TMP = env("BENCH_TMP", tempfile.gettempdir())
QUIET_WAIT = env("QUIET_WAIT", 120, int)
QUIET_BELOW = env("QUIET_BELOW", 0.3, float)
PROFILE = env("PROFILE", 0, int)
NICE = env("NICE", 0, int)
OUT = env("OUT", "")
KEEP_TMP = env("KEEP_TMP", 0, int)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Targets on the 2-core machine (issue 4).
TARGET_RATE = 20_000
TARGET_P99_MS = 20
TARGET_RSS_MB = 150

started = []  # every Popen made here, stopped on exit


def log(message):
    print(f"# {message}", file=sys.stderr, flush=True)


def stop(proc, timeout=15):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stop_all(*_):
    for proc in reversed(started):
        stop(proc)
    if _:
        sys.exit(128 + _[0])


def spawn(args, **kwargs):
    proc = subprocess.Popen(args, **kwargs)
    started.append(proc)
    return proc


def nice():
    """The command prefix that runs repute and nginx at priority NICE (0: as is)."""
    return ["nice", "-n", str(NICE)] if NICE else []


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def machine_busy_cores(seconds=2.0):
    def sample():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:9]]
        idle = values[3] + values[4]
        return sum(values) - idle, sum(values)

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return (busy1 - busy0) / max(total1 - total0, 1) * (os.cpu_count() or 1)


def wait_quiet():
    if QUIET_WAIT <= 0:
        return
    deadline = time.time() + QUIET_WAIT
    while True:
        busy = machine_busy_cores()
        if busy < QUIET_BELOW or time.time() > deadline:
            log(f"machine busy: {busy:.2f} cores {'(waited long enough)' if busy >= QUIET_BELOW else ''}")
            return


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Api:
    """A keep-alive HTTP/1.1 client for one repute server, with the dev key."""

    def __init__(self, port, key):
        self.port = port
        self.auth = "Basic " + base64.b64encode(f"{key['api_key_id']}:{key['api_key_secret']}".encode()).decode()
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, body=None):
        headers = {"Authorization": self.auth}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            # The server closes connections idle for 30 s: open a new one, once.
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        text = response.read().decode()
        if response.status // 100 != 2:
            raise RuntimeError(f"{method} {path}: {response.status} {text}")
        return json.loads(text) if text and response.getheader("Content-Type", "").startswith("application/json") else text


class Repute:
    def __init__(self, tmp, name, db):
        self.port = free_port()
        self.log = open(os.path.join(tmp, f"{name}.log"), "a")
        args = nice() + [os.path.join(tmp, "repute"), "serve", "--dev", "--listen", f"127.0.0.1:{self.port}",
                "--database", f"sqlite://{db}"] + EXTRA_ARGS
        self.proc = spawn(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"repute exited before printing its key (see {self.log.name})")
        self.key = json.loads(line)
        for _ in range(200):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        self.api = Api(self.port, self.key)

    def delivered(self):
        text = self.api.call("GET", "/metrics")
        found = re.search(r'^repute_delivery_attempts_total\{outcome="delivered"\} (\S+)$', text, re.M)
        return int(float(found.group(1))) if found else 0

    def stop(self):
        stop(self.proc)


def subscribe(repute, nginx_port):
    for i in range(SUBSCRIPTIONS):
        repute.api.call("POST", "/v1/webhooks", {"events": ["*"], "name": f"bench-{i}",
                                                 "url": f"http://127.0.0.1:{nginx_port}/hook/{i}", "secret": SECRET})


def uuid7():
    """A version 7 UUID (Unix milliseconds, then random bits), as repute makes its ids."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # variant
    return str(uuid.UUID(int=value))


def queue_deliveries(db, count):
    connection = sqlite3.connect(db)
    hooks = connection.execute("SELECT id, tenant_id, name FROM webhooks ORDER BY seq").fetchall()
    now = int(time.time() * 1e6)
    rows = []
    for _ in range(count // len(hooks)):
        event, account, user, reputation = (uuid7() for _ in range(4))
        for webhook_id, tenant, name in hooks:
            body = json.dumps({"event": "reputations.added", "name": name,
                               "data": {"account": account, "user": user, "reputation": reputation}},
                              separators=(",", ":"))
            rows.append((uuid7(), tenant, event, webhook_id, "reputations.added", body, "pending", 0, now,
                         now, now))
    connection.executemany(
        "INSERT INTO deliveries(id, tenant_id, event_id, webhook_id, event_type, body, state, attempts, "
        "next_attempt_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    connection.commit()
    connection.close()
    return len(rows)


def start_nginx(tmp):
    port = free_port()
    prefix = os.path.join(tmp, "nginx")
    os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
    with open(os.path.join(HERE, "nginx.conf.template")) as f:
        conf = f.read().replace("@DIR@", prefix).replace("@PORT@", str(port)).replace("@WORKERS@", str(NGINX_WORKERS))
    with open(os.path.join(prefix, "nginx.conf"), "w") as f:
        f.write(conf)
    proc = spawn(nice() + ["nginx", "-p", prefix + "/", "-c", os.path.join(prefix, "nginx.conf"), "-e",
                  os.path.join(prefix, "error.log")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("POST", "/hook/0", body="{}")
            if connection.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nginx did not answer 200 to a POST")


def ceiling(nginx_port):
    body = json.dumps({"event": "reputations.added", "name": "bench-0",
                       "data": {"account": str(uuid.uuid4()), "user": str(uuid.uuid4()),
                                "reputation": str(uuid.uuid4())}}, separators=(",", ":"))
    out = subprocess.run(nice() + ["wrk", "-t", str(WRK_THREADS), "-c", str(WRK_CONNECTIONS), "-d", f"{WRK_SECONDS}s",
                          "-s", os.path.join(HERE, "post.lua"), f"http://127.0.0.1:{nginx_port}/hook/0"],
                         env={**os.environ, "BENCH_BODY": body}, capture_output=True, text=True,
                         timeout=WRK_SECONDS + 60).stdout
    fields = dict(kv.split("=") for kv in out.split("BENCH ", 1)[1].split())
    return {"ceiling_rps": float(fields["rps"]), "ceiling_p99_ms": float(fields["p99_ms"])}


def latencies_ms(db, since_us=None):
    """Event-to-2xx of every delivered delivery (or, with since_us, 2xx time minus since_us), and the count and
    first and last delivered_at."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    if since_us is None:
        rows = connection.execute("SELECT d.delivered_at - e.created_at FROM deliveries d JOIN events e "
                                  "ON e.id = d.event_id WHERE d.state = 'delivered'").fetchall()
    else:
        rows = connection.execute("SELECT delivered_at - ? FROM deliveries WHERE state = 'delivered'",
                                  (since_us,)).fetchall()
    span = connection.execute("SELECT COUNT(*), MIN(delivered_at), MAX(delivered_at) FROM deliveries "
                              "WHERE state = 'delivered'").fetchone()
    connection.close()
    return [r[0] / 1000 for r in rows], span


def drain(tmp, run, nginx_port):
    db = os.path.join(tmp, f"drain-{run}.db")
    setup = Repute(tmp, f"drain-{run}-setup", db)
    subscribe(setup, nginx_port)
    setup.stop()
    queued = queue_deliveries(db, DELIVERIES)
    wait_quiet()
    began = time.time()
    repute = Repute(tmp, f"drain-{run}", db)
    profiler = None
    if PROFILE and run == 0:
        profiler = spawn(["perf", "record", "-F", "999", "-g", "-p", str(repute.proc.pid), "-o",
                          os.path.join(tmp, "perf.data")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while repute.delivered() < queued and time.time() - began < 600:
        time.sleep(0.1)
    wall = time.time() - began
    cpu, rss = cpu_seconds(repute.proc.pid), peak_rss_mb(repute.proc.pid)
    if profiler:
        profiler.send_signal(signal.SIGINT)
        profiler.wait()
    repute.stop()
    lat, (count, first, last) = latencies_ms(db, since_us=int(began * 1e6))
    if count != queued:
        raise RuntimeError(f"only {count} of {queued} deliveries were delivered")
    return {"drain_per_s": count / max((last - first) / 1e6, 1e-9), "drain_wall_per_s": count / wall,
            "drain_cpu_per_10k": cpu / count * 10_000, "drain_rss_mb": rss,
            "drain_p50_ms": percentile(lat, 50), "drain_p99_ms": percentile(lat, 99)}


def offered(tmp, run, nginx_port):
    db = os.path.join(tmp, f"offered-{run}.db")
    repute = Repute(tmp, f"offered-{run}", db)
    subscribe(repute, nginx_port)
    user = repute.api.call("POST", "/v1/users", {})["id"]
    wait_quiet()
    cpu0 = cpu_seconds(repute.proc.pid)
    total = RATE * RATE_SECONDS
    next_index = [0]
    lock = threading.Lock()
    errors = []
    api_ms = []
    start = time.time() + 0.2

    def worker():
        api = Api(repute.port, repute.key)
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= total:
                return
            delay = start + i / RATE - time.time()
            if delay > 0:
                time.sleep(delay)
            sent = time.time()
            try:
                api.call("POST", "/v1/accounts", {"user": user, "employer": "uber"})
                api_ms.append((time.time() - sent) * 1000)
            except Exception as error:  # noqa: BLE001 - counted and reported
                errors.append(str(error))
                api = Api(repute.port, repute.key)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    offered_seconds = time.time() - start
    expected = (total - len(errors)) * SUBSCRIPTIONS
    deadline = time.time() + 60
    while repute.delivered() < expected and time.time() < deadline:
        time.sleep(0.1)
    cpu, rss = cpu_seconds(repute.proc.pid) - cpu0, peak_rss_mb(repute.proc.pid)
    repute.stop()
    lat, (count, first, last) = latencies_ms(db)
    return {"offered_events_per_s": (total - len(errors)) / offered_seconds, "offered_deliveries": count,
            "offered_missing": expected - count, "offered_p50_ms": percentile(lat, 50),
            "offered_p99_ms": percentile(lat, 99), "offered_api_p99_ms": percentile(api_ms, 99),
            "offered_cpu_per_10k": cpu / max(count, 1) * 10_000, "offered_rss_mb": rss, "offered_errors": len(errors)}


ROWS = [
    ("ceiling_rps", "wrk → nginx, POST/s (the loopback ceiling)", "{:,.0f}"),
    ("drain_per_s", f"drain of {DELIVERIES:,} queued deliveries, deliveries/s", "{:,.0f}"),
    ("drain_wall_per_s", "  … counting from the process start", "{:,.0f}"),
    ("drain_cpu_per_10k", "  CPU seconds per 10,000 deliveries", "{:.2f}"),
    ("drain_rss_mb", "  peak RSS, MB", "{:.0f}"),
    ("drain_p50_ms", "  start-to-2xx p50, ms (time in the backlog)", "{:,.0f}"),
    ("drain_p99_ms", "  start-to-2xx p99, ms", "{:,.0f}"),
    ("offered_events_per_s", f"offered load: events/s through the API (asked {RATE})", "{:,.0f}"),
    ("offered_p50_ms", "  event-to-2xx p50, ms", "{:.1f}"),
    ("offered_p99_ms", "  event-to-2xx p99, ms", "{:.1f}"),
    ("offered_api_p99_ms", "  POST /v1/accounts p99, ms", "{:.1f}"),
    ("offered_cpu_per_10k", "  CPU seconds per 10,000 deliveries", "{:.2f}"),
    ("offered_rss_mb", "  peak RSS, MB", "{:.0f}"),
    ("offered_missing", "  deliveries not delivered within 60 s", "{:.0f}"),
]


def main():
    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    tmp = tempfile.mkdtemp(prefix="repute-delivery-bench.", dir=BENCH_TMP)
    shutil.copy(REPUTE_BIN, os.path.join(tmp, "repute"))
    os.chmod(tmp, 0o711)
    results = []
    try:
        nginx, nginx_port = start_nginx(tmp)
        log(f"nginx on 127.0.0.1:{nginx_port} ({NGINX_WORKERS} workers); {SUBSCRIPTIONS} subscriptions; "
            f"repute {' '.join(EXTRA_ARGS) or '(default options)'}; nice {NICE}")
        for run in range(RUNS):
            result = {}
            if "ceiling" in PARTS:
                wait_quiet()
                result.update(ceiling(nginx_port))
            if "drain" in PARTS:
                result.update(drain(tmp, run, nginx_port))
            if "offered" in PARTS:
                result.update(offered(tmp, run, nginx_port))
            print(json.dumps({"run": run + 1, **{k: round(v, 3) for k, v in result.items()}}), flush=True)
            results.append(result)
        table = ["| measure | median of %d runs |" % RUNS, "|---|---|"]
        for key, label, form in ROWS:
            values = [r[key] for r in results if key in r]
            if values:
                table.append(f"| {label} | {form.format(statistics.median(values))} |")
        print("\n".join(table))
        if OUT:
            with open(OUT, "w") as f:
                f.write("\n".join(table) + "\n")
        if PROFILE and "drain" in PARTS:
            report = subprocess.run(["perf", "report", "-i", os.path.join(tmp, "perf.data"), "--no-children",
                                     "--sort", "dso,sym", "-g", "none", "--percent-limit", "1"],
                                    capture_output=True, text=True).stdout
            print("\nprofile of the first drain (perf, self time):\n" +
                  "\n".join(line for line in report.splitlines() if line and not line.startswith("#")))
    finally:
        stop_all()
        if KEEP_TMP:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
