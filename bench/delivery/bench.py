#!/usr/bin/env python3
"""Delivery benchmark (issues 4 and 10 "Measured", DESIGN §6); run it through bench/delivery/run.sh.

Every run has three parts, all against the same nginx on loopback (Debian's nginx, `return 200` to any POST):

  ceiling  wrk POSTs a webhook body with repute's headers to that nginx: what loopback HTTP allows here.
  drain    SUBSCRIPTIONS subscriptions and DELIVERIES pending deliveries (bodies as the outbox makes them) are
           written into a fresh database, then `repute serve` starts and delivers them all, outcomes durably
           recorded. Reported: deliveries/s (first to last 2xx, from the server's own delivered_at), CPU seconds
           per 10,000 deliveries, peak RSS, and event-to-2xx p50/p99, which in a backlog is mostly time spent
           queued.
  offered  a fresh server with the same subscriptions; RATE events/s for RATE_SECONDS are made through the API
           (POST /v1/accounts: each sandbox account's initial scan emits reputations.added, fanned out to every
           subscription). Reported: event-to-2xx p50/p99 (delivered_at - the event's created_at), the rates
           reached, CPU and RSS.

The drain and offered parts run once per back end in BACKENDS, in turn within each run:

  sqlite   one node on a SQLite file (synchronous=FULL, the default): the baseline.
  pg       one node on PostgreSQL 15 (a private server started in the temp dir by scripts/postgres-test-server.sh
           with PG_DURABLE=1: fsync, full_page_writes and synchronous_commit on), one fresh database per part,
           its schema made by `repute migrate`; the drain's rows are loaded with psql's \copy, then VACUUM
           ANALYZE and CHECKPOINT, before the node starts.
  pg2      two nodes (distinct --node-id and ports) on one such database: the drain is shared by both (both
           start on the pre-filled database), the offered load is split between their APIs (request i goes to
           node i % 2). Counts are summed over both nodes; rates come from the database.

For PostgreSQL the CPU of the server's processes during the part is reported beside repute's. Medians over RUNS
are printed as a markdown table with the ratios against the SQLite baseline of the same runs (and written to
OUT). Only loopback addresses are used; the processes started here are stopped by their PIDs whatever happens.
"""
import base64
import csv
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
BACKENDS = env("BACKENDS", "sqlite pg pg2").split()
PG_POOL_SIZE = env("PG_POOL_SIZE", 0, int)  # 0: repute's default --pool-size
PG_STATS = env("PG_STATS", 0, int)  # 1: what PostgreSQL's sessions wait for, and its statements, in each drain
PG_SCRIPT = os.path.join(ROOT, "scripts", "postgres-test-server.sh")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Targets on the 2-core machine (issue 4).
TARGET_RATE = 20_000
TARGET_P99_MS = 20
TARGET_RSS_MB = 150
# Issue 10: one PostgreSQL node at least half a SQLite node's drain; two PostgreSQL nodes at least 0.9 of one.
TARGET_PG_OF_SQLITE = 0.5
TARGET_PG2_OF_PG = 0.9

started = []  # every Popen made here, stopped on exit
pg_servers = []  # PostgreSQL servers started here, stopped on exit after the Popens


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
    while pg_servers:
        pg_servers.pop().stop()
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


