"""A throwaway PostgreSQL cluster of the test's own: its data directory, its port, its socket
folder, started and stopped by the test (never the shared cluster).

Uses the server binaries of the local installation (Debian: /usr/lib/postgresql/<v>/bin). The
server refuses to run as root, so as root the cluster belongs to the `postgres` user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def server_bin() -> Path | None:
    """The folder of `initdb` and `pg_ctl`, or None when no server is installed."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return versions[0].parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(self, folder: Path, bin_dir: Path) -> None:
        self.data = folder / "data"
        self.sockets = folder / "sockets"
        self.log = folder / "server.log"
        self.port = _free_port()
        self.bin = bin_dir
        self.owner = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.owner:
            command = ["runuser", "-u", self.owner, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.sockets.mkdir(parents=True)
        if self.owner:
            user = pwd.getpwnam(self.owner)
            for path in (self.data.parent, self.sockets):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A started cluster in a folder of its own (outside pytest's, which only root may
    enter), stopped immediately and removed when the block ends."""
    bin_dir = server_bin()
    if bin_dir is None:
        raise RuntimeError("the outage test needs the PostgreSQL server binaries (initdb)")
    folder = Path(tempfile.mkdtemp(prefix="bank-api-pg-"))
    cluster = Cluster(folder, bin_dir)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop("immediate")  # already stopped is fine
        shutil.rmtree(folder, ignore_errors=True)
