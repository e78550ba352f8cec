"""The emulator's event bus, as a consumer of the service's events sees it: queues that
receive every event, drained as they fill."""

import json
import threading
import time

import boto3
import botocore.config

from common import BUS, SOURCE


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
        # A connection for each drainer.
        self.sqs = boto3.client("sqs", config=botocore.config.Config(max_pool_connections=32), **aws)
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
        self.received = []  # every delivered message's event document, in arrival order per queue
        self.draining = threading.Event()
        self.drainers = [threading.Thread(target=self.drain, args=(url,), daemon=True) for url in queues]
        for drainer in self.drainers:
            drainer.start()

    def drain(self, queue):
        """Takes every message off one queue as it arrives, until told to finish and it is empty."""
        while True:
            try:
                got = self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            except Exception:  # the emulator is stopped on purpose for a while
                time.sleep(1)
                continue
            messages = got.get("Messages", [])
            for message in messages:
                self.received.append(json.loads(message["Body"]))
            if messages:
                self.sqs.delete_message_batch(QueueUrl=queue, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
            elif self.draining.is_set():
                return

    def finish(self):
        """Stops the drainers once their queues are empty."""
        self.draining.set()
        for drainer in self.drainers:
            drainer.join(30)
