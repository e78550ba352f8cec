"""The campaign: its parts started, the load and the faults run, then the reconciliation."""

import collections
import fcntl
import json
import os
import random
import re
import shutil
import socket
import sys
import threading
import time
import uuid
from decimal import Decimal

from bus import Queues
from client import STATS, Api
from common import (
    BUS, DB, JWT_SECRET, OUT, PEER_TIMEOUT, PEER_TOKEN, PEER_TRIES, PG_PRIMARY, QUICK, RNG, ROOT,
    SEED, SERVICE_TOKEN, SOURCE, free_port, log, plan, psql, sh,
)
from faults import Faults
from load import World, worker
from parts import (
    Process, autovacuum_as_in_production, cargo_target, ensure_haproxy, ensure_primary, start_standby,
    wait_http,
)
from reconcile import Reconciliation
from upgrade import Upgrade


def p99_rank(ordered):
    return int(len(ordered) * 0.99)


def p99(ordered):
    return ordered[p99_rank(ordered)]


def percentiles(ordered):
    return {"requests": len(ordered), "p50_ms": ordered[len(ordered) // 2], "p99_ms": p99(ordered)}


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def request_kind(method, path):
    """What a request does, without its ids: `POST complete`, `PATCH disputes`."""
    words = [w for w in path.split("?")[0].strip("/").split("/") if not UUID.fullmatch(w)]
    return f"{method} {words[-1] if words else path}"


class DatabaseObserver:
    """What the database did in each soak window, beside the service's own work: which
    tables autovacuum was working on (seconds seen), how many buffers checkpoints wrote, and
    how the tables grew and gathered dead rows. A window slower than the first one is
    explained from here before the service's code is suspected."""

    def __init__(self):
        self.vacuuming = collections.Counter()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.last = self.counters()

    def start(self):
        self.thread.start()

    def stop(self):
        self.done.set()
        self.thread.join(10)

    def watch(self):
        while not self.done.wait(1.0):
            try:
                tables = psql("""SELECT coalesce(json_agg(c.relname), '[]') FROM pg_stat_progress_vacuum v
                                 JOIN pg_class c ON c.oid = v.relid""")
            except Exception:  # an observer never stops the campaign
                continue
            for table in tables:
                self.vacuuming[table] += 1

    @staticmethod
    def counters():
        try:
            return psql("""SELECT json_build_object(
                'checkpoint_buffers', (SELECT buffers_checkpoint FROM pg_stat_bgwriter),
                'checkpoints', (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter),
                'wal_bytes', (SELECT wal_bytes FROM pg_stat_wal),
                'tables', (SELECT json_object_agg(relname, json_build_object(
                    'live', n_live_tup, 'dead', n_dead_tup, 'inserted', n_tup_ins,
                    'updated', n_tup_upd, 'seq_scans', seq_scan,
                    'vacuums', autovacuum_count, 'analyzes', autoanalyze_count))
                    FROM pg_stat_user_tables))""")
        except Exception:
            return None

    def window(self):
        now = self.counters()
        last, self.last = self.last, now
        seen = {"autovacuum_seconds": dict(self.vacuuming)}
        self.vacuuming.clear()
        if now and last:
            seen["checkpoints"] = now["checkpoints"] - last["checkpoints"]
            seen["checkpoint_buffers"] = now["checkpoint_buffers"] - last["checkpoint_buffers"]
            seen["wal_mib"] = round((float(now["wal_bytes"]) - float(last["wal_bytes"])) / 2**20, 1)
            seen["tables"] = {
                name: {"live": t["live"], "dead": t["dead"],
                       **{k: t[k] - last["tables"].get(name, t)[k]
                          for k in ("inserted", "updated", "seq_scans", "vacuums", "analyzes")}}
                for name, t in (now["tables"] or {}).items()
                if t["inserted"] or t["updated"]}
        return seen


class Campaign(Faults, Reconciliation, Upgrade):
    def __init__(self):
        self.cleanups = []
        self.report = {"seed": SEED, "quick": QUICK, "faults": collections.Counter()}
        self.postgres_started_at = None  # set by the PostgreSQL restart fault
        self.retrier = None  # the buyer's retry of the completion cut by a kill

    def hold_the_machine(self):
        """One campaign at a time: two would share the database, the standby's directory and
        the PostgreSQL restarts. The lock goes with the process, however it ends."""
        OUT.parent.mkdir(parents=True, exist_ok=True)
        self.lock = open(OUT.parent / "chaos.lock", "w")
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            sys.exit("chaos: another campaign is running on this machine (target/chaos.lock); "
                     "wait for it to end, its cleanup would stop this one's standby")

    def setup(self):
        shutil.rmtree(OUT, ignore_errors=True)
        OUT.mkdir(parents=True)
        ensure_haproxy()
        # The release build, as operators run it: the debug build spends several times the
        # CPU on each request, and on two cores shared by every part that CPU is what the
        # soak's tail would measure.
        # The replicas start from the previous release and are upgraded under load.
        previous = self.build_previous()
        log("building order-api and stub-peers (release)")
        sh("cargo", "build", "--release", "-q", "-p", "order-api", "-p", "stub-peers", cwd=ROOT)
        binaries = self.binaries = cargo_target() / "release"
        ensure_primary()
        self.cleanups.append(autovacuum_as_in_production())
        self.report["autovacuum"] = "on"
        sh(str(previous), "migrate", env={**os.environ, "DATABASE_URL": f"{PG_PRIMARY}/{DB}"})
        standby_port, stop_standby = start_standby()
        self.cleanups.append(stop_standby)
        self.standby = f"postgres://postgres@127.0.0.1:{standby_port}/{DB}"
        log(f"primary 127.0.0.1:5432, standby 127.0.0.1:{standby_port} (pg_basebackup, streaming)")

        # The event bus, with queues that receive every event of the service.
        moto_port = free_port()
        self.moto = Process("moto", [sys.executable, str(ROOT / "scripts/chaos/emulator.py"), "-p", str(moto_port)]).start()
        self.cleanups.append(self.moto.stop)
        wait_http(moto_port, "/moto-api/")
        endpoint = f"http://127.0.0.1:{moto_port}"
        self.bus = Queues(endpoint)

        # The stand-in peers: buyers with money, sellers with Buy It Now listings.
        rng = random.Random(SEED)
        buyers = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(40)]
        sellers = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(10)]
        admin = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        listings = []
        for i in range(20000):
            listings.append({"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "seller_id": sellers[i % 10],
                             "title": f"Lot {i}", "status": "ACTIVE",
                             "buy_now_price": f"{rng.randint(5, 400)}.{rng.randint(0, 99):02d}", "shipping_cost": "6.50"})
        # Some buyers run short, so that holds are declined too.
        wallets = [{"user_id": b, "amount": "200000.00" if i % 8 else "150.00"} for i, b in enumerate(buyers)]
        seed_file = OUT / "seed.json"
        seed_file.write_text(json.dumps({"listings": listings, "wallets": wallets}))
        self.deposits = sum(Decimal(w["amount"]) for w in wallets)
        peers_port = free_port()
        self.peers = Process("stub-peers", [str(binaries / "stub-peers")], {
            "STUB_PEERS_ADDR": f"127.0.0.1:{peers_port}", "STUB_SERVICE_TOKEN": PEER_TOKEN,
            "STUB_SEED": str(seed_file), "RUST_LOG": "warn"}).start()
        self.cleanups.append(self.peers.stop)
        wait_http(peers_port, "/_stub/ledger/")

        # Three replicas, one configuration.
        self.replica_env = {
            "DATABASE_URL": f"{PG_PRIMARY}/{DB}", "DATABASE_READ_URL": self.standby,
            "JWT_SECRET": JWT_SECRET, "INTERNAL_SERVICE_TOKENS": SERVICE_TOKEN, "PEER_SERVICE_TOKEN": PEER_TOKEN,
            "WALLET_URL": f"http://127.0.0.1:{peers_port}/api/v1/wallet",
            "LISTING_URL": f"http://127.0.0.1:{peers_port}/api/v1/listings",
            "PEER_TIMEOUT": f"{int(PEER_TIMEOUT * 1000)}ms", "PEER_MAX_RETRIES": str(PEER_TRIES - 1),
            "PEER_CONNECT_TIMEOUT": "1s",
            "EVENT_BUS_NAME": BUS, "EVENT_SOURCE": SOURCE, "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "chaos", "AWS_SECRET_ACCESS_KEY": "chaos",
            "AUTO_COMPLETE_AFTER": "15s", "AUTO_COMPLETE_INTERVAL": "2s", "DEADLINE_INTERVAL": "2s",
            "DISPUTE_RESPONSE_WINDOW": "20s", "PAYMENT_RESUME_AFTER": "10s", "OUTBOX_POLL_INTERVAL": "200ms",
            "OUTBOX_MAX_PROBE_INTERVAL": "2s", "MIGRATE_ON_START": "false", "LOG_FORMAT": "json", "RUST_LOG": "warn",
            # As behind any balancer (docs/operations.md): it sets the forwarded headers.
            "TRUST_FORWARDED_HEADERS": "true", "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
        self.replicas = []
        for i in range(3):
            port = free_port()
            replica = Process(f"replica-{i}", [str(previous), "serve"],
                              {**self.replica_env, "PORT": str(port)}, port=port).start()
            self.cleanups.append(replica.stop)
            self.replicas.append(replica)
        for replica in self.replicas:
            wait_http(replica.port, "/readyz/")

        lb_port = free_port()
        servers = "\n".join(f"    server r{i} 127.0.0.1:{r.port} check inter 500ms fall 2 rise 2"
                            for i, r in enumerate(self.replicas))
        (OUT / "haproxy.cfg").write_text(f"""global
    maxconn 4096
    log stdout format raw local0
    # The runtime API: a replica is drained here before it is stopped, as a deploy does.
    stats socket {OUT / "haproxy.sock"} mode 600 level admin
defaults
    mode http
    # One line per request: when it came (epoch seconds) and how long its replica took to
    # answer (ms, -1 if it did not), which the soak's windows are measured on.
    log global
    log-format "%Ts.%ms %Tr %ST %HM %HP"
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    option redispatch
    retries 2
frontend api
    bind 127.0.0.1:{lb_port}
    # The replicas trust these headers: the balancer sets them, whatever the caller sent.
    http-request del-header Forwarded
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    http-request set-header X-Forwarded-Proto http
    default_backend replicas
backend replicas
    balance roundrobin
    # Liveness, not readiness: while the database is away every replica answers 503 in the
    # API's own shape, which is better than the balancer's page saying no server is up.
    option httpchk GET /healthz/
{servers}
""")
        self.lb = Process("haproxy", ["haproxy", "-f", str(OUT / "haproxy.cfg"), "-db"]).start()
        self.cleanups.append(self.lb.stop)
        wait_http(lb_port, "/healthz/")
        self.api = Api(lb_port)
        self.world = World(buyers, sellers, admin, [l["id"] for l in listings if l["buy_now_price"]], peers_port)
        log(f"3 replicas of {self.previous[0]} behind HAProxy on 127.0.0.1:{lb_port}; stand-ins on {peers_port}; "
            f"moto on {moto_port}")

    def cleanup(self):
        for step in reversed(self.cleanups):
            try:
                step()
            except Exception as error:  # keep cleaning up
                log(f"cleanup: {error}")

    # ---- load

    def start_load(self):
        self.threads = [threading.Thread(target=worker, args=(self.api, self.world, SEED + i), daemon=True)
                        for i in range(plan("workers"))]
        for t in self.threads:
            t.start()

    def stop_load(self):
        self.world.stop.set()
        for t in self.threads:
            t.join(300)

    def soak(self):
        """Steady load below saturation, measured in windows. The first window lets the
        faults' backlogs drain and is not compared."""
        window = plan("soak_window")
        settle = window
        if not QUICK and self.postgres_started_at:
            # PostgreSQL's first timed checkpoint comes checkpoint_timeout after its start,
            # then they follow one another, each spread over most of the interval. Until
            # then the database does less work than it will for the rest of the soak, so a
            # first window measured before it would flatter the comparison's baseline.
            cycle = psql("SELECT to_json(setting::int) FROM pg_settings WHERE name = 'checkpoint_timeout'")
            settle = max(settle, self.postgres_started_at + cycle + 10 - time.time())
        log(f"soak: {plan('soak')}s of steady load, in {window}s windows after {settle:.0f}s to settle")
        time.sleep(settle)
        rss_first = {r.name: r.rss_kib() for r in self.replicas}
        parts = [*self.replicas, self.peers, self.moto, self.lb]
        cpu_first = {part.name: part.cpu_seconds() for part in parts}
        driver_first = sum(os.times()[:2])
        bounds = []
        database = []
        observer = DatabaseObserver()
        observer.start()
        started = time.time()
        while time.time() - started < plan("soak"):
            begin = time.time()
            time.sleep(window)
            bounds.append((begin, time.time()))
            database.append(observer.window())
        observer.stop()
        rss_last = {r.name: r.rss_kib() for r in self.replicas}
        # What shares the two cores with the replicas: the tail's noise comes from there.
        busy = time.time() - started
        cpu_share = {part.name: round((part.cpu_seconds() - cpu_first[part.name]) / busy, 3) for part in parts}
        cpu_share["driver"] = round((sum(os.times()[:2]) - driver_first) / busy, 3)
        answered = self.replicas_answer_times()
        windows = [{**self.window(answered, begin, end), "database": seen}
                   for (begin, end), seen in zip(bounds, database)]
        self.report["soak"] = {"windows": windows, "rss_kib_first": rss_first, "rss_kib_last": rss_last,
                               "cpu_cores_used": cpu_share}
        first, last = windows[0], windows[-1]
        # The p99 of a quick run's window is its few worst requests out of a few hundred:
        # it measures the machine's noise, not a trend. The full run's minute-long windows
        # are what the 1.2x promise is checked on; the quick run reports them.
        self.report["soak"]["p99_checked"] = not QUICK
        if not QUICK and last["p99_ms"] > 1.2 * first["p99_ms"]:
            STATS.problem(f"soak: p99 of the last window {last['p99_ms']} ms is over 1.2x the first {first['p99_ms']} ms")
        for name in rss_first:
            if rss_last[name] > 1.2 * rss_first[name]:
                STATS.problem(f"soak: {name}'s RSS grew from {rss_first[name]} KiB to {rss_last[name]} KiB (over 1.2x)")

    def balancer(self, command):
        """Sends `command` to HAProxy's runtime API; its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(str(OUT / "haproxy.sock"))
            conn.sendall(command.encode() + b"\n")
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        return answer.decode()

    def drain(self, index, timeout=10.0):
        """Takes replica `index` out of the balancer's rotation and waits until none of its
        requests is left in flight: what a rolling deploy does before stopping a replica, so
        that no request is sent to one as it closes its connections."""
        self.balancer(f"set server replicas/r{index} state drain")
        deadline = time.time() + timeout
        while time.time() < deadline:
            stats = self.balancer("show stat").splitlines()
            header = stats[0].lstrip("# ").split(",")
            row = next((dict(zip(header, line.split(","))) for line in stats[1:]
                        if line.startswith(f"replicas,r{index},")), None)
            if row is None or row.get("scur") == "0":
                return
            time.sleep(0.1)

    def undrain(self, index):
        self.balancer(f"set server replicas/r{index} state ready")

    def balancer_log(self):
        """Every request the balancer's log shows: when it came (epoch seconds), how long its
        replica took (ms, -1 if none answered), the status, the method and the path."""
        requests = []
        for line in (OUT / "haproxy.log").read_text().splitlines():
            fields = line.split()
            if len(fields) != 5 or not fields[1].lstrip("-").isdigit() or not fields[2].isdigit():
                continue  # the balancer's own messages
            requests.append({"at": float(fields[0]), "ms": int(fields[1]), "status": int(fields[2]),
                             "method": fields[3], "path": fields[4]})
        return requests

    def replicas_answer_times(self):
        """(when received, ms, kind of request) of every request the balancer's log shows a
        replica answered. Measured there rather than in this driver, whose threads share one
        interpreter lock and would add their own waits to the tail."""
        return [(r["at"], r["ms"], request_kind(r["method"], r["path"]))
                for r in self.balancer_log() if r["ms"] >= 0]

    def window(self, answered, begin, end):
        """The replicas' answer times to the requests received in [begin, end), by kind of
        request too (which shows what the tail is made of), and the driver's own p99."""
        inside = [(ms, kind) for at, ms, kind in answered if begin <= at < end]
        taken = sorted(ms for ms, _ in inside)
        if not taken:
            STATS.problem(f"soak: no request reached the replicas between {begin:.0f} and {end:.0f}")
            taken = [0]
        with STATS.lock:
            driver = sorted(e * 1000 for t, e in STATS.samples if begin <= t < end) or [0]
        kinds = collections.defaultdict(list)
        for ms, kind in inside:
            kinds[kind].append(ms)
        slowest = collections.Counter(kind for ms, kind in sorted(inside, reverse=True)[:len(taken) - p99_rank(taken)])
        return {**percentiles(taken), "driver_p99_ms": round(p99(driver), 1),
                "slowest_percent_by_kind": dict(slowest),
                "by_kind": {kind: percentiles(sorted(t)) for kind, t in sorted(kinds.items())}}

    # ---- the end: let everything settle, then check

    def settle(self):
        if self.retrier:
            self.retrier.join(300)
        log("load stopped; waiting for workers, intents and the outbox to settle")
        # Shipped orders auto-complete within seconds here (AUTO_COMPLETE_AFTER is short),
        # except those a NO_ACTION resolution gave at least an hour back, and an unanswered
        # dispute escalates DISPUTE_RESPONSE_WINDOW after it opened: everything is still once
        # no such deadline is due soon. The outbox drains at the emulator's pace.
        # Waited for as long as something moves.
        last, still_since = None, time.time()
        while time.time() - still_since < 60:
            left = psql("""SELECT json_build_object(
                'intents', (SELECT count(*) FROM orders WHERE escrow_intent IS NOT NULL),
                'to_auto_complete', (SELECT count(*) FROM orders WHERE status IN ('SHIPPED', 'DELIVERED')
                                     AND auto_complete_at < now() + interval '20 seconds'),
                'to_mark_overdue', (SELECT count(*) FROM orders WHERE status = 'PAID' AND ship_overdue_at IS NULL
                                    AND ship_by < now() + interval '20 seconds'),
                'to_expire_unpaid', (SELECT count(*) FROM orders WHERE status = 'PENDING_PAYMENT'
                                     AND source = 'AUCTION' AND pay_by < now() + interval '20 seconds'),
                'to_escalate', (SELECT count(*) FROM disputes WHERE status IN ('OPEN', 'EVIDENCE')
                                AND respond_by < now() + interval '30 seconds'),
                'unpublished', (SELECT count(*) FROM outbox WHERE published_at IS NULL))""")
            if not any(left.values()):
                break
            if left != last:
                last, still_since = left, time.time()
            time.sleep(1)
        else:
            STATS.problem(f"nothing moved for 60s after the load's end, and it is not settled: {left}")
        # Every published event has reached the queue once the drainer finds it empty.
        written = psql("SELECT to_json(count(*)) FROM outbox")
        last, still_since = -1, time.time()
        while time.time() - still_since < 30:
            arrived = len({e["detail"]["event_id"] for e in self.bus.events()})
            if arrived >= written:
                break
            if arrived != last:
                last, still_since = arrived, time.time()
            time.sleep(1)
        self.bus.finish()

    def run(self):
        self.hold_the_machine()
        try:
            self.setup()
            self.start_load()
            time.sleep(plan("warmup"))
            self.upgrade(self.binaries / "order-api")
            acts = ["kill"] * (plan("kills") - 1) + ["kill_between", "postgres", "wallet", "bus"]
            RNG.shuffle(acts)
            for act_name in acts:
                {"kill": self.kill_a_replica, "kill_between": self.kill_between_payout_and_commit,
                 "postgres": self.restart_postgres, "wallet": self.wallet_hangs_then_fails,
                 "bus": self.bus_outage}[act_name]()
                time.sleep(RNG.uniform(3, 8))
            self.soak()
            self.stop_load()
            self.settle()
            broken = self.reconcile()
        finally:
            self.cleanup()
        self.report["faults"] = dict(self.report["faults"])
        (OUT / "report.json").write_text(json.dumps(self.report, indent=2, default=str))
        print(json.dumps({k: v for k, v in self.report.items() if k != "broken"}, indent=2, default=str))
        if broken:
            print(f"\nCHAOS FAILED: {len(broken)} invariant(s) broken (seed {SEED}):", file=sys.stderr)
            for line in broken[:40]:
                print(f"  BROKEN {line}", file=sys.stderr)
            return 1
        print(f"\nchaos passed (seed {SEED}): money reconciled to the cent, every event delivered in order, "
              f"every 2xx in the database. Report: {OUT / 'report.json'}")
        return 0


if __name__ == "__main__":
    sys.exit(Campaign().run())
