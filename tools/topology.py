"""More than one instance, on this machine: PgBouncer (transaction pooling) in front of the
local PostgreSQL, N `bank-api serve` instances on their own ports, and HAProxy in front of them
(deploy/haproxy.cfg's policy: round robin, health-checked on /readyz, safe retries); all on
loopback. Debian's `pgbouncer` and `haproxy` are installed when missing. The pooling and balancing
policies are docker-compose's own (deploy/pgbouncer.ini, deploy/haproxy.cfg): only addresses,
authentication and files differ.

    python3 tasks.py topology up [--instances 2] [--db bank_api_topology]   # prints the URLs
    python3 tasks.py topology down

The state (ports, process ids, configuration, logs) lives in `.topology/` (or $TOPOLOGY_DIR).
The tests of tests/topology/ start and stop their own topology with :func:`running`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The instances this process started, with their logs: waited for and closed by `down`.
_STARTED: dict[int, tuple[subprocess.Popen[bytes], object]] = {}
PYTHON = Path(sys.executable)
PG_HOST, PG_PORT = "127.0.0.1", 5432
BALANCER_CONFIG = ROOT / "deploy" / "haproxy.cfg"
BOUNCER_CONFIG = ROOT / "deploy" / "pgbouncer.ini"


@dataclass
class Topology:
    folder: str
    database: str
    bouncer_port: int
    balancer_port: int
    instance_ports: list[int]
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The load balancer: what clients talk to."""
        return f"http://127.0.0.1:{self.balancer_port}"

    def instance_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.instance_ports[index]}"

    @property
    def database_url(self) -> str:
        """The instances' database URL: through PgBouncer."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.bouncer_port}/{self.database}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure(command: str, package: str) -> str:
    """The path of `command`, installing Debian's `package` when it is missing."""
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/usr/bin")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", package], env=env, check=True)
    found = shutil.which(command, path="/usr/sbin:/usr/bin")
    if not found:
        raise SystemExit(f"{package} did not provide {command}")
    return found


def _bouncer_config(topology: Topology, statement_timeout_ms: int) -> str:
    """deploy/pgbouncer.ini (the one pooling policy) with this topology's addresses, trust
    authentication on loopback, its own files and the instances' statement timeout."""
    folder = Path(topology.folder)
    (folder / "users.txt").write_text('"postgres" ""\n')
    local = {
        "listen_addr": "127.0.0.1",
        "listen_port": str(topology.bouncer_port),
        "unix_socket_dir": "",
        "auth_type": "trust",
        "auth_file": str(folder / "users.txt"),
        "logfile": str(folder / "pgbouncer.log"),
        "pidfile": str(folder / "pgbouncer.pid"),
    }
    lines, section = [], ""
    for line in BOUNCER_CONFIG.read_text().splitlines():
        if line.startswith("["):
            section = line
        key = line.split("=", 1)[0].strip()
        if section == "[databases]" and "=" in line and not line.startswith(";"):
            timeout = f"SET statement_timeout = {statement_timeout_ms}"
            line = f"* = host={PG_HOST} port={PG_PORT} connect_query='{timeout}'"
        elif section == "[pgbouncer]" and key in local:
            line = f"{key} = {local.pop(key)}"
        lines.append(line)
    lines.extend(f"{key} = {value}" for key, value in local.items())
    return "\n".join(lines) + "\n"


def _balancer_config(topology: Topology) -> str:
    """deploy/haproxy.cfg (the one load-balancing policy) with this topology's addresses."""
    servers = [
        f"    server api{n} 127.0.0.1:{port} check inter 1s fall 3 rise 2"
        for n, port in enumerate(topology.instance_ports)
    ]
    lines: list[str] = []
    section = ""
    for line in BALANCER_CONFIG.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            section = line.split()[0]
        if section == "resolvers":
            continue
        if line.strip() == "bind :8000":
            line = f"    bind 127.0.0.1:{topology.balancer_port}"
        elif line.strip().startswith("server-template"):
            lines.extend(servers)
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


