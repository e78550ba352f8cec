#!/usr/bin/env python3
"""The fault-and-scale campaign: `make chaos` (CHAOS_QUICK=1 for the few-minute version).

Starts three order-api replicas behind HAProxy on the machine's PostgreSQL (a streaming
standby beside it serves the lists), with the stand-in peers and the EventBridge emulator,
drives a mixed load through HAProxy, and meanwhile kills replicas (one of them between a
Wallet payout and its commit), restarts PostgreSQL, makes the Wallet hang and then fail,
and takes the event bus away. Then it lets everything settle and checks, to the cent and
to the event, that nothing was lost or doubled. Any broken invariant is printed by name
and the exit status is 1. The figures go to target/chaos/report.json.

Runs with the project's .venv Python (boto3 comes with moto). Needs root for HAProxy's
installation and PostgreSQL's restart, as CI and this project's machines have.
"""

import signal
import sys

from campaign import Campaign


def interrupted(signum, _frame):
    # Raised in the main thread, so that the campaign's cleanup stops every process it
    # started and the standby. A shell's background job ignores SIGINT unless told not to.
    raise SystemExit(128 + signum)


signal.signal(signal.SIGINT, interrupted)
signal.signal(signal.SIGTERM, interrupted)
sys.exit(Campaign().run())