def machine_ticks():
    """Busy and total jiffies of the whole machine."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def busy_cores(before, after):
    return (after[0] - before[0]) / max(after[1] - before[1], 1) * (os.cpu_count() or 1)


def machine_busy_cores(seconds=2.0):
    before = machine_ticks()
    time.sleep(seconds)
    return busy_cores(before, machine_ticks())


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
    """One `repute serve --dev` node; start() spawns it, ready() reads its key and waits for /healthz."""

    def __init__(self, tmp, name, url, node_id=None):
        self.port = free_port()
        self.log = open(os.path.join(tmp, f"{name}.log"), "a")
        args = nice() + [os.path.join(tmp, "repute"), "serve", "--dev", "--listen", f"127.0.0.1:{self.port}",
                         "--database", url]
        if node_id:
            args += ["--node-id", node_id]
        if url.startswith("postgres") and PG_POOL_SIZE:
            args += ["--pool-size", str(PG_POOL_SIZE)]
        self.proc = spawn(args + EXTRA_ARGS, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.api = None

    def ready(self):
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
        return self

    def delivered(self):
        text = self.api.call("GET", "/metrics")
        found = re.search(r'^repute_delivery_attempts_total\{outcome="delivered"\} (\S+)$', text, re.M)
        return int(float(found.group(1))) if found else 0

    def stop(self):
        stop(self.proc)


def start_nodes(tmp, name, db, count, together):
    """count nodes on db (node ids bench-a, bench-b, ... on PostgreSQL). together: spawn them all before
    waiting for any (the drain; the database already holds the dev key), else one after the other."""
    nodes = []
    for i in range(count):
        node_id = f"bench-{chr(ord('a') + i)}" if db.kind == "pg" else None
        nodes.append(Repute(tmp, f"{name}-{chr(ord('a') + i)}" if count > 1 else name, db.url, node_id))
        if not together:
            nodes[-1].ready()
    if together:
        for node in nodes:
            node.ready()
    return nodes


class SqliteDatabase:
    kind = "sqlite"

    def __init__(self, tmp, name):
        self.path = os.path.join(tmp, f"{name}.db")
        self.url = f"sqlite://{self.path}"

    def rows(self, sql):
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()

    def insert_deliveries(self, columns, rows):
        connection = sqlite3.connect(self.path)
        connection.executemany(f"INSERT INTO deliveries({', '.join(columns)}) VALUES "
                               f"({','.join('?' * len(columns))})", rows)
        connection.commit()
        connection.close()

    def drop(self):
        pass


class PgServer:
    """A private PostgreSQL 15 on loopback in DIR, durable (PG_DURABLE=1), at priority NICE like repute."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "pg")
        out = subprocess.run(nice() + [PG_SCRIPT, "start", self.dir], env={**os.environ, "PG_DURABLE": "1"},
                             capture_output=True, text=True, timeout=120)
        found = re.search(r"^REPUTE_TEST_POSTGRES=(\S+)$", out.stdout, re.M)
        if out.returncode != 0 or not found:
            raise RuntimeError(f"PostgreSQL did not start: {out.stderr.strip()}")
        pg_servers.append(self)
        self.base = found.group(1).rsplit("/", 1)[0]
        with open(os.path.join(self.dir, "data", "postmaster.pid")) as f:
            self.pid = int(f.readline())
        self.settings = self.psql("postgres", "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM "
                                  "pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', "
                                  "'wal_sync_method', 'shared_buffers', 'max_wal_size')").strip()
        self.version = self.psql("postgres", "SHOW server_version").strip()

    def url(self, database):
        return f"{self.base}/{database}"

    def psql(self, database, sql):
        out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.url(database), "-c", sql],
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError(f"psql: {sql[:80]}: {out.stderr.strip()}")
        return out.stdout

    def cpu_seconds(self):
        """CPU used so far by the postmaster and every process it started that is still alive (the backends of
        connected nodes, the checkpointer, the WAL writer...)."""
        total = 0.0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry) == self.pid or int(fields[1]) == self.pid:
                total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        return total

    def stop(self):
        subprocess.run([PG_SCRIPT, "stop", self.dir], capture_output=True, timeout=120)