def _wait_http(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def _wait_port(port: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def _create_database(name: str) -> None:
    psql = ensure("psql", "postgresql-client")
    base = [psql, "-h", PG_HOST, "-p", str(PG_PORT), "-U", "postgres", "-q", "-c"]
    subprocess.run([*base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True)
    subprocess.run([*base, f'CREATE DATABASE "{name}"'], check=True)


def instance_env(topology: Topology, extra: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "BANK_API_DATABASE_URL": topology.database_url,
        "BANK_API_DB_POOLER": "transaction",
        **extra,
    }


def _start(topology: Topology, name: str, command: list[str], env: dict[str, str]) -> None:
    """Run `command` in the foreground of a child process, its output in `<name>.log`."""
    log = (Path(topology.folder) / f"{name}.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    _STARTED[process.pid] = (process, log)
    topology.pids[name] = process.pid


def start_instance(topology: Topology, index: int, env: dict[str, str], workers: int = 1) -> None:
    port = topology.instance_ports[index]
    serve = ["serve", "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    _start(topology, f"api{index}", [str(PYTHON), "-m", "bank_api.cli", *serve], env)
    _wait_http(f"http://127.0.0.1:{port}/readyz")


def up(
    folder: Path,
    *,
    instances: int = 2,
    database: str = "bank_api_topology",
    workers: int = 1,
    existing: bool = False,
    **settings: str,
) -> Topology:
    """Start everything (see the module doc); `settings` are BANK_API_* by lower-case suffix.
    With `existing`, the database is used as it is (the benchmark's seeded one), else created
    anew and migrated."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o777)  # PgBouncer runs as postgres and writes its log and pid here
    bouncer, balancer = ensure("pgbouncer", "pgbouncer"), ensure("haproxy", "haproxy")
    topology = Topology(
        str(folder), database, free_port(), free_port(), [free_port() for _ in range(instances)]
    )
    extra = {f"BANK_API_{name.upper()}": value for name, value in settings.items()}
    timeout = int(extra.get("BANK_API_DB_STATEMENT_TIMEOUT_MS", "15000"))
    (folder / "pgbouncer.ini").write_text(_bouncer_config(topology, timeout))
    as_postgres = ["-u", "postgres"] if os.geteuid() == 0 else []
    subprocess.run([bouncer, "-d", *as_postgres, str(folder / "pgbouncer.ini")], check=True)
    _wait_port(topology.bouncer_port)
    topology.pids["pgbouncer"] = int((folder / "pgbouncer.pid").read_text())
    env = instance_env(topology, extra)
    if not existing:
        _create_database(database)
        subprocess.run([PYTHON, "-m", "bank_api.cli", "migrate"], env=env, check=True)
    for index in range(instances):
        start_instance(topology, index, env, workers)
    (folder / "haproxy.cfg").write_text(_balancer_config(topology))
    balance = [balancer, "-db", "-f", str(folder / "haproxy.cfg")]  # foreground: its log
    _start(topology, "haproxy", balance, dict(os.environ))
    _wait_http(f"{topology.url}/readyz")
    (folder / "topology.json").write_text(json.dumps(asdict(topology), indent=2))
    return topology


def down(folder: Path) -> None:
    """Stop every process of the topology in `folder` (only those)."""
    state = folder / "topology.json"
    if not state.exists():
        return
    pids = json.loads(state.read_text())["pids"]
    for name in ("haproxy", *(n for n in pids if n.startswith("api")), "pgbouncer"):
        pid = pids.get(name)
        if pid:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    for pid, (process, log) in list(_STARTED.items()):
        process.wait(timeout=20)
        log.close()  # type: ignore[attr-defined]
        del _STARTED[pid]
    state.unlink()


@contextmanager
def running(folder: Path, **options: object) -> Iterator[Topology]:
    topology = up(folder, **options)  # type: ignore[arg-type]
    try:
        yield topology
    finally:
        (folder / "topology.json").write_text(json.dumps(asdict(topology), indent=2))
        down(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--db", default="bank_api_topology")
    folder = Path(os.environ.get("TOPOLOGY_DIR", ROOT / ".topology"))
    args = parser.parse_args(argv)
    if args.action == "down":
        down(folder)
        return 0
    topology = up(folder, instances=args.instances, database=args.db)
    print(
        f"load balancer {topology.url}; instances "
        + ", ".join(topology.instance_url(i) for i in range(args.instances))
        + f"; PgBouncer 127.0.0.1:{topology.bouncer_port}; state in {folder}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
