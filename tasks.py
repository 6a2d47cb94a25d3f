#!/usr/bin/env python3
"""The project's task runner, standard library only, so a fresh machine needs just Python 3.11+.

    python3 tasks.py run      install, migrate the embedded SQLite database, start the server
    python3 tasks.py test     install, run the whole suite (SQLite, and PostgreSQL if reachable;
                              installs Debian's chromium, nodejs, pgbouncer and haproxy for
                              the browser, TypeScript client and topology tests when missing);
                              with paths, -k or -m only that part, without the coverage gate
    python3 tasks.py soak     the model-based test's long run (10,000 steps per backend)
    python3 tasks.py lint     ruff and mypy
    python3 tasks.py lock     re-pin requirements/*.txt from pyproject.toml (needs the network)
    python3 tasks.py openapi  rewrite the committed openapi.json after a deliberate API change
    python3 tasks.py bench    the benchmark harness on the local PostgreSQL (about 35 minutes;
                              `python3 tasks.py bench --help` for its options)
    python3 tasks.py topology up|down [--instances N]
                              PgBouncer, N instances and HAProxy on this machine (tools/)

Dependencies are installed from the pinned files in requirements/ into ./.venv, once per
change of those files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
LOCKS = {name: ROOT / "requirements" / f"{name}.txt" for name in ("runtime", "dev", "bench")}


def sh(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    completed = subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=False)  # noqa: S603
    if completed.returncode != 0:
        raise SystemExit(completed.returncode)


def install(profile: str) -> None:
    """Create .venv and install the pinned dependencies plus this project (editable)."""
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    lock = LOCKS[profile]
    digest = hashlib.sha256(lock.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / f".installed-{profile}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    sh(PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", lock)
    sh(PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-deps", "-e", ".")
    for other in VENV.glob(".installed-*"):
        other.unlink()
    stamp.write_text(digest)


def run(args: list[str]) -> None:
    install("runtime")
    sh(BIN / "bank-api", "migrate")
    sh(BIN / "bank-api", "serve", *args)


def ensure_debian(command: str, *packages: str) -> None:
    """Install Debian's `packages` when `command` is missing (the browser test drives
    `chromium`; the TypeScript client test runs `node` and `npm`)."""
    if shutil.which(command) or any(Path(d, command).exists() for d in ("/usr/bin", "/usr/sbin")):
        return
    apt = shutil.which("apt-get")
    if apt is None:
        raise SystemExit(f"the tests need {command}: install your system's {' '.join(packages)}")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    sh(*sudo, apt, "update", "-q", env=env)
    sh(*sudo, apt, "install", "-y", "-q", *packages, env=env)


def ensure_tools() -> None:
    ensure_debian("chromium", "chromium")
    ensure_debian("node", "nodejs")
    ensure_debian("npm", "npm")
    ensure_debian("pgbouncer", "pgbouncer")  # tests/topology: several instances
    ensure_debian("haproxy", "haproxy")


# Arguments that choose a part of the suite: the domain coverage gate applies to whole runs only.
SELECTING = ("-k", "-m", "--lf", "--last-failed", "--deselect", "--ignore")


def whole_suite(args: list[str]) -> bool:
    for arg in args:
        if arg.split("=")[0] in SELECTING or (ROOT / arg.split("::")[0]).exists():
            return False
    return True


def parallel(args: list[str]) -> list[str]:
    """pytest-xdist workers, one per core up to four, unless the arguments choose otherwise;
    each worker has its own databases (tests/support/databases.py)."""
    if any(arg.startswith(("-n", "--numprocesses", "--dist")) or arg == "no:xdist" for arg in args):
        return []
    return ["-n", str(min(os.cpu_count() or 1, 4))]


def test(args: list[str]) -> None:
    install("dev")
    ensure_tools()
    gate = [
        "--cov=bank_api.domain",
        "--cov-branch",
        "--cov-report=term-missing:skip-covered",
        "--cov-fail-under=100",
    ]
    sh(PYTHON, "-m", "pytest", *parallel(args), *(gate if whole_suite(args) else []), *args)


SOAK_STEPS = ["--model-steps", "10000"]


def soak(args: list[str]) -> None:
    """The model-based test's long run: 10,000 steps per backend unless told otherwise."""
    install("dev")
    told = any(arg.startswith("--model-steps") for arg in args)
    steps = [] if told else SOAK_STEPS
    sh(PYTHON, "-m", "pytest", *parallel(args), "-m", "model_based", *steps, *args)


def lint(args: list[str]) -> None:
    install("dev")
    sh(PYTHON, "-m", "ruff", "check", "src", "tests", "alembic", "bench", "tasks.py")
    sh(PYTHON, "-m", "mypy")


def lock(args: list[str]) -> None:
    install("dev")
    sh(PYTHON, "-m", "pip", "install", "-q", "uv")
    common = [
        "pip",
        "compile",
        "pyproject.toml",
        "--universal",
        "--python-version",
        "3.11",
        "--quiet",
        "--no-header",
    ]
    sh(BIN / "uv", *common, "-o", LOCKS["runtime"])
    sh(BIN / "uv", *common, "--extra", "dev", "-o", LOCKS["dev"])
    sh(BIN / "uv", *common, "--extra", "bench", "-o", LOCKS["bench"])


def openapi(args: list[str]) -> None:
    install("dev")
    sh(PYTHON, "-c", "from tests.test_openapi import write_schema; write_schema()")


def bench(args: list[str]) -> None:
    install("bench")
    sh(PYTHON, ROOT / "bench" / "harness.py", *args)


def topology(args: list[str]) -> None:
    install("runtime")
    ensure_debian("pgbouncer", "pgbouncer")
    ensure_debian("haproxy", "haproxy")
    sh(PYTHON, ROOT / "tools" / "topology.py", *args)


TASKS = {
    "run": run,
    "test": test,
    "soak": soak,
    "lint": lint,
    "lock": lock,
    "openapi": openapi,
    "bench": bench,
    "topology": topology,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        print(__doc__)
        raise SystemExit(2)
    TASKS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
