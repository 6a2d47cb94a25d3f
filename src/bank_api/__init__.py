"""bank-api: an async lending service funded by a pool of depositors."""

__version__ = "0.1.0"
