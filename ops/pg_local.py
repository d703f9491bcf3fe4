"""A throwaway PostgreSQL server from Debian's packages, for the test run (initdb + pg_ctl on a free port).

PostgreSQL refuses to run as root, so when we are root the server runs as the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ops.errors import ChildSafeOpsError


class LocalPostgresError(ChildSafeOpsError):
    """The local PostgreSQL could not start: install Debian's `postgresql` package or read the log named."""


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise LocalPostgresError("PostgreSQL server binaries not found: apt-get install postgresql")
    return found[-1]


@dataclass
class LocalPostgres:
    port: int
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="childsafe-pg-")))

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        return ["runuser", "-u", "postgres", "--", *argv]

    def start(self) -> str:
        data = self.base / "data"
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
        if not (data / "PG_VERSION").exists():
            init = subprocess.run(self._as_owner([_bin("initdb"), "-D", str(data), "-U", "postgres",
                                                  "--auth=trust", "-E", "UTF8", "--no-sync"]),
                                  capture_output=True, text=True)
            if init.returncode != 0:
                raise LocalPostgresError(f"initdb failed: {init.stderr[-1500:]}")
        opts = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        run = subprocess.run(self._as_owner([_bin("pg_ctl"), "-D", str(data), "-l", str(self.base / "pg.log"),
                                             "-o", opts, "-w", "-t", "60", "start"]), capture_output=True, text=True)
        if run.returncode != 0:
            raise LocalPostgresError(f"pg_ctl start failed; see {self.base / 'pg.log'}: {run.stderr[-800:]}")
        return self.url

    def halt(self) -> None:
        """Stop the server but keep its data: ``start`` brings the same database back (an outage, not a loss)."""
        run = subprocess.run(self._as_owner([_bin("pg_ctl"), "-D", str(self.base / "data"), "-m", "fast", "-w",
                                             "stop"]), capture_output=True, text=True)
        if run.returncode != 0:
            raise LocalPostgresError(f"pg_ctl stop failed: {run.stderr[-800:]}")

    def stop(self) -> None:
        subprocess.run(self._as_owner([_bin("pg_ctl"), "-D", str(self.base / "data"), "-m", "fast", "stop"]),
                       capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)
