"""The running parts: processes, PostgreSQL primary and standby, HAProxy."""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from common import DB, OUT, PG_PRIMARY, ROOT, free_port, log, sh


class Process:
    def __init__(self, name, args, env=None, port=None):
        self.name, self.args, self.env, self.port = name, args, env, port
        self.proc = None
        self.starts = 0

    def start(self):
        logfile = open(OUT / f"{self.name}.log", "a")
        self.proc = subprocess.Popen(
            self.args, env={**os.environ, **(self.env or {})}, stdout=logfile, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.starts += 1
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def cpu_seconds(self):
        """User and system CPU time the process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


def wait_http(port, path, status=200, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == status:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"127.0.0.1:{port}{path} did not answer {status} within {timeout}s")


def cargo_target():
    meta = json.loads(sh("cargo", "metadata", "--format-version", "1", "--no-deps", cwd=ROOT).stdout)
    return Path(meta["target_directory"])


def ensure_haproxy():
    if shutil.which("haproxy"):
        return
    log("installing HAProxy (Debian package)")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "haproxy"], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, stdout=subprocess.DEVNULL)


def pg_cluster():
    version = sorted(os.listdir("/etc/postgresql"))[0]
    return version, f"/usr/lib/postgresql/{version}/bin"


def primary_ready():
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0


def ensure_primary():
    if not primary_ready():
        version, _ = pg_cluster()
        sh("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start")
    # A standby streams over a replication connection, which `all` in pg_hba.conf does not
    # cover: trust it from loopback, as the machine trusts every other local connection.
    hba = sh("psql", f"{PG_PRIMARY}/postgres", "-AtXc", "SHOW hba_file").stdout.strip()
    rules = Path(hba).read_text()
    if not re.search(r"^host\s+replication\s+all\s+127\.0\.0\.1/32\s+trust", rules, re.M):
        Path(hba).write_text(rules + "\nhost replication all 127.0.0.1/32 trust\n")
        sh("psql", f"{PG_PRIMARY}/postgres", "-AtXc", "SELECT pg_reload_conf()")
    sh("psql", f"{PG_PRIMARY}/postgres", "-qXc", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)",
       "-c", f"CREATE DATABASE {DB}")


def autovacuum_as_in_production():
    """Turns autovacuum on for the campaign where the machine's cluster runs without it (a
    CI machine's setting: `autovacuum = off`), and returns what puts it back. Without it no
    dead row is ever cleaned up: the soak's tables gather several dead versions per live
    row and its latency drifts up for a reason no production database has. `ALTER SYSTEM`
    outlives the PostgreSQL restart the faults make; the returned step resets it."""
    on = sh("psql", f"{PG_PRIMARY}/postgres", "-AtXc", "SHOW autovacuum").stdout.strip() == "on"
    if on:
        return lambda: None

    def put_back():
        sh("psql", f"{PG_PRIMARY}/postgres", "-qAtXc", "ALTER SYSTEM RESET autovacuum")
        sh("psql", f"{PG_PRIMARY}/postgres", "-qAtXc", "SELECT pg_reload_conf()")

    sh("psql", f"{PG_PRIMARY}/postgres", "-qAtXc", "ALTER SYSTEM SET autovacuum = on")
    sh("psql", f"{PG_PRIMARY}/postgres", "-qAtXc", "SELECT pg_reload_conf()")
    return put_back


def start_standby():
    """A streaming standby of the primary, made with pg_basebackup, on a port of its own."""
    _, bindir = pg_cluster()
    data = OUT / "standby"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True, mode=0o700)
    owner = []
    if os.getuid() == 0:
        shutil.chown(data, "postgres")
        owner = ["runuser", "-u", "postgres", "--"]
    sh(*owner, f"{bindir}/pg_basebackup", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres",
       "-D", str(data), "-R", "-X", "stream", "-c", "fast")
    # Debian keeps a cluster's configuration outside its data directory, so the copy has
    # none: the standby gets the least it needs.
    (data / "postgresql.conf").write_text("hot_standby = on\n")
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    (data / "pg_ident.conf").write_text("")
    if owner:
        for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
            shutil.chown(data / name, "postgres")
    port = free_port()
    sh(*owner, f"{bindir}/pg_ctl", "-D", str(data), "-l", str(data / "server.log"), "-w", "-o",
       f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start")

    def stop():
        subprocess.run([*owner, f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)

    return port, stop
