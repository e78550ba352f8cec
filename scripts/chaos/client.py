"""The client: a careful one, as a real marketplace front end or peer would be. Every POST
carries an Idempotency-Key and is retried with the same key while the answer says the
service could not decide (connection cut, 502/503/504, money in flight)."""

import collections
import http.client
import json
import threading
import time
import uuid

from common import HANG, SERVICE_TOKEN, token


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
