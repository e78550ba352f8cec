"""Schemathesis hooks for `make fuzz`: carriers' updates are authenticated by a signature
over the very bytes sent, so the body is serialized here, signed with the service's
CARRIER_WEBHOOK_SECRET, and sent as signed. Only a request that carries the placeholder
signature fuzz.sh gives is signed: one the fuzzer sent without it, or with another, is
left so, to check that the service refuses it. Other operations are left as generated."""

import hashlib
import hmac
import json
import os
import time

import schemathesis
from schemathesis.core import NOT_SET

CARRIER_PATH = "/api/v1/orders/carrier-events/"
SECRET = os.environ.get("CARRIER_WEBHOOK_SECRET", "").encode()
# fuzz.sh sends this as the signature; the hook replaces it with the real one.
PLACEHOLDER = os.environ.get("FUZZ_SIGNATURE_PLACEHOLDER")


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path != CARRIER_PATH or not SECRET or not PLACEHOLDER:
        return
    if (case.headers or {}).get("Carrier-Signature") != PLACEHOLDER:
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
