"""The faults the campaign injects while the load runs."""

import collections
import os
import signal
import threading
import time

from client import STATS, Api, user
from common import RNG, log, plan, psql, sh
from load import stub_control
from parts import pg_cluster, wait_http



class Faults:
    """Mixed into the campaign, whose processes (replicas, peers, bus) they act on. Each
    fault counts itself in the report and leaves the parts running again."""

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
                # The buyer's app retries the same request (same key) through the balancer,
                # in the background. The dead replica's claim on the key is taken over at
                # once; the retry is told to try again until the completion's intent is due
                # (PAYMENT_RESUME_AFTER), then carries it on itself or finds that the intent
                # worker has.
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
        started_at = self.postgres_started_at = time.time()
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
