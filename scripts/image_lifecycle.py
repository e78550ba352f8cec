"""One whole order lifecycle through a running service: Buy It Now, ship, complete, and the
order's history read back. Used by `make image-check` against the container's port.

Usage: image_lifecycle.py BASE_URL BUYER_TOKEN SELLER_TOKEN LISTING_ID
Exits non-zero, naming the step, on any answer other than the one expected."""

import json
import sys
import urllib.error
import urllib.request
import uuid


def call(method, url, token, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    if method == "POST":
        request.add_header("Idempotency-Key", str(uuid.uuid4()))
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def step(name, answer, status, check=lambda body: True):
    got, body = answer
    if got != status or not check(body):
        sys.exit(f"image lifecycle: {name}: expected {status}, got {got}: {body}")
    print(f"  {name}: {got}")
    return body


def main():
    base, buyer, seller, listing = sys.argv[1:5]
    api = f"{base}/api/v1/orders"
    order = step("buy it now", call("POST", f"{api}/{listing}/purchase/", buyer,
                                        {"shipping_address": {"name": "Ada", "city": "Lyon"}}), 201,
                 lambda o: o["status"] == "PAID")
    order_url = f"{api}/{order['id']}/"
    step("ship", call("POST", f"{order_url}ship/", seller,
                      {"tracking_number": "1Z999AA10123456784", "carrier": "UPS"}), 200,
         lambda o: o["status"] == "SHIPPED")
    step("complete", call("POST", f"{order_url}complete/", buyer, {}), 200,
         lambda o: o["status"] == "COMPLETED")
    history = step("history", call("GET", f"{order_url}history/", buyer), 200)
    kinds = [entry["event_type"] for entry in history["results"]]
    expected = ["order.created", "order.paid", "order.shipped", "order.completed"]
    if kinds != expected:
        sys.exit(f"image lifecycle: history: expected {expected}, got {kinds}")
    print(f"  order {order['id']}: {' -> '.join(kinds)}")


if __name__ == "__main__":
    main()
