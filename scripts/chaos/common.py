"""The campaign's settings and the small helpers every part uses."""

import base64
import hashlib
import hmac
import json
import os
import random
import socket
import subprocess
import time
from decimal import Decimal, ROUND_HALF_UP
from pathlib import Path


QUICK = os.environ.get("CHAOS_QUICK") == "1"
# scripts/chaos/ is two levels below the workspace.
ROOT = Path(__file__).resolve().parent.parent.parent
try:
    SEED = int(os.environ.get("CHAOS_SEED", str(int(time.time()))))
except ValueError:
    raise SystemExit(f"chaos: CHAOS_SEED must be a whole number, not {os.environ['CHAOS_SEED']!r}")
RNG = random.Random(SEED)

# How long each act lasts, in seconds: (quick, full).
PLAN = {
    "warmup": (10, 30),
    # The load measured before the migration, and at least as long during it.
    "upgrade_baseline": (15, 30),
    "kills": (3, 8),
    "wallet_hang": (8, 30),
    "wallet_fail": (8, 30),
    "bus_outage": (20, 60),
    "soak": (60, 600),  # after one window to settle
    "soak_window": (20, 60),
    # The same rate in both: well under the machine's saturation (two cores for everything),
    # so that the soak's windows compare the service with itself, not with a queue.
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
