#!/usr/bin/env python3
"""The fault-and-scale campaign: `make chaos` (CHAOS_QUICK=1 for the few-minute version).

Starts three order-api replicas behind HAProxy on the machine's PostgreSQL (a streaming
standby beside it serves the lists), with the stand-in peers and the EventBridge emulator,
drives a mixed load through HAProxy, and meanwhile kills replicas (one of them between a
Wallet payout and its commit), restarts PostgreSQL, makes the Wallet hang and then fail,
and takes the event bus away. Then it lets everything settle and checks, to the cent and
to the event, that nothing was lost or doubled. Any broken invariant is printed by name
and the exit status is 1. The figures go to target/chaos/report.json.

Runs with the project's .venv Python (boto3 comes with moto). Needs root for HAProxy's
installation and PostgreSQL's restart, as CI and this project's machines have.
"""

import base64
import collections
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import boto3

QUICK = os.environ.get("CHAOS_QUICK") == "1"
ROOT = Path(__file__).resolve().parent.parent
SEED = int(os.environ.get("CHAOS_SEED", str(int(time.time()))))
RNG = random.Random(SEED)

# How long each act lasts, in seconds: (quick, full).
PLAN = {
    "warmup": (10, 30),
    "kills": (3, 8),
    "wallet_hang": (8, 30),
    "wallet_fail": (8, 30),
    "bus_outage": (20, 60),
    "soak": (60, 600),  # after one window to settle
    "soak_window": (20, 60),
    # The emulator's SQS slows down as its queue grows (each receive scans the queue for
    # every message it returns), so the full run keeps the quick run's rate: eight workers
    # over its ten minutes let a queue grow past the point where it never drained again.
    "workers": (6, 6),
}


def plan(name):
    quick, full = PLAN[name]
    return quick if QUICK else full


PACE = 1.0
PG_PRIMARY = "postgres://postgres@127.0.0.1:5432"
DB = "orders_chaos"
JWT_SECRET = "chaos-secret-0123456789abcdef"
SERVICE_TOKEN = "chaos-service"
PEER_TOKEN = "chaos-peer"
BUS = "chaos-orders"
SOURCE = "marketplace.orders"
PEER_TIMEOUT = 2.0
PEER_TRIES = 2
# The longest a request may take before the client calls it a hang: the Wallet's timeouts
# and a little more. Anything slower is a broken promise, not bad luck.
HANG = PEER_TIMEOUT * PEER_TRIES + 6
FEE_RATE = Decimal("0.05")
CENT = Decimal("0.01")

OUT = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "chaos"


class Broken(Exception):
    """An invariant the campaign proves did not hold."""


def log(message):
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*args, check=True, **kwargs):
    return subprocess.run(args, check=check, text=True, capture_output=True, **kwargs)


