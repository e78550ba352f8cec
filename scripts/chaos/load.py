"""The load: stories of orders, each driven to an end the way people and peers would."""

import collections
import http.client
import json
import random
import threading
import time
import uuid
from decimal import Decimal

from client import SERVICE, STATS, user
from common import PACE, PEER_TOKEN, money


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
