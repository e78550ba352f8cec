"""The upgrade: the replicas start from the previous release, the database is migrated to
the commit under test while the load runs, and the replicas are replaced one at a time
behind HAProxy, old and new serving side by side meanwhile."""

import os
import shutil
import time

from client import STATS
from common import OUT, ROOT, log, plan, sh
from parts import cargo_target, wait_http

# No request may take longer than this while the service is upgraded.
SLOWEST_MS = 2000
WRITES = ("POST", "PATCH", "PUT", "DELETE")


def previous_release():
    """(version, commit) of the newest release in releases.txt that is not the commit under
    test; CHAOS_UPGRADE_FROM=v0.N picks another."""
    head = sh("git", "rev-parse", "HEAD", cwd=ROOT).stdout.strip()
    wanted = os.environ.get("CHAOS_UPGRADE_FROM")
    for line in (ROOT / "releases.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        version, commit = line.split()
        if commit != head and wanted in (None, version):
            return version, commit
    raise SystemExit(f"chaos: releases.txt names no release to upgrade from ({wanted or 'any'})")


def p99_of(times):
    ordered = sorted(times)
    return ordered[int(len(ordered) * 0.99)] if ordered else 0


class Upgrade:
    def build_previous(self):
        """The previous release's order-api, built from its commit in a worktree of its own,
        into a target directory of that commit's own: cargo names a workspace's artifacts
        and records their sources by their path within the workspace, so two checkouts
        sharing one directory take each other's crates for their own. Kept between runs:
        the second build is quick."""
        version, commit = self.previous = previous_release()
        tree = OUT / "previous-release"
        log(f"building {version} ({commit[:7]}), the release the replicas start from")
        sh("git", "worktree", "prune", cwd=ROOT)  # one a killed run left registered
        sh("git", "worktree", "add", "--force", "--detach", str(tree), commit, cwd=ROOT)
        target = cargo_target() / "releases" / commit
        try:
            sh("cargo", "build", "--release", "-q", "-p", "order-api", cwd=tree,
               env={**os.environ, "CARGO_TARGET_DIR": str(target)})
            shutil.copy2(target / "release" / "order-api", OUT / "order-api-previous")
        finally:
            sh("git", "worktree", "remove", "--force", str(tree), cwd=ROOT, check=False)
        return OUT / "order-api-previous"

    def upgrade(self, current):
        """Migrates the database with `current` (this commit's order-api) under load, then
        replaces each replica by it, one at a time; checks the requests meanwhile."""
        version, _ = self.previous
        baseline = plan("upgrade_baseline")
        began = time.time()
        log(f"upgrade from {version}: migrating the database to this commit under load")
        migrated = sh(str(current), "migrate", env={**os.environ, **self.replica_env}, check=False)
        if migrated.returncode != 0:
            STATS.problem(f"upgrade: order-api migrate exited {migrated.returncode}: {migrated.stdout[-2000:]}")
        migration_ended = time.time()
        # At least a baseline's length, so that its p99 is not that of a handful of requests.
        time.sleep(max(0.0, began + baseline - time.time()))
        during_migration = (began, time.time())
        for index, replica in enumerate(self.replicas):
            log(f"upgrade: replacing {replica.name} by this commit's build")
            # Out of the rotation first, its requests in flight answered: a replica stopped
            # while the balancer still sends to it closes connections a request is on its
            # way over (seen: a 502).
            self.drain(index)
            replica.stop()  # SIGTERM: it finishes what it has in hand
            replica.args[0] = str(current)
            replica.start()
            wait_http(replica.port, "/readyz/")
            self.undrain(index)
            # HAProxy takes it back after two good checks, 500 ms apart, before the next goes.
            time.sleep(2)
        ended = time.time()
        time.sleep(3)  # the last requests of the window reach the balancer's log
        self.check_upgrade(began, migration_ended, during_migration, ended)

    def check_upgrade(self, began, migration_ended, during_migration, ended):
        answered = self.balancer_log()
        window = [a for a in answered if began <= a["at"] < ended]
        failed = [a for a in window if a["status"] >= 500 and a["status"] != 503]
        slow = [a for a in window if a["ms"] > SLOWEST_MS]
        writes = lambda begin, end: [a["ms"] for a in answered  # noqa: E731
                                     if begin <= a["at"] < end and a["method"] in WRITES and a["ms"] >= 0]
        length = during_migration[1] - during_migration[0]
        before = writes(began - length, began)
        during = writes(*during_migration)
        report = {
            "from": self.previous[0], "requests": len(window),
            "migration_seconds": round(migration_ended - began, 2),
            "roll_seconds": round(ended - during_migration[1], 2),
            "answered_503": sum(1 for a in window if a["status"] == 503),
            "other_5xx": len(failed), "slower_than_2s": len(slow),
            "write_p99_ms_before": p99_of(before), "write_p99_ms_during_migration": p99_of(during),
            "writes_before": len(before), "writes_during_migration": len(during),
        }
        self.report["upgrade"] = report
        log(f"upgrade: {report}")
        for a in failed[:5]:
            STATS.problem(f"upgrade: {a['method']} {a['path']} answered {a['status']}")
        for a in slow[:5]:
            STATS.problem(f"upgrade: {a['method']} {a['path']} took {a['ms']} ms (over {SLOWEST_MS} ms)")
        if not before or not during:
            STATS.problem(f"upgrade: no writes to compare ({len(before)} before, {len(during)} during)")
        elif report["write_p99_ms_during_migration"] > 2 * report["write_p99_ms_before"]:
            STATS.problem(f"upgrade: write p99 during the migration {report['write_p99_ms_during_migration']} ms "
                          f"is over 2x the {report['write_p99_ms_before']} ms before it")