def psql(sql, url=None):
    """Runs `sql` (a query returning one JSON value) and returns it decoded."""
    out = sh("psql", url or f"{PG_PRIMARY}/{DB}", "-AtXq", "-v", "ON_ERROR_STOP=1", "-c", sql).stdout
    return json.loads(out) if out.strip() else None


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(user, staff=False):
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": str(user), "exp": int(time.time()) + 86400}
    if staff:
        claims["is_staff"] = True
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(JWT_SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def money(value):
    return Decimal(str(value)).quantize(CENT)


def fee_on(amount):
    # Written again on purpose, not taken from the code under test.
    return (FEE_RATE * max(amount, Decimal(0))).quantize(CENT, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------
# The processes


class Process:
    def __init__(self, name, args, env=None, port=None):
        self.name, self.args, self.env, self.port = name, args, env, port
        self.proc = None
        self.starts = 0

    def start(self):
        logfile = open(OUT / f"{self.name}.log", "a")
        self.proc = subprocess.Popen(
            self.args, env={**os.environ, **(self.env or {})}, stdout=logfile, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.starts += 1
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def rss_kib(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


def wait_http(port, path, status=200, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == status:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"127.0.0.1:{port}{path} did not answer {status} within {timeout}s")


def cargo_target():
    meta = json.loads(sh("cargo", "metadata", "--format-version", "1", "--no-deps", cwd=ROOT).stdout)
    return Path(meta["target_directory"])


def ensure_haproxy():
    if shutil.which("haproxy"):
        return
    log("installing HAProxy (Debian package)")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "haproxy"], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, stdout=subprocess.DEVNULL)


def pg_cluster():
    version = sorted(os.listdir("/etc/postgresql"))[0]
    return version, f"/usr/lib/postgresql/{version}/bin"


def primary_ready():
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0


def ensure_primary():
    if not primary_ready():
        version, _ = pg_cluster()
        sh("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start")
    # A standby streams over a replication connection, which `all` in pg_hba.conf does not
    # cover: trust it from loopback, as the machine trusts every other local connection.
    hba = sh("psql", f"{PG_PRIMARY}/postgres", "-AtXc", "SHOW hba_file").stdout.strip()
    rules = Path(hba).read_text()
    if not re.search(r"^host\s+replication\s+all\s+127\.0\.0\.1/32\s+trust", rules, re.M):
        Path(hba).write_text(rules + "\nhost replication all 127.0.0.1/32 trust\n")
        sh("psql", f"{PG_PRIMARY}/postgres", "-AtXc", "SELECT pg_reload_conf()")
    sh("psql", f"{PG_PRIMARY}/postgres", "-qXc", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)",
       "-c", f"CREATE DATABASE {DB}")


def start_standby():
    """A streaming standby of the primary, made with pg_basebackup, on a port of its own."""
    _, bindir = pg_cluster()
    data = OUT / "standby"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True, mode=0o700)
    owner = []
    if os.getuid() == 0:
        shutil.chown(data, "postgres")
        owner = ["runuser", "-u", "postgres", "--"]
    sh(*owner, f"{bindir}/pg_basebackup", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres",
       "-D", str(data), "-R", "-X", "stream", "-c", "fast")
    # Debian keeps a cluster's configuration outside its data directory, so the copy has
    # none: the standby gets the least it needs.
    (data / "postgresql.conf").write_text("hot_standby = on\n")
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    (data / "pg_ident.conf").write_text("")
    if owner:
        for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
            shutil.chown(data / name, "postgres")
    port = free_port()
    sh(*owner, f"{bindir}/pg_ctl", "-D", str(data), "-l", str(data / "server.log"), "-w", "-o",
       f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start")

    def stop():
        subprocess.run([*owner, f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)

    return port, stop


# --------------------------------------------------------------------------------------
# The client: a careful one, as a real marketplace front end or peer would be. Every POST
# carries an Idempotency-Key and is retried with the same key while the answer says the
# service could not decide (connection cut, 502/503/504, money in flight).

RETRYABLE_409 = {"operation_in_progress", "idempotency_in_progress", "concurrent_update"}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.classes = collections.Counter()
        self.samples = []  # (time, seconds) of every answered attempt
        self.problems = []  # invariant breaches seen on the wire
        self.successes = []  # (order id, action, status the answer showed)
        self.done_on_retry = []  # (order id, action) a retry found already made

    def answered(self, klass, started, elapsed):
        with self.lock:
            self.classes[klass] += 1
            self.samples.append((started, elapsed))

    def problem(self, text):
        with self.lock:
            if len(self.problems) < 50:
                self.problems.append(text)

    def found_done(self, order_id, action):
        with self.lock:
            self.classes["409 on a retry that found its change made"] += 1
            self.done_on_retry.append((order_id, action))

    def success(self, order_id, action, status):
        with self.lock:
            self.successes.append((order_id, action, status))


STATS = Stats()


class Answer(tuple):
    """(status, body), and whether the request had to be sent more than once."""

    def __new__(cls, status, body, retried):
        answer = super().__new__(cls, (status, body))
        answer.retried = retried
        return answer

    def found_done(self, status):
        """A retry that finds its own change already made: the first attempt's answer was
        a 503 (not kept under the key), and the intent worker carried the change on before
        the retry came. The service then answers 409 with the status the change led to."""
        code, body = self[0], self[1]
        return (status is not None and self.retried and code == 409 and isinstance(body, dict)
                and body.get("code") == "invalid_transition" and body.get("status") == status)


class Api:
    def __init__(self, port):
        self.port = port

    def once(self, method, path, headers, body, record=True):
        """One attempt: (status, parsed body or text, seconds), or (None, error, seconds).
        `record=False` for probes, which are not the load's requests."""
        started = time.time()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HANG + 20)
            payload = None if body is None else json.dumps(body)
            conn.request(method, path, payload, {**headers, "Content-Type": "application/json"})
            answer = conn.getresponse()
            raw = answer.read().decode(errors="replace")
            conn.close()
        except (OSError, http.client.HTTPException) as error:
            elapsed = time.time() - started
            if record:
                STATS.answered("connection error", started, elapsed)
            return None, str(error), elapsed
        elapsed = time.time() - started
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        status = answer.status
        if not record:
            return status, parsed, elapsed
        drf = isinstance(parsed, dict) and "detail" in parsed
        if status >= 500:
            origin = "service" if drf else "load balancer"
            STATS.answered(f"{status} ({origin})", started, elapsed)
            if status == 500 or (origin == "service" and status != 503 and status != 502):
                STATS.problem(f"{method} {path}: {status} {raw[:200]}")
        else:
            STATS.answered(f"{status // 100}xx", started, elapsed)
        if elapsed > HANG:
            STATS.problem(f"{method} {path}: answered {status} after {elapsed:.1f}s, past every timeout")
        return status, parsed, elapsed

    def call(self, method, path, who, body=None, give_up=150):
        """Retries with one Idempotency-Key until the service decides; (status, body)."""
        headers = dict(who)
        if method != "GET":
            headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
        deadline = time.time() + give_up
        pause = 0.2
        retried = False
        while True:
            status, parsed, _ = self.once(method, path, headers, body)
            undecided = status is None or status in (502, 503, 504) or (
                status == 409 and isinstance(parsed, dict) and parsed.get("code") in RETRYABLE_409)
            if not undecided:
                return Answer(status, parsed, retried)
            if time.time() > deadline:
                STATS.problem(f"{method} {path}: still undecided after {give_up}s (last: {status} {parsed!r:.200})")
                return Answer(status, parsed, retried)
            retried = True
            time.sleep(pause)
            pause = min(pause * 1.5, 3.0)


def user(uid, staff=False):
    return {"Authorization": f"Bearer {token(uid, staff)}"}


SERVICE = {"X-Service-Token": SERVICE_TOKEN}


# --------------------------------------------------------------------------------------
# The load: stories of orders, each driven to an end the way people and peers would.


class World:
    def __init__(self, buyers, sellers, admin, listings, peers_port):
        self.buyers, self.sellers, self.admin = buyers, sellers, admin
        self.listings = listings  # Buy It Now listings not yet tried
        self.lock = threading.Lock()
        self.peers = peers_port
        self.paused = threading.Event()  # set: workers hold between requests
        self.stop = threading.Event()
        self.stories = collections.Counter()
        # Seconds each worker rests between two stories. The emulator routes about 80 events
        # a second to its queue on this machine; the load stays well under that, so that a
        # bus outage's backlog drains within the run.
        self.pace = PACE

    def next_listing(self):
        with self.lock:
            return self.listings.pop() if self.listings else None


def peer_post(port, path, body, key):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, json.dumps(body), {
        "Content-Type": "application/json", "X-Service-Token": PEER_TOKEN, "Idempotency-Key": key})
    answer = conn.getresponse()
    return answer.status, json.loads(answer.read() or b"null")


