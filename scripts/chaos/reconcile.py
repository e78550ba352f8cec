"""The end: every promise checked against the database, the stand-in ledger and the queues."""

import collections
import json
import os
import subprocess
from decimal import Decimal

from client import STATS
from common import fee_on, money, psql
from load import stub_control



class Reconciliation:
    """Mixed into the campaign, whose orders, stand-in ledger and received events it reads."""

    def reconcile(self):
        broken = list(STATS.problems)
        broken += self.service_reconciliation()
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
        received = self.bus.events()
        delivered = collections.Counter(m["detail"]["event_id"] for m in received)
        broken += [f"events: {written[i]['event_type']} {i} of order {written[i]['order_id']} never reached the queue"
                   for i in written if i not in delivered][:20]
        broken += [f"events: {i} reached the queue but was never written" for i in delivered if i not in written][:20]
        seen = {}
        for m in received:
            detail = m["detail"]
            first = seen.setdefault(detail["event_id"], (detail["order"]["id"], detail["sequence"]))
            if first != (detail["order"]["id"], detail["sequence"]):
                broken.append(f"events: {detail['event_id']} was delivered twice with different contents")
        broken += out_of_sequence(self.bus.events_as_queued(), delivered)

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
                       "duplicates": sum(n - 1 for n in delivered.values() if n > 1),
                       # SQS's doing, not the service's: reported, not checked (bus.py).
                       "received_out_of_sequence": len(out_of_sequence(received, delivered))},
            "replica_starts": {r.name: r.starts for r in self.replicas},
            "broken": broken,
        })
        return broken

    def service_reconciliation(self):
        """`order-api reconcile` over every order, as an operator would run it: it must find
        the books in agreement (exit 0). The checks below stay as the independent proof."""
        run = subprocess.run([str(self.binaries / "order-api"), "reconcile", "--json"],
                             env={**os.environ, **self.replica_env}, capture_output=True, text=True, timeout=600)
        lines = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
        summary = lines[-1]["summary"] if lines and "summary" in lines[-1] else {}
        self.report["service_reconciliation"] = {"exit": run.returncode, **summary}
        if run.returncode == 0:
            return []
        findings = [f"order-api reconcile: order {f['order_id']} escrow {f['escrow_id']} {f['kind']}: "
                    f"expected {f['expected']}, found {f['found']}" for f in lines if "kind" in f]
        return findings[:20] or [f"order-api reconcile exited {run.returncode}: {run.stderr.strip()[-500:]}"]


def out_of_sequence(events, delivered):
    """Each event that came before its order's previous one; a repeated delivery of an event
    already seen is not counted."""
    broken, last = [], {}
    for m in events:
        detail = m["detail"]
        order_id, sequence = detail["order"]["id"], detail["sequence"]
        if delivered[detail["event_id"]] > 1 and sequence <= last.get(order_id, 0):
            continue
        if sequence != last.get(order_id, 0) + 1:
            broken.append(f"events: order {order_id}'s event {sequence} arrived after {last.get(order_id, 0)}")
        last[order_id] = max(sequence, last.get(order_id, 0))
    return broken
