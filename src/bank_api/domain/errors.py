"""Domain errors: plain exceptions that carry data. The web layer maps them to status codes."""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every error the money domain raises."""


class InvalidInput(DomainError):
    """An argument is outside what the domain accepts (a programming or validation error)."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"{field}={value!r}: {reason}")
        self.field = field
        self.value = value
        self.reason = reason


class InvalidAmount(InvalidInput):
    """A money amount that is not > 0 or exceeds the maximum."""


class InvalidTerms(InvalidInput):
    """Loan terms (amount, rate, term) a schedule cannot be built for."""


class ScheduleBeyondCalendar(DomainError):
    """Due dates that would fall after the last day the calendar can hold (9999-12-31)."""

    def __init__(self, start: object, term_months: int, latest_start: object) -> None:
        super().__init__(
            f"a {term_months}-month schedule from {start} would end after 9999-12-31; "
            f"the latest start is {latest_start}"
        )
        self.start = start
        self.term_months = term_months
        self.latest_start = latest_start


class AllocationNotPossible(DomainError):
    """The candidates together cannot fund the requested amount under their caps."""

    def __init__(self, requested: int, available: int) -> None:
        super().__init__(f"cannot allocate {requested} cents: only {available} available")
        self.requested = requested
        self.available = available


class Overpayment(DomainError):
    """A payment larger than everything that remains due on the schedule."""

    def __init__(self, requested: int, remaining: int) -> None:
        super().__init__(f"payment of {requested} cents exceeds the {remaining} cents remaining")
        self.requested = requested
        self.remaining = remaining


class UnbalancedEntry(DomainError):
    """A journal entry whose lines do not sum to zero."""

    def __init__(self, total: int) -> None:
        super().__init__(f"journal entry lines sum to {total}, not 0")
        self.total = total
