"""The live server fixture for this folder's tests (defined in `tests/support/live.py`)."""

from tests.support.live import live_server

__all__ = ["live_server"]
