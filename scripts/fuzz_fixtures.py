"""Real objects for the fuzzer's deeper passes, made through the running service's own API.

With random ids every order operation answers 404; with real objects the fuzzer reaches the
transitions, the validation and the wallet calls behind them. Run as a script, it funds the
buyer and prints shell assignments: tokens for a buyer, a seller and an admin, and a Buy It
Now listing, all known to the stand-in peers' demo seed. scripts/fuzz_hooks.py imports it to
make an object of its own for each request of the passes on fresh objects, and an order
shipped as the parcel of the carrier endpoint's example for each update about it.

Reads API, PEERS, SERVICE_TOKEN, PEER_TOKEN and JWT_SECRET from the environment.
"""

import base64
import hashlib
import hmac
import json
import os
import time
import urllib.request
import uuid

API, PEERS = os.environ["API"], os.environ["PEERS"]
SERVICE_TOKEN, PEER_TOKEN = os.environ["SERVICE_TOKEN"], os.environ["PEER_TOKEN"]
SECRET = os.environ["JWT_SECRET"].encode()

# From crates/stub-peers/seed/demo.json: a buyer with 1000.00, a seller and a listing of hers.
BUYER = "b0e70000-0000-4000-8000-000000000001"
SELLER = "5e11e500-0000-4000-8000-000000000001"
ADMIN = "00000000-0000-4000-8000-0000000000ad"
LISTING = "0b6f5e2a-6c1e-4d0e-9a55-3f0c2b1a0001"


def token(sub, is_staff=False):
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": sub, "is_staff": is_staff, "exp": int(time.time()) + 3600}
    body = b64(json.dumps(claims).encode())
    sig = b64(hmac.new(SECRET, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def post(url, body, headers):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def as_service(path, body):
    return post(f"{API}{path}", body, {"X-Service-Token": SERVICE_TOKEN})


def as_user(user, path, body):
    return post(f"{API}{path}", body, {"Authorization": f"Bearer {token(user)}"})


def wait_until_up(url, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def created_order():
    """A PENDING_PAYMENT auction order of the buyer's, nothing held for it yet, as answered."""
    return as_service(
        "/api/v1/orders/internal/create/",
        {"listing_id": str(uuid.uuid4()), "buyer_id": BUYER, "seller_id": SELLER, "amount": "10.00"},
    )


def held_order():
    """A PENDING_PAYMENT order whose escrow the Wallet holds: (order id, escrow id)."""
    order = created_order()
    hold = post(
        f"{PEERS}/api/v1/wallet/internal/hold-escrow/",
        {"order_id": order["id"], "buyer_id": BUYER, "amount": order["total"]},
        {"X-Service-Token": PEER_TOKEN, "Idempotency-Key": f"fuzz-hold-{order['id']}"},
    )
    return order["id"], hold["escrow_id"]


def paid_order():
    order, escrow = held_order()
    as_service("/api/v1/orders/internal/mark-paid/", {"order_id": order, "escrow_id": escrow})
    return order


def shipped_order(tracking="1Z-FUZZ"):
    order = paid_order()
    as_user(SELLER, f"/api/v1/orders/{order}/ship/", {"tracking_number": tracking, "carrier": "UPS"})
    return order


def open_dispute():
    order = shipped_order()
    dispute = as_user(BUYER, f"/api/v1/orders/{order}/dispute/", {"reason": "Opened for the fuzzer."})
    return dispute["id"]


def offered_dispute():
    """An OPEN dispute with the seller's offer pending: (dispute id, offer id)."""
    dispute = open_dispute()
    offer = as_user(SELLER, f"/api/v1/disputes/{dispute}/offers/", {"refund_amount": "4.00"})
    return dispute, offer["id"]


def fund_buyer(amount):
    """Deposits `amount` more in the buyer's wallet, so that every fresh order can be paid."""
    request = urllib.request.Request(
        f"{PEERS}/_stub/seed/",
        data=json.dumps({"wallets": [{"user_id": BUYER, "amount": amount}]}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()


if __name__ == "__main__":
    wait_until_up(f"{API}/readyz")
    wait_until_up(f"{PEERS}/_stub/ledger/")
    fund_buyer("100000.00")
    print(f"BUYER_TOKEN={token(BUYER)}")
    print(f"SELLER_TOKEN={token(SELLER)}")
    print(f"ADMIN_TOKEN={token(ADMIN, is_staff=True)}")
    print(f"BUY_NOW_LISTING={LISTING}")