def stub_control(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, f"/_stub{path}", None if body is None else json.dumps(body),
                 {"Content-Type": "application/json"})
    answer = conn.getresponse()
    return json.loads(answer.read() or b"null")


ADDRESS = {"name": "Chaos Tester", "line1": "1 Load Street", "city": "Lyon", "postal_code": "69001", "country": "FR"}


def expect(status, body, allowed, what):
    if status not in allowed:
        STATS.problem(f"{what}: {status} {json.dumps(body)[:300]}")
        return False
    return True


def buy_it_now(api, world, rng):
    listing = world.next_listing()
    if listing is None:
        return None
    racers = rng.sample(world.buyers, 2 if rng.random() < 0.3 else 1)
    results = [None] * len(racers)

    def race(i, buyer):
        results[i] = api.call("POST", f"/api/v1/orders/{listing}/purchase/", user(buyer),
                              {"shipping_address": ADDRESS})

    threads = [threading.Thread(target=race, args=(i, b)) for i, b in enumerate(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 200: a retry after a cut answer found the order this buyer's first attempt made.
    won = [body for status, body in results if status in (200, 201)]
    for status, body in results:
        expect(status, body, (200, 201, 402, 409), f"buy it now on {listing}")
    if len(won) > 1:
        STATS.problem(f"listing {listing}: {len(won)} buyers won it at once")
    if not won:
        return None
    order = won[0]
    STATS.success(order["id"], "purchase", order["status"])
    return order


def auction(api, world, rng):
    buyer, seller = rng.choice(world.buyers), rng.choice(world.sellers)
    amount = f"{rng.randint(5, 300)}.{rng.randint(0, 99):02d}"
    body = {"listing_id": str(uuid.uuid4()), "buyer_id": buyer, "seller_id": seller,
            "amount": amount, "shipping_cost": "4.90", "shipping_address": ADDRESS}
    status, order = api.call("POST", "/api/v1/orders/internal/create/", SERVICE, body)
    if not expect(status, order, (200, 201), "auction create"):
        return None
    STATS.success(order["id"], "create", order["status"])
    if rng.random() < 0.1:  # the winner never pays; the auction side gives up on them
        status, answer = api.call("POST", "/api/v1/orders/internal/cancel/", SERVICE,
                                  {"order_id": order["id"], "reason": "winner did not pay"})
        if expect(status, answer, (200,), "internal cancel"):
            STATS.success(order["id"], "cancel", answer["status"])
        return None
    # The payer's side holds the money, then tells this service (with its own retries).
    key = f"chaos-hold-{order['id']}"
    for _ in range(100):
        try:
            hold_status, held = peer_post(world.peers, "/api/v1/wallet/internal/hold-escrow/",
                                          {"order_id": order["id"], "buyer_id": buyer, "amount": order["total"]}, key)
        except OSError:
            hold_status = None
        if hold_status in (200, 201):
            break
        if hold_status == 402:
            status, answer = api.call("POST", "/api/v1/orders/internal/cancel/", SERVICE,
                                      {"order_id": order["id"], "reason": "payment declined"})
            if expect(status, answer, (200,), "internal cancel after decline"):
                STATS.success(order["id"], "cancel", answer["status"])
            return None
        time.sleep(0.5)
    else:
        STATS.problem(f"order {order['id']}: the stand-in Wallet never held its escrow")
        return None
    status, paid = api.call("POST", "/api/v1/orders/internal/mark-paid/", SERVICE,
                            {"order_id": order["id"], "escrow_id": held["escrow_id"]})
    if not expect(status, paid, (200,), "mark-paid"):
        return None
    STATS.success(paid["id"], "mark-paid", paid["status"])
    return paid


# The order's status each action leads to.
DONE = {"cancel": "CANCELLED", "ship": "SHIPPED", "complete": "COMPLETED", "dispute": "DISPUTED"}


def act(api, order, action, who, body=None, allowed=(200,)):
    """One transition of `order`; the order (or, for a dispute, the dispute) it answered."""
    path = f"/api/v1/orders/{order['id']}/{action}/"
    reply = api.call("POST", path, who, body or {})
    status, answer = reply
    if reply.found_done(DONE.get(action)):
        STATS.found_done(order["id"], action)
        return None
    if not expect(status, answer, allowed, f"{action} {order['id']}"):
        return None
    if status == 200:
        STATS.success(answer["id"], action, answer["status"])
        return answer
    if status == 201 and action == "dispute":
        STATS.success(answer["order_id"], action, "DISPUTED")
        return answer
    return None


def open_dispute(api, order, who, reason, allowed=(201,)):
    return act(api, order, "dispute", who, {"reason": reason}, allowed)


def resolve(api, world, rng, order, dispute_id):
    admin = user(world.admin, staff=True)
    choice = rng.random()
    if choice < 0.15:
        return  # left to the deadline worker's escalation, and unresolved
    if choice < 0.4:
        body = {"status": "RESOLVED", "resolution": "REFUND_BUYER"}
    elif choice < 0.6:
        body = {"status": "RESOLVED", "resolution": "RELEASE_SELLER"}
    elif choice < 0.85:
        total = money(order["total"])
        cents = int(total * 100)
        refund = Decimal(rng.randint(1, max(1, cents - 1))) / 100
        body = {"status": "RESOLVED", "resolution": "PARTIAL_REFUND", "refund_amount": str(refund)}
    else:
        body = {"status": "CLOSED"}  # no action: the order goes back
    reply = api.call("PATCH", f"/api/v1/disputes/{dispute_id}/", admin, body)
    status, answer = reply
    if reply.found_done(body["status"]):
        STATS.found_done(order["id"], "resolve")
        return
    if expect(status, answer, (200,), f"resolve {dispute_id} {body}"):
        STATS.success(order["id"], "resolve", body.get("resolution", "NO_ACTION"))


def after_payment(api, world, rng, order):
    buyer, seller = user(order["buyer_id"]), user(order["seller_id"])
    roll = rng.random()
    if roll < 0.1:
        act(api, order, "cancel", seller, {"reason": "out of stock"})
        return
    if roll < 0.2:
        opened = open_dispute(api, order, buyer, "The seller stopped answering me.")
        if opened:
            resolve(api, world, rng, order, opened["id"])
        return
    shipped = act(api, order, "ship", seller, {"tracking_number": f"CH-{rng.randint(1, 10**9)}", "carrier": "UPS"})
    if not shipped:
        return
    roll = rng.random()
    if roll < 0.15:
        status, answer = api.call("POST", "/api/v1/orders/internal/mark-delivered/", SERVICE,
                                  {"order_id": order["id"]})
        if expect(status, answer, (200, 409), "mark-delivered") and status == 200:
            STATS.success(order["id"], "mark-delivered", answer["status"])
    roll = rng.random()
    if roll < 0.3:
        return  # left to auto-completion
    if roll < 0.45:
        # The buyer confirms on two devices at once while also disputing: one wins.
        results = [None, None]

        def complete():
            results[0] = api.call("POST", f"/api/v1/orders/{order['id']}/complete/", buyer, {})

        def dispute():
            results[1] = api.call("POST", f"/api/v1/orders/{order['id']}/dispute/", buyer,
                                  {"reason": "Changed my mind, it is broken."})

        threads = [threading.Thread(target=complete), threading.Thread(target=dispute)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        (completed, finished), (disputed, dispute) = results
        if results[0].found_done("COMPLETED"):
            STATS.found_done(order["id"], "complete")
            completed = 200
        elif expect(completed, finished, (200, 409), "racing complete") and completed == 200:
            STATS.success(order["id"], "complete", finished["status"])
        if expect(disputed, dispute, (201, 409), "racing dispute") and disputed == 201:
            STATS.success(order["id"], "dispute", "DISPUTED")
            resolve(api, world, rng, order, dispute["id"])
        if (completed == 200) == (disputed == 201):
            STATS.problem(f"order {order['id']}: complete and dispute raced, answers {completed} and {disputed}: "
                          "exactly one must win")
        return
    if roll < 0.7:
        act(api, order, "complete", buyer, allowed=(200, 409))
        return
    opened = open_dispute(api, order, buyer, "It arrived broken, see photos.", allowed=(201, 409))
    if opened:
        resolve(api, world, rng, order, opened["id"])


def worker(api, world, seed):
    rng = random.Random(seed)
    while not world.stop.is_set():
        while world.paused.is_set() and not world.stop.is_set():
            time.sleep(0.05)
        order = buy_it_now(api, world, rng) if rng.random() < 0.5 else auction(api, world, rng)
        with world.lock:
            world.stories["started"] += 1
        if order is not None and order["status"] == "PAID":
            after_payment(api, world, rng, order)
        time.sleep(world.pace)


# --------------------------------------------------------------------------------------
# The campaign


class Campaign:
    def __init__(self):
        self.cleanups = []
        self.report = {"seed": SEED, "quick": QUICK, "faults": collections.Counter()}

    def setup(self):
        shutil.rmtree(OUT, ignore_errors=True)
        OUT.mkdir(parents=True)
        ensure_haproxy()
        log("building order-api and stub-peers")
        sh("cargo", "build", "-q", "-p", "order-api", "-p", "stub-peers", cwd=ROOT)
        binaries = cargo_target() / "debug"
        ensure_primary()
        sh(str(binaries / "order-api"), "migrate", env={**os.environ, "DATABASE_URL": f"{PG_PRIMARY}/{DB}"})
        standby_port, stop_standby = start_standby()
        self.cleanups.append(stop_standby)
        self.standby = f"postgres://postgres@127.0.0.1:{standby_port}/{DB}"
        log(f"primary 127.0.0.1:5432, standby 127.0.0.1:{standby_port} (pg_basebackup, streaming)")

        # The event bus and a queue that receives every event of the service.
        moto_port = free_port()
        self.moto = Process("moto", [str(ROOT / ".venv/bin/moto_server"), "-p", str(moto_port)]).start()
        self.cleanups.append(self.moto.stop)
        wait_http(moto_port, "/moto-api/")
        endpoint = f"http://127.0.0.1:{moto_port}"
        aws = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="chaos",
                   aws_secret_access_key="chaos")
        events, self.sqs = boto3.client("events", **aws), boto3.client("sqs", **aws)
        events.create_event_bus(Name=BUS)
        self.queue = self.sqs.create_queue(QueueName="chaos-events")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="everything", EventBusName=BUS, EventPattern=json.dumps({"source": [SOURCE]}))
        events.put_targets(Rule="everything", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": arn}])
        self.received = []  # every delivered message's event document, in arrival order
        self.draining = threading.Event()
        self.drainer = threading.Thread(target=self.drain, daemon=True)
        self.drainer.start()

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
        }
        self.replicas = []
        for i in range(3):
            port = free_port()
            replica = Process(f"replica-{i}", [str(binaries / "order-api"), "serve"],
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
defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    option redispatch
    retries 2
frontend api
    bind 127.0.0.1:{lb_port}
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
        log(f"3 replicas behind HAProxy on 127.0.0.1:{lb_port}; stand-ins on {peers_port}; moto on {moto_port}")

    def drain(self):
        """Takes every message off the queue as it arrives (and once more at the end)."""
        while True:
            try:
                got = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            except Exception:  # the emulator is stopped on purpose for a while
                time.sleep(1)
                continue
            messages = got.get("Messages", [])
            for message in messages:
                self.received.append(json.loads(message["Body"]))
            if messages:
                self.sqs.delete_message_batch(QueueUrl=self.queue, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
            elif self.draining.is_set():
                return

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

    # ---- faults

    def restart(self, replica, down_for):
        time.sleep(down_for)
        replica.start()
        wait_http(replica.port, "/healthz/")

    def kill_a_replica(self):
        replica = RNG.choice(self.replicas)
        log(f"kill -9 {replica.name}")
        replica.kill9()
        self.report["faults"]["replica killed"] += 1
        self.restart(replica, RNG.uniform(0.5, 3))

    def kill_between_payout_and_commit(self):
        """Kills the replica that has just had the Wallet release an escrow, before it can
        commit the completion: the money moved, the order row does not say so yet."""
        for attempt in range(5):
            self.world.paused.set()
            time.sleep(1.5)  # let requests in flight finish
            # Not yet due: the auto-completion worker must not release it meanwhile (and take
            # the stalled answer meant for this request).
            shipped = psql("SELECT json_agg(id) FROM (SELECT id FROM orders WHERE status = 'SHIPPED' "
                           "AND escrow_intent IS NULL AND auto_complete_at > now() + interval '8 seconds' "
                           "ORDER BY random() LIMIT 1) o")
            if not shipped:
                self.world.paused.clear()
                time.sleep(5)
                continue
            order_id = shipped[0]
            buyer = psql(f"SELECT to_json(buyer_id) FROM orders WHERE id = '{order_id}'")
            replica = RNG.choice(self.replicas)
            stub_control(self.world.peers, "POST", "/faults/",
                         {"target": "wallet", "mode": "stall", "delay_ms": 4000, "times": 1})
            headers = {**user(buyer), "Idempotency-Key": f"chaos-kill-{order_id}"}
            done = threading.Event()

            def complete():
                Api(replica.port).once("POST", f"/api/v1/orders/{order_id}/complete/", headers, {})
                done.set()

            threading.Thread(target=complete, daemon=True).start()
            time.sleep(1.0)
            ledger = stub_control(self.world.peers, "GET", "/ledger/")
            released = any(e["order_id"] == order_id and e["state"] == "RELEASED" for e in ledger["escrows"])
            in_flight = not done.is_set()
            if in_flight and released:
                log(f"kill -9 {replica.name} between the Wallet's release of order {order_id} and its commit")
                replica.kill9()
                stub_control(self.world.peers, "DELETE", "/faults/")
                self.world.paused.clear()
                self.report["faults"]["replica killed between payout and commit"] += 1
                self.restart(replica, 1)
                # The buyer's app retries the same request through the balancer.
                # The buyer's app retries the same request through the balancer, in the
                # background. Until the killed request's key is released its retry is "in
                # progress"; meanwhile the intent worker may finish the completion, and the
                # retry then finds it done.
                def retry():
                    began = time.time()
                    status, answer = self.api.call("POST", f"/api/v1/orders/{order_id}/complete/", headers, {},
                                                   give_up=300)
                    done = status == 200 or (status == 409 and answer.get("status") == "COMPLETED")
                    if not done:
                        STATS.problem(f"order {order_id}: the completion cut by the kill ended {status} {answer!r:.200}")
                    self.report["kill_between_retry"] = {
                        "order": order_id, "status": status, "code": (answer or {}).get("code"),
                        "decided_after_seconds": round(time.time() - began, 1)}

                self.retrier = threading.Thread(target=retry, daemon=True)
                self.retrier.start()
                return
            # Another wallet call took the stall, or the order moved on: try again.
            log(f"no kill: the completion was {'in flight' if in_flight else 'answered'}, "
                f"the escrow {'released' if released else 'held'}; again")
            stub_control(self.world.peers, "DELETE", "/faults/")
            self.world.paused.clear()
            done.wait(10)
            time.sleep(2)
        STATS.problem("could not place a kill between a payout and its commit in 5 tries")

    def restart_postgres(self):
        """Stops the primary for a few seconds under load, then starts it again. No replica
        is restarted: each must drop its broken connections and serve again by itself."""
        version, _ = pg_cluster()
        pids = [r.proc.pid for r in self.replicas]
        outage = {"ready": collections.Counter(), "detail": collections.Counter(), "list": collections.Counter()}
        sample = psql("SELECT json_build_array(buyer_id, id) FROM orders LIMIT 1")
        watching = threading.Event()

        def watch():
            while not watching.is_set():
                for r in self.replicas:
                    status, _, _ = Api(r.port).once("GET", "/readyz/", {}, None, record=False)
                    outage["ready"][status] += 1
                time.sleep(0.2)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        log("PostgreSQL: stop (under load)")
        stopped_at = time.time()
        sh("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "stop", "-m", "fast")
        time.sleep(6)
        # What a caller gets while the database is away: 503 in the API's shape, at once,
        # for everything the primary answers; lists come from the standby meanwhile.
        buyer, order_id = sample
        for _ in range(10):
            status, body, elapsed = self.api.once("GET", f"/api/v1/orders/{order_id}/", user(buyer), None)
            outage["detail"][status] += 1
            if status != 503 or not (isinstance(body, dict) and body.get("code") == "service_unavailable"):
                STATS.problem(f"while PostgreSQL was down an order's read answered {status} {body!r:.200}")
            status, _, _ = self.api.once("GET", "/api/v1/orders/", user(buyer), None)
            outage["list"][status] += 1
        log("PostgreSQL: start")
        sh("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start")
        started_at = time.time()
        deadline = time.time() + 60
        while time.time() < deadline:
            if all(Api(r.port).once("GET", "/readyz/", {}, None, record=False)[0] == 200 for r in self.replicas):
                break
            time.sleep(0.2)
        else:
            STATS.problem("the replicas were not ready 60s after PostgreSQL came back")
        healed = time.time() - started_at
        watching.set()
        watcher.join()
        if [r.proc.pid for r in self.replicas] != pids:
            STATS.problem("a replica was restarted during the PostgreSQL restart")
        if outage["ready"][503] == 0:
            STATS.problem("no replica said it was not ready while PostgreSQL was down")
        self.report["faults"]["postgres restarted"] += 1
        self.report["postgres_restart"] = {
            "down_seconds": round(started_at - stopped_at, 1), "ready_again_after_seconds": round(healed, 1),
            "readyz_answers": dict(outage["ready"]), "order_reads_while_down": dict(outage["detail"]),
            "lists_while_down (standby)": dict(outage["list"])}
        log(f"PostgreSQL back; every replica ready {healed:.1f}s later, none restarted")

    def wallet_hangs_then_fails(self):
        peers = self.world.peers
        log(f"Wallet hangs for {plan('wallet_hang')}s (each call waits 5s, past PEER_TIMEOUT)")
        stub_control(peers, "POST", "/faults/", {"target": "wallet", "mode": "delay", "delay_ms": 5000})
        time.sleep(plan("wallet_hang"))
        stub_control(peers, "DELETE", "/faults/")
        log(f"Wallet fails (503) for {plan('wallet_fail')}s")
        stub_control(peers, "POST", "/faults/", {"target": "wallet", "mode": "unavailable"})
        time.sleep(plan("wallet_fail"))
        stub_control(peers, "DELETE", "/faults/")
        self.report["faults"]["wallet hang"] += 1
        self.report["faults"]["wallet failure"] += 1
        log("Wallet back")

    def bus_outage(self):
        log(f"EventBridge emulator stopped (SIGSTOP) for {plan('bus_outage')}s")
        os.kill(self.moto.proc.pid, signal.SIGSTOP)
        time.sleep(plan("bus_outage"))
        waiting = psql("SELECT to_json(count(*)) FROM outbox WHERE published_at IS NULL")
        os.kill(self.moto.proc.pid, signal.SIGCONT)
        self.report["faults"]["bus outage"] += 1
        self.report["bus_outage_events_waiting"] = waiting
        log(f"EventBridge emulator back; {waiting} events were waiting in the outbox")

    def soak(self):
        """Steady load below saturation; the first window lets the faults' backlogs drain
        and is not compared."""
        window = plan("soak_window")
        windows = []
        log(f"soak: {plan('soak')}s of steady load, in {window}s windows after one to settle")
        time.sleep(window)
        rss_first = {r.name: r.rss_kib() for r in self.replicas}
        started = time.time()
        while time.time() - started < plan("soak"):
            begin = time.time()
            time.sleep(window)
            with STATS.lock:
                latencies = sorted(e for t, e in STATS.samples if begin <= t < begin + window)
            if latencies:
                windows.append({"requests": len(latencies), "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
                                "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1)})
        rss_last = {r.name: r.rss_kib() for r in self.replicas}
        self.report["soak"] = {"windows": windows, "rss_kib_first": rss_first, "rss_kib_last": rss_last}
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

    # ---- the end: let everything settle, then check

    def settle(self):
        if getattr(self, "retrier", None):
            self.retrier.join(300)
        log("load stopped; waiting for workers, intents and the outbox to settle")
        # Shipped orders auto-complete within seconds here (AUTO_COMPLETE_AFTER is short),
        # except those a NO_ACTION resolution gave at least an hour back: the money is still
        # once none is due soon. The outbox drains at the emulator's pace.
        # Waited for as long as something moves.
        last, still_since = None, time.time()
        while time.time() - still_since < 60:
            left = psql("""SELECT json_build_object(
                'intents', (SELECT count(*) FROM orders WHERE escrow_intent IS NOT NULL),
                'to_auto_complete', (SELECT count(*) FROM orders WHERE status IN ('SHIPPED', 'DELIVERED')
                                     AND auto_complete_at < now() + interval '20 seconds'),
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
            arrived = len({e["detail"]["event_id"] for e in self.received})
            if arrived >= written:
                break
            if arrived != last:
                last, still_since = arrived, time.time()
            time.sleep(1)
        self.draining.set()
        self.drainer.join(30)

    def reconcile(self):
        broken = list(STATS.problems)
        orders = psql("""SELECT coalesce(json_agg(json_build_object(
              'id', o.id, 'status', o.status, 'source', o.source, 'listing_id', o.listing_id,
              'buyer_id', o.buyer_id, 'seller_id', o.seller_id, 'amount', o.amount,
              'fee_amount', o.fee_amount, 'total', o.amount + o.shipping_cost, 'escrow_id', o.escrow_id,
              'resolution', d.resolution, 'refund_amount', d.refund_amount)), '[]')
            FROM orders o LEFT JOIN disputes d ON d.order_id = o.id""")
        outbox = psql("""SELECT coalesce(json_agg(json_build_object('event_id', event_id, 'order_id', order_id,
              'event_type', event_type, 'sequence', sequence, 'to_status', to_status,
              'published', published_at IS NOT NULL, 'parked', parked_at IS NOT NULL) ORDER BY seq), '[]')
            FROM outbox""")
        ledger = stub_control(self.world.peers, "GET", "/ledger/")

        # Money, per escrow and to the cent: what each order's final state says went where.
        escrows = {e["id"]: e for e in ledger["escrows"]}
        paid_out = collections.defaultdict(lambda: collections.defaultdict(Decimal))
        for entry in ledger["entries"]:
            if entry.get("escrow_id") and entry["kind"] != "hold":
                paid_out[entry["escrow_id"]][entry["account"]] += Decimal(str(entry["amount"]))
        by_escrow = {}
        for o in orders:
            total, fee = money(o["total"]), money(o["fee_amount"])
            if not o["escrow_id"]:
                if o["status"] not in ("PENDING_PAYMENT", "CANCELLED"):
                    broken.append(f"money: order {o['id']} is {o['status']} without an escrow")
                continue
            by_escrow[o["escrow_id"]] = o
            escrow = escrows.get(o["escrow_id"])
            if escrow is None:
                broken.append(f"money: order {o['id']}'s escrow {o['escrow_id']} is unknown to the Wallet")
                continue
            if money(escrow["amount"]) != total:
                broken.append(f"money: order {o['id']} totals {total} but its escrow holds {escrow['amount']}")
            expected = {}
            state = "HELD"
            if o["status"] in ("PAID", "SHIPPED", "DELIVERED", "DISPUTED"):
                pass
            elif o["status"] in ("REFUNDED", "CANCELLED"):
                state, expected = "REFUNDED", {o["buyer_id"]: total}
            elif o["status"] == "COMPLETED" and o["resolution"] == "PARTIAL_REFUND":
                refund = money(o["refund_amount"])
                platform = fee_on(money(o["amount"]) - refund)
                state = "REFUNDED"
                expected = {o["buyer_id"]: refund, o["seller_id"]: total - refund - platform, "platform": platform}
            elif o["status"] == "COMPLETED":
                state, expected = "RELEASED", {o["seller_id"]: total - fee, "platform": fee}
            else:
                broken.append(f"money: order {o['id']} has status {o['status']}")
            got = {k: v for k, v in paid_out.get(o["escrow_id"], {}).items() if v != 0}
            expected = {k: v for k, v in expected.items() if v != 0}
            if escrow["state"] != state or got != expected:
                broken.append(f"money: order {o['id']} is {o['status']} but its escrow is {escrow['state']} "
                              f"and paid out {dict(got)} (expected {state}, {expected})")
        for escrow_id, escrow in escrows.items():
            if escrow_id not in by_escrow:
                broken.append(f"money: escrow {escrow_id} ({escrow['state']}, {escrow['amount']}) belongs to no order")
        accounted = sum(Decimal(v) for v in ledger["balances"].values()) + Decimal(ledger["platform"]) + Decimal(ledger["held"])
        if accounted != self.deposits:
            broken.append(f"money: the Wallet accounts for {accounted}, but {self.deposits} was deposited")

        # Racing buyers: one order per Buy It Now listing.
        per_listing = collections.Counter(o["listing_id"] for o in orders
                                          if o["source"] == "BUY_NOW" and o["status"] != "CANCELLED")
        broken += [f"race: listing {l} was sold {n} times" for l, n in per_listing.items() if n > 1]

        # Every answered 2xx is in the database: its change raised its event.
        event_of = {"create": "order.created", "purchase": "order.paid", "mark-paid": "order.paid",
                    "cancel": "order.cancelled", "ship": "order.shipped", "mark-delivered": "order.delivered",
                    "complete": "order.completed", "dispute": "order.disputed", "resolve": "dispute.resolved"}
        raised = {(e["order_id"], e["event_type"]) for e in outbox}
        for order_id, action in STATS.done_on_retry:
            if (order_id, event_of[action]) not in raised:
                broken.append(f"lost write: a retried {action} of order {order_id} was told it was made, "
                              f"but no {event_of[action]} was raised")
        for order_id, action, _ in STATS.successes:
            if (order_id, event_of[action]) not in raised:
                broken.append(f"lost write: {action} of order {order_id} was answered 2xx but raised no {event_of[action]}")

        # Each worker effect once, whichever replica did it.
        once = ("order.created", "order.paid", "order.shipped", "order.completed", "order.cancelled",
                "order.refunded", "order.ship_overdue", "dispute.escalated", "dispute.resolved", "order.disputed")
        counts = collections.Counter((e["order_id"], e["event_type"]) for e in outbox)
        broken += [f"doubled effect: order {o} has {n} {t} events" for (o, t), n in counts.items() if t in once and n > 1]

        # Events: all published, none parked, each delivered, duplicates only as the same event,
        # each order's in its sequence.
        broken += [f"events: {e['event_type']} {e['event_id']} of order {e['order_id']} was never published"
                   for e in outbox if not e["published"] or e["parked"]][:20]
        written = {e["event_id"]: e for e in outbox}
        delivered = collections.Counter(m["detail"]["event_id"] for m in self.received)
        broken += [f"events: {written[i]['event_type']} {i} of order {written[i]['order_id']} never reached the queue"
                   for i in written if i not in delivered][:20]
        broken += [f"events: {i} reached the queue but was never written" for i in delivered if i not in written][:20]
        seen = {}
        for m in self.received:
            detail = m["detail"]
            first = seen.setdefault(detail["event_id"], (detail["order"]["id"], detail["sequence"]))
            if first != (detail["order"]["id"], detail["sequence"]):
                broken.append(f"events: {detail['event_id']} was delivered twice with different contents")
        last = {}
        for m in self.received:
            detail = m["detail"]
            if delivered[detail["event_id"]] > 1 and detail["sequence"] <= last.get(detail["order"]["id"], 0):
                continue  # a repeated delivery of an event already seen
            order_id, sequence = detail["order"]["id"], detail["sequence"]
            if sequence != last.get(order_id, 0) + 1:
                broken.append(f"events: order {order_id}'s event {sequence} arrived after {last.get(order_id, 0)}")
            last[order_id] = max(sequence, last.get(order_id, 0))

        statuses = collections.Counter(o["status"] for o in orders)
        with STATS.lock:
            slowest = max((elapsed for _, elapsed in STATS.samples), default=0)
        self.report.update({
            "slowest_answer_seconds": round(slowest, 2),
            "requests": dict(STATS.classes), "stories": dict(self.world.stories),
            "orders": dict(statuses), "escrows": len(escrows),
            "money": {"deposited": str(self.deposits), "accounted": str(accounted),
                      "held": ledger["held"], "platform": ledger["platform"]},
            "events": {"written": len(written), "delivered": sum(delivered.values()),
                       "duplicates": sum(n - 1 for n in delivered.values() if n > 1)},
            "replica_starts": {r.name: r.starts for r in self.replicas},
            "broken": broken,
        })
        return broken

    def run(self):
        try:
            self.setup()
            self.start_load()
            time.sleep(plan("warmup"))
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
