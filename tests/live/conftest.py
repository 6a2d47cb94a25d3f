"""The live server fixtures for this folder's tests (defined in `tests/support/live.py`)."""

from tests.support.live import live_pg_server, live_server

__all__ = ["live_pg_server", "live_server"]
