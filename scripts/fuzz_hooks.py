"""Schemathesis hooks for `make fuzz`.

Carriers' updates are authenticated by a signature over the very bytes sent, so the body is
serialized here, signed with the service's CARRIER_WEBHOOK_SECRET, and sent as signed. Only a
request that carries the placeholder signature fuzz.sh gives is signed: one the fuzzer sent
without it, or with another, is left so, to check that the service refuses it.

An operation that changes an order or a dispute acts once: after the fuzzer's first accepted
request, a fixed object is in another status and the rest are refused with a 409, so the
validation and the money behind the operation go untested. So each request whose path names
the placeholder object fuzz.sh gives gets an object of its own, made here (through
scripts/fuzz_fixtures.py) in the status the operation acts on; fuzz.sh sends it as the party
allowed to act. The internal operations that name their order in the body get a fresh order
where the fuzzer sent a well-formed id. A carrier's update about the parcel of the
endpoint's documented example gets an order shipped as that parcel, and, where its
`occurred_at` is a well-formed time, the time it is sent: the example's date lies before any
shipment the fuzzer makes, and an update dated before the shipment is refused, so it would
never reach an order. Other operations are left as generated.
"""

import hashlib
import hmac
import json
import os
import time
import uuid
from datetime import datetime, timezone

import schemathesis
from schemathesis.core import NOT_SET

CARRIER_PATH = "/api/v1/orders/carrier-events/"
SECRET = os.environ.get("CARRIER_WEBHOOK_SECRET", "").encode()
# fuzz.sh sends this as the signature; the hook replaces it with the real one.
PLACEHOLDER = os.environ.get("FUZZ_SIGNATURE_PLACEHOLDER")
# fuzz.sh fixes every {id} (and {offer_id}) of the passes on fresh objects to this id; the
# hook replaces it with an object of the request's own.
FRESH_ID = os.environ.get("FUZZ_FRESH_ID")


def by_id(make):
    return lambda fixtures: {"id": make(fixtures)}


def offered(fixtures):
    dispute, offer = fixtures.offered_dispute()
    return {"id": dispute, "offer_id": offer}


# Per operation: its object, in the status it acts on, as path parameters.
ON_FRESH_OBJECTS = {
    "GET /api/v1/orders/{id}/": by_id(lambda f: f.shipped_order()),
    "GET /api/v1/orders/{id}/history/": by_id(lambda f: f.shipped_order()),
    "POST /api/v1/orders/{id}/ship/": by_id(lambda f: f.paid_order()),
    "POST /api/v1/orders/{id}/complete/": by_id(lambda f: f.shipped_order()),
    "POST /api/v1/orders/{id}/cancel/": by_id(lambda f: f.paid_order()),
    "POST /api/v1/orders/{id}/dispute/": by_id(lambda f: f.shipped_order()),
    "POST /api/v1/orders/{id}/refund/": by_id(lambda f: f.paid_order()),
    "POST /api/v1/orders/{id}/release/": by_id(lambda f: f.shipped_order()),
    "POST /api/v1/orders/{id}/settle/": by_id(lambda f: f.shipped_order()),
    "POST /api/v1/orders/{id}/extend/": by_id(lambda f: f.paid_order()),
    "GET /api/v1/disputes/{id}/": by_id(lambda f: f.open_dispute()),
    "PATCH /api/v1/disputes/{id}/": by_id(lambda f: f.open_dispute()),
    "POST /api/v1/disputes/{id}/evidence/": by_id(lambda f: f.open_dispute()),
    "POST /api/v1/disputes/{id}/offers/": by_id(lambda f: f.open_dispute()),
    "POST /api/v1/disputes/{id}/offers/{offer_id}/accept/": offered,
    "POST /api/v1/disputes/{id}/offers/{offer_id}/decline/": offered,
}


def held(fixtures):
    order, escrow = fixtures.held_order()
    return {"order_id": order, "escrow_id": escrow}


# Per internal operation: the body fields of a fresh order in the status it acts on.
IN_THE_BODY = {
    "POST /api/v1/orders/internal/mark-paid/": held,
    "POST /api/v1/orders/internal/mark-delivered/": lambda f: {"order_id": f.shipped_order()},
    "POST /api/v1/orders/internal/cancel/": lambda f: {"order_id": f.created_order()["id"]},
}


def fixtures():
    # Imported when first needed: it reads the service's address from the environment.
    import fuzz_fixtures

    return fuzz_fixtures


def well_formed_id(value):
    try:
        uuid.UUID(value)
        return True
    except (TypeError, ValueError, AttributeError):
        return False


def give_fresh_object(case):
    if not FRESH_ID:
        return
    label = f"{case.operation.method.upper()} {case.operation.path}"
    make = ON_FRESH_OBJECTS.get(label)
    params = case.path_parameters or {}
    if make is not None and params.get("id") == FRESH_ID:
        case.path_parameters = {**params, **make(fixtures())}
    fields = IN_THE_BODY.get(label)
    body = case.body if isinstance(case.body, dict) else {}
    if fields is not None and well_formed_id(body.get("order_id")):
        fresh = fields(fixtures())
        case.body = {
            **body,
            **{name: value for name, value in fresh.items() if well_formed_id(body.get(name))},
        }


# The parcel of the carrier endpoint's documented example.
EXAMPLE_PARCEL = ("UPS", "1Z999AA10123456784")


def well_formed_time(value):
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except (TypeError, ValueError, AttributeError):
        return False


def to_be_signed(case):
    """Whether `case` is a carrier's update the hook signs: one carrying the placeholder."""
    if case.operation.path != CARRIER_PATH or not SECRET or not PLACEHOLDER:
        return False
    return (case.headers or {}).get("Carrier-Signature") == PLACEHOLDER


def ship_the_example_parcel(case):
    # An unsigned update is refused before any order is looked up: it needs none.
    if not to_be_signed(case):
        return
    body = case.body if isinstance(case.body, dict) else {}
    if (body.get("carrier"), body.get("tracking_number")) != EXAMPLE_PARCEL:
        return
    fixtures().shipped_order(EXAMPLE_PARCEL[1])
    if well_formed_time(body.get("occurred_at")):
        # To the microsecond: cut to the second, it could fall before the shipment just made.
        now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        case.body = {**body, "occurred_at": now}


def sign_carrier_update(case, kwargs):
    if not to_be_signed(case):
        return
    if case.body is NOT_SET:
        body = b""
    elif isinstance(case.body, (bytes, bytearray)):
        body = bytes(case.body)
    else:
        body = json.dumps(case.body).encode()
    timestamp = str(int(time.time()))
    tag = hmac.new(SECRET, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = case.headers if case.headers is not None else {}
    headers["Carrier-Signature"] = f"t={timestamp},v1={tag}"
    headers.setdefault("Content-Type", "application/json")
    case.headers = headers
    # Sent as these bytes: `data` wins over the `json` the case would be serialized to.
    kwargs["data"] = body


@schemathesis.hook
def before_call(context, case, kwargs):
    give_fresh_object(case)
    ship_the_example_parcel(case)
    sign_carrier_update(case, kwargs)
