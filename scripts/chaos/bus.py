"""The emulator's event bus, as a consumer of the service's events sees it: queues that
receive every event, drained as they fill."""

import json
import threading
import time

import boto3
import botocore.config

from common import BUS, SOURCE, plan


# The most SQS hands out at once, and how long a drainer rests after a receive that got
# fewer: seconds, well under what the end's wait for the last events allows.
BATCH = 10
PAUSE = 2.0


class Queues:
    """Sixteen queues split by the last hex digit of the order id, plus one for anything
    without an order id, each drained by a thread of its own.

    The emulator's SQS scans a whole queue for each message it hands out, so one queue
    holding a bus outage's backlog drained ever slower and never caught up. Short queues
    keep up; and as an order's events share a queue, their order of arrival is checkable.
    """

    def __init__(self, endpoint):
        aws = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="chaos",
                   aws_secret_access_key="chaos")
        events = boto3.client("events", **aws)
        # A connection for each drainer. A receive sent just before the emulator is frozen
        # waits the outage out: were it to time out and be sent again, the emulator could
        # still answer the first one once thawed, to nobody, and its messages would come back
        # only after their visibility timeout, behind their orders' later events.
        patience = botocore.config.Config(max_pool_connections=32, read_timeout=plan("bus_outage") * 2 + 30,
                                          retries={"total_max_attempts": 1})
        self.sqs = boto3.client("sqs", config=patience, **aws)
        events.create_event_bus(Name=BUS)
        patterns = {f"orders-{digit}": {"order": {"id": [{"suffix": digit}]}} for digit in "0123456789abcdef"}
        patterns["no-order"] = {"order": {"id": [{"exists": False}]}}
        queues = []
        for name, detail in patterns.items():
            url = self.sqs.create_queue(QueueName=f"chaos-{name}")["QueueUrl"]
            arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            events.put_rule(Name=name, EventBusName=BUS,
                            EventPattern=json.dumps({"source": [SOURCE], "detail": detail}))
            events.put_targets(Rule=name, EventBusName=BUS, Targets=[{"Id": "queue", "Arn": arn}])
            queues.append(url)
        # Every delivered message: (when the bus put it on its queue, in ms; its event
        # document), in the order the drainers received them.
        self.received = []
        self.draining = threading.Event()
        self.drainers = [threading.Thread(target=self.drain, args=(url,), daemon=True) for url in queues]
        for drainer in self.drainers:
            drainer.start()

    def drain(self, queue):
        """Takes every message off one queue as it arrives, until told to finish and it is empty."""
        while True:
            try:
                got = self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=BATCH, WaitTimeSeconds=1,
                                               AttributeNames=["SentTimestamp"])
            except Exception:  # the emulator is stopped on purpose for a while
                time.sleep(1)
                continue
            messages = got.get("Messages", [])
            for message in messages:
                self.received.append((int(message["Attributes"]["SentTimestamp"]), json.loads(message["Body"])))
            if messages:
                self.delete(queue, messages)
            elif self.draining.is_set():
                return
            if len(messages) < BATCH:
                # Let the queue fill: the emulator shares the machine's two cores with the
                # service, and a receive and a delete per message made it their busiest user.
                time.sleep(PAUSE)

    def delete(self, queue, messages):
        """Deletes what was received, however long the emulator is away: a message left on
        the queue would come back after its visibility timeout, out of its order's sequence."""
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        while True:
            try:
                self.sqs.delete_message_batch(QueueUrl=queue, Entries=entries)
                return
            except Exception:  # the emulator is stopped on purpose for a while
                time.sleep(1)

    def events(self):
        """The delivered events, in the order they were received."""
        return [event for _, event in self.received]

    def events_as_queued(self):
        """The delivered events in the order the bus queued them, which is the order the
        service published them in. The order they were received in can differ: SQS does
        not promise it, and a receive whose answer is lost (the emulator frozen and thawed
        under it) gives its messages back only after their visibility timeout. Received
        order breaks ties within a millisecond."""
        return [event for _, event in sorted(self.received, key=lambda received: received[0])]

    def finish(self):
        """Stops the drainers once their queues are empty."""
        self.draining.set()
        for drainer in self.drainers:
            drainer.join(30)