class PgDatabase:
    kind = "pg"

    def __init__(self, server, tmp, name):
        self.server = server
        self.name = name.replace("-", "_")
        self.tmp = tmp
        server.psql("postgres", f"CREATE DATABASE {self.name}")
        self.url = server.url(self.name)
        out = subprocess.run([os.path.join(tmp, "repute"), "migrate", "--database", self.url], capture_output=True,
                             text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"repute migrate: {out.stderr.strip()}")

    def rows(self, sql):
        return [tuple(int(v) if re.fullmatch(r"-?\d+", v) else (None if v == "" else v) for v in line.split("|"))
                for line in self.server.psql(self.name, sql).splitlines()]

    def insert_deliveries(self, columns, rows):
        path = os.path.join(self.tmp, f"{self.name}.csv")
        with open(path, "w", newline="") as f:
            csv.writer(f).writerows(rows)
        self.server.psql(self.name, f"\\copy deliveries({', '.join(columns)}) FROM '{path}' WITH (FORMAT csv)")
        os.remove(path)
        # A deployment's tables have statistics and a clean visibility map; the load's WAL is not the drain's.
        self.server.psql(self.name, "VACUUM ANALYZE deliveries")
        self.server.psql(self.name, "CHECKPOINT")

    def drop(self):
        self.server.psql("postgres", f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


class PgWaits:
    """Samples what the nodes' PostgreSQL sessions are doing every 0.1 s (pg_stat_activity), through one psql."""

    def __init__(self, db):
        self.samples = {}
        self.proc = spawn(["psql", "-X", "-q", "-A", "-t", db.url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
        self.running = True
        self.thread = threading.Thread(target=self.loop)
        self.thread.start()

    def loop(self):
        query = ("SELECT COALESCE(wait_event_type || ':' || wait_event, 'on CPU') || ' ' || "
                 "CASE WHEN query LIKE 'UPDATE deliveries SET next%' THEN 'claim' "
                 "WHEN query LIKE 'UPDATE deliveries%' THEN 'outcome' WHEN query LIKE 'SELECT%FROM webhooks%' "
                 "THEN 'webhook read' WHEN query LIKE 'UPDATE webhooks%' THEN 'webhook update' "
                 "WHEN query LIKE 'INSERT INTO delivery_attempts%' THEN 'attempt insert' ELSE left(query, 24) END "
                 "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                 "AND backend_type = 'client backend' AND state = 'active';\n\\echo END\n")
        while self.running:
            self.proc.stdin.write(query)
            self.proc.stdin.flush()
            for line in iter(self.proc.stdout.readline, ""):
                if line.strip() == "END":
                    break
                self.samples[line.strip()] = self.samples.get(line.strip(), 0) + 1
            time.sleep(0.1)

    def finish(self):
        self.running = False
        self.thread.join()
        stop(self.proc)
        total = sum(self.samples.values()) or 1
        return [f"{count / total * 100:5.1f} %  {what}" for what, count in
                sorted(self.samples.items(), key=lambda kv: -kv[1])[:15]]


def pg_statements(db, delivered):
    rows = db.server.psql(db.name, "SELECT calls, round(total_exec_time), left(regexp_replace(query, '\\s+', ' ', "
                          "'g'), 110) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE "
                          "datname = current_database()) ORDER BY total_exec_time DESC LIMIT 15")
    lines = []
    for line in rows.splitlines():
        calls, ms, query = line.split("|", 2)
        lines.append(f"{int(calls) / max(delivered, 1):6.3f} calls/delivery {int(ms):7d} ms  {query}")
    return lines


def make_database(backend, tmp, name, pg):
    return SqliteDatabase(tmp, name) if backend == "sqlite" else PgDatabase(pg, tmp, name)


def node_count(backend):
    return 2 if backend == "pg2" else 1


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
    hooks = db.rows("SELECT id, tenant_id, name FROM webhooks ORDER BY seq")
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
    db.insert_deliveries(["id", "tenant_id", "event_id", "webhook_id", "event_type", "body", "state", "attempts",
                          "next_attempt_at", "created_at", "updated_at"], rows)
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
    if since_us is None:
        rows = db.rows("SELECT d.delivered_at - e.created_at FROM deliveries d JOIN events e "
                       "ON e.id = d.event_id WHERE d.state = 'delivered'")
    else:
        rows = db.rows(f"SELECT delivered_at - {int(since_us)} FROM deliveries WHERE state = 'delivered'")
    span = db.rows("SELECT COUNT(*), MIN(delivered_at), MAX(delivered_at) FROM deliveries "
                   "WHERE state = 'delivered'")[0]
    return [r[0] / 1000 for r in rows], span


class Usage:
    """CPU of the nodes, of the PostgreSQL server and of the whole machine from now on."""

    def __init__(self, pg):
        self.pg = pg
        self.machine0 = machine_ticks()
        self.pg0 = pg.cpu_seconds() if pg else 0.0
        self.began = time.time()

    def measure(self, nodes, node_cpu0=0.0):
        """Call while the nodes still run (their PostgreSQL backends are counted while they are connected)."""
        machine = busy_cores(self.machine0, machine_ticks())
        return {"cpu": sum(cpu_seconds(n.proc.pid) for n in nodes) - node_cpu0,
                "pg_cpu": (self.pg.cpu_seconds() - self.pg0) if self.pg else float("nan"),
                "rss": sum(peak_rss_mb(n.proc.pid) for n in nodes), "machine_cores": machine}


def drain(tmp, run, nginx_port, backend, pg):
    db = make_database(backend, tmp, f"drain-{backend}-{run}", pg)
    setup = start_nodes(tmp, f"drain-{backend}-{run}-setup", db, 1, together=False)[0]
    subscribe(setup, nginx_port)
    setup.stop()
    queued = queue_deliveries(db, DELIVERIES)
    wait_quiet()
    waits = None
    if PG_STATS and db.kind == "pg":
        db.server.psql(db.name, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        db.server.psql(db.name, "SELECT pg_stat_statements_reset()")
        waits = PgWaits(db)
    usage = Usage(pg if db.kind == "pg" else None)
    began = time.time()
    profiler = None
    if PROFILE and run == 0:
        # System-wide, so that PostgreSQL's backends (started when the nodes connect) are in it too.
        profiler = spawn(["perf", "record", "-F", "999", "-g", "-a", "-o", os.path.join(tmp, f"perf-{backend}.data")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    nodes = start_nodes(tmp, f"drain-{backend}-{run}", db, node_count(backend), together=True)
    while sum(n.delivered() for n in nodes) < queued and time.time() - began < 600:
        time.sleep(0.1)
    wall = time.time() - began
    used = usage.measure(nodes)
    if profiler:
        profiler.send_signal(signal.SIGINT)
        profiler.wait()
    for node in nodes:
        node.stop()
    lat, (count, first, last) = latencies_ms(db, since_us=int(began * 1e6))
    if waits:
        print(f"\n{LABELS[backend]}, drain {run + 1}: active sessions' wait events (pg_stat_activity every 0.1 s):\n"
              + "\n".join(waits.finish()) + "\nstatements by total time (pg_stat_statements):\n"
              + "\n".join(pg_statements(db, count)) + "\n", flush=True)
    db.drop()
    if count != queued:
        raise RuntimeError(f"{backend}: only {count} of {queued} deliveries were delivered")
    return {"drain_per_s": count / max((last - first) / 1e6, 1e-9), "drain_wall_per_s": count / wall,
            "drain_cpu_per_10k": used["cpu"] / count * 10_000, "drain_pg_cpu_per_10k": used["pg_cpu"] / count * 10_000,
            "drain_machine_cores": used["machine_cores"], "drain_rss_mb": used["rss"],
            "drain_p50_ms": percentile(lat, 50), "drain_p99_ms": percentile(lat, 99)}


def offered(tmp, run, nginx_port, backend, pg):
    db = make_database(backend, tmp, f"offered-{backend}-{run}", pg)
    nodes = start_nodes(tmp, f"offered-{backend}-{run}", db, node_count(backend), together=False)
    subscribe(nodes[0], nginx_port)
    user = nodes[0].api.call("POST", "/v1/users", {})["id"]
    wait_quiet()
    usage = Usage(pg if db.kind == "pg" else None)
    cpu0 = sum(cpu_seconds(n.proc.pid) for n in nodes)
    total = RATE * RATE_SECONDS
    next_index = [0]
    lock = threading.Lock()
    errors = []
    api_ms = []
    start = time.time() + 0.2

    def worker():
        apis = [Api(n.port, n.key) for n in nodes]
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
            target = i % len(nodes)
            try:
                apis[target].call("POST", "/v1/accounts", {"user": user, "employer": "uber"})
                api_ms.append((time.time() - sent) * 1000)
            except Exception as error:  # noqa: BLE001 - counted and reported
                errors.append(str(error))
                apis[target] = Api(nodes[target].port, nodes[target].key)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    offered_seconds = time.time() - start
    expected = (total - len(errors)) * SUBSCRIPTIONS
    deadline = time.time() + 60
    while sum(n.delivered() for n in nodes) < expected and time.time() < deadline:
        time.sleep(0.1)
    used = usage.measure(nodes, cpu0)
    for node in nodes:
        node.stop()
    lat, (count, first, last) = latencies_ms(db)
    db.drop()
    if errors:
        log(f"{backend}: {len(errors)} API errors, the first: {errors[0]}")
    return {"offered_events_per_s": (total - len(errors)) / offered_seconds, "offered_deliveries": count,
            "offered_missing": expected - count, "offered_p50_ms": percentile(lat, 50),
            "offered_p99_ms": percentile(lat, 99), "offered_api_p99_ms": percentile(api_ms, 99),
            "offered_cpu_per_10k": used["cpu"] / max(count, 1) * 10_000,
            "offered_pg_cpu_per_10k": used["pg_cpu"] / max(count, 1) * 10_000,
            "offered_machine_cores": used["machine_cores"], "offered_rss_mb": used["rss"],
            "offered_errors": len(errors)}


CEILING_ROW = ("ceiling_rps", "wrk → nginx, POST/s (the loopback ceiling)", "{:,.0f}")
ROWS = [
    ("drain_per_s", f"drain of {DELIVERIES:,} queued deliveries, deliveries/s", "{:,.0f}"),
    ("drain_wall_per_s", "  … counting from the process start", "{:,.0f}"),
    ("drain_cpu_per_10k", "  repute CPU seconds per 10,000 deliveries", "{:.2f}"),
    ("drain_pg_cpu_per_10k", "  PostgreSQL CPU seconds per 10,000 deliveries", "{:.2f}"),
    ("drain_machine_cores", "  whole machine busy, cores (of 2)", "{:.2f}"),
    ("drain_rss_mb", "  peak RSS, MB (sum over nodes)", "{:.0f}"),
    ("drain_p50_ms", "  start-to-2xx p50, ms (time in the backlog)", "{:,.0f}"),
    ("drain_p99_ms", "  start-to-2xx p99, ms", "{:,.0f}"),
    ("offered_events_per_s", f"offered load: events/s through the API (asked {RATE})", "{:,.0f}"),
    ("offered_p50_ms", "  event-to-2xx p50, ms", "{:.1f}"),
    ("offered_p99_ms", "  event-to-2xx p99, ms", "{:.1f}"),
    ("offered_api_p99_ms", "  POST /v1/accounts p99, ms", "{:.1f}"),
    ("offered_cpu_per_10k", "  repute CPU seconds per 10,000 deliveries", "{:.2f}"),
    ("offered_pg_cpu_per_10k", "  PostgreSQL CPU seconds per 10,000 deliveries", "{:.2f}"),
    ("offered_machine_cores", "  whole machine busy, cores (of 2)", "{:.2f}"),
    ("offered_rss_mb", "  peak RSS, MB (sum over nodes)", "{:.0f}"),
    ("offered_missing", "  deliveries not delivered within 60 s", "{:.0f}"),
]
LABELS = {"sqlite": "SQLite, 1 node", "pg": "PostgreSQL, 1 node", "pg2": "PostgreSQL, 2 nodes"}


def median_of(results, backend, key):
    values = [r[backend][key] for r in results if backend in r and key in r[backend]]
    values = [v for v in values if v == v]  # not NaN
    return statistics.median(values) if values else None


def summary(results):
    """The medians table (one column per back end, then the ratios) and the verdicts on the targets."""
    ratios = [(b, "sqlite") for b in BACKENDS if b != "sqlite" and "sqlite" in BACKENDS]
    if "pg" in BACKENDS and "pg2" in BACKENDS:
        ratios.append(("pg2", "pg"))
    head = ["measure"] + [LABELS[b] for b in BACKENDS] + [f"{a} / {b}" for a, b in ratios]
    table = [f"| {' | '.join(head)} |", "|---|" + "---:|" * (len(head) - 1)]
    ceiling_values = [r["ceiling_rps"] for r in results if "ceiling_rps" in r]
    if ceiling_values:
        _, label, form = CEILING_ROW
        table.append(f"| {label} | {form.format(statistics.median(ceiling_values))} |" + " |" * (len(head) - 2))
    for key, label, form in ROWS:
        medians = {b: median_of(results, b, key) for b in BACKENDS}
        if all(v is None for v in medians.values()):
            continue
        cells = [form.format(medians[b]) if medians[b] is not None else "" for b in BACKENDS]
        for a, b in ratios:
            ok = medians[a] is not None and medians[b] and key != "offered_missing"
            ratio = medians[a] / medians[b] if ok else None
            cells.append("" if ratio is None else f"{ratio:.2f}" if ratio < 10 else f"{ratio:,.0f}")
        table.append(f"| {label} | {' | '.join(cells)} |")
    verdicts = []
    rate = {b: median_of(results, b, "drain_per_s") for b in BACKENDS}
    for a, b, target in (("pg", "sqlite", TARGET_PG_OF_SQLITE), ("pg2", "pg", TARGET_PG2_OF_PG)):
        if rate.get(a) and rate.get(b):
            ratio = rate[a] / rate[b]
            verdict = "met" if ratio >= target else f"MISSED by {(target - ratio) / target * 100:.0f} %"
            verdicts.append(f"drain {LABELS[a]} / {LABELS[b]} = {ratio:.2f} (target >= {target}): {verdict}")
    return table, verdicts


def main():
    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    for backend in BACKENDS:
        if backend not in LABELS:
            raise SystemExit(f"bench/delivery: unknown back end '{backend}' in BACKENDS (sqlite, pg, pg2)")
    tmp = tempfile.mkdtemp(prefix="repute-delivery-bench.", dir=BENCH_TMP)
    shutil.copy(REPUTE_BIN, os.path.join(tmp, "repute"))
    os.chmod(tmp, 0o711)
    results = []
    try:
        nginx, nginx_port = start_nginx(tmp)
        pg = None
        if any(b != "sqlite" for b in BACKENDS) and ({"drain", "offered"} & set(PARTS)):
            pg = PgServer(tmp)
            log(f"PostgreSQL {pg.version} at {pg.base} (nice {NICE}): {pg.settings}")
        log(f"nginx on 127.0.0.1:{nginx_port} ({NGINX_WORKERS} workers); {SUBSCRIPTIONS} subscriptions; "
            f"back ends {' '.join(BACKENDS)}; repute {' '.join(EXTRA_ARGS) or '(default options)'}; nice {NICE}")
        for run in range(RUNS):
            result = {}
            if "ceiling" in PARTS:
                wait_quiet()
                result.update(ceiling(nginx_port))
                print(json.dumps({"run": run + 1, **{k: round(v, 3) for k, v in result.items()}}), flush=True)
            for backend in BACKENDS:
                part = {}
                if "drain" in PARTS:
                    part.update(drain(tmp, run, nginx_port, backend, pg))
                if "offered" in PARTS:
                    part.update(offered(tmp, run, nginx_port, backend, pg))
                if part:
                    print(json.dumps({"run": run + 1, "backend": backend,
                                      **{k: round(v, 3) for k, v in part.items()}}), flush=True)
                    result[backend] = part
            results.append(result)
        table, verdicts = summary(results)
        text = "\n".join(table) + "\n\n" + "".join(v + "  \n" for v in verdicts)
        print(f"\nmedians of {RUNS} runs\n" + text)
        if OUT:
            with open(OUT, "w") as f:
                f.write(text)
        if PROFILE and "drain" in PARTS:
            for backend in BACKENDS:
                data = os.path.join(tmp, f"perf-{backend}.data")
                for sort in ("comm,dso", "comm,sym"):
                    report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", sort, "-g",
                                             "none", "--percent-limit", "1"], capture_output=True, text=True).stdout
                    print(f"\nprofile of the first drain, {LABELS[backend]} (perf -a, self time by {sort}):\n" +
                          "\n".join(line for line in report.splitlines() if line and not line.startswith("#")))
    finally:
        stop_all()
        if KEEP_TMP:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
