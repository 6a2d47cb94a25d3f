"""Application errors. Services raise errors that carry data, never HTTP types.

`PROBLEMS` is the one table mapping each error class to its status and stable `code`; the one
renderer of RFC 9457 problem details is in `bank_api.problems`.
"""

from __future__ import annotations

from typing import Any

from bank_api.domain import errors as domain_errors


class AppError(Exception):
    """Base of every error a client may cause. `detail` is safe to show to the caller."""

    def __init__(self, detail: str | None = None, **data: Any) -> None:
        super().__init__(detail or "")
        self.detail = detail
        self.data = data

    @property
    def headers(self) -> dict[str, str]:
        return {}


# --- authentication and accounts -------------------------------------------------------------
class NotAuthenticated(AppError):
    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class InvalidCredentials(NotAuthenticated):
    """Wrong username or password: a 401 like any other, `WWW-Authenticate: Bearer` included."""


class InvalidRefreshToken(NotAuthenticated):
    """Spent, unknown, expired or revoked: a 401 like any other."""


class TooManyAttempts(AppError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed logins; try again later.", retry_after=retry_after)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class AgentNotApproved(AppError):
    pass


class AgentRejected(AppError):
    pass


class AccountDisabled(AppError):
    pass


class Forbidden(AppError):
    pass


class UsernameTaken(AppError):
    pass


class EmailTaken(AppError):
    pass


class InvalidCurrentPassword(AppError):
    pass


# --- admin ----------------------------------------------------------------------------------
class UserNotFound(AppError):
    pass


class AgentNotFound(AppError):
    pass


class AgentNotPending(AppError):
    pass


class CannotDisableSelf(AppError):
    pass


class UserNotActive(AppError):
    pass


class UserNotDisabled(AppError):
    pass


# --- loan desk ----------------------------------------------------------------------------
class UnknownLoanType(AppError):
    pass


class AmountOutOfRange(AppError):
    pass


class TermOutOfRange(AppError):
    pass


class LoanNotFound(AppError):
    pass


class LoanNotEditable(AppError):
    pass


class LoanNotRequestable(AppError):
    pass


class LoanNotRejectable(AppError):
    pass


class ProductExists(AppError):
    pass


class ProductNotFound(AppError):
    pass


class InvalidDateRange(AppError):
    pass


class DateRangeTooLong(AppError):
    pass


class ProductBoundsInvalid(AppError):
    pass


# --- credit pool ----------------------------------------------------------------------------
class InsufficientFunds(AppError):
    def __init__(self, available: int, requested: int) -> None:
        super().__init__(None, available=available, requested=requested)


class LoanNotApprovable(AppError):
    pass


class AllocationConflict(AppError):
    """The chosen investors' balances kept changing under us; the request may be retried."""


class LoanNotWritableOff(AppError):
    pass


class LoanClosed(AppError):
    pass


class LoanNotActive(AppError):
    pass


class PayoffAmountChanged(AppError):
    """The amount sent is not today's payoff (a stale quote); the detail states the current one."""


class PayoffDateInPast(AppError):
    pass


class SecondApproverRequired(AppError):
    pass


class TransactionConflict(AppError):
    """The database failed this transaction for a serialization failure or a deadlock."""


class IdempotencyKeyReused(AppError):
    pass


class IdempotencyKeyInUse(AppError):
    pass


# --- infrastructure -------------------------------------------------------------------------
class NotFound(AppError):
    pass


class _RetryLater(AppError):
    retry_after = 1

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class DatabaseUnavailable(_RetryLater):
    """The database cannot be reached, or dropped the connection (it is restarting or shutting
    down): whatever the request did was not committed, the client may try again."""


class DatabaseBusy(_RetryLater):
    """A statement outlived the statement timeout (most often waiting for a row lock under a
    burst of writes on the same rows): nothing was committed, the client may try again."""


class HashingBusy(_RetryLater):
    """Every password-hashing thread stayed busy for longer than `BANK_API_HASH_WAIT_MS` (a
    burst of logins, or a machine too loaded to give them CPU): nothing was checked."""


class DatabaseNotMigrated(_RetryLater):
    """The database answers but has no schema, or an older one, than this version needs."""

    retry_after = 30


PROBLEMS: dict[type[Exception], tuple[int, str, str, str]] = {
    NotAuthenticated: (
        401,
        "not_authenticated",
        "Not authenticated",
        "Missing, invalid or expired bearer token.",
    ),
    InvalidCredentials: (
        401,
        "invalid_credentials",
        "Invalid credentials",
        "Incorrect username or password.",
    ),
    InvalidRefreshToken: (
        401,
        "invalid_refresh_token",
        "Invalid refresh token",
        "The refresh token is unknown, expired, spent or revoked; log in again.",
    ),
    TooManyAttempts: (
        429,
        "too_many_attempts",
        "Too many attempts",
        "Too many failed logins; try again later.",
    ),
    AgentNotApproved: (
        403,
        "agent_not_approved",
        "Agent not approved",
        "This agent account is waiting for an administrator's approval.",
    ),
    AgentRejected: (
        403,
        "agent_rejected",
        "Agent rejected",
        "This agent application was rejected.",
    ),
    AccountDisabled: (
        403,
        "account_disabled",
        "Account disabled",
        "This account has been disabled.",
    ),
    Forbidden: (403, "forbidden", "Forbidden", "Your role may not perform this action."),
    UsernameTaken: (409, "username_taken", "Username taken", "This username is already taken."),
    EmailTaken: (409, "email_taken", "Email taken", "This email is already registered."),
    InvalidCurrentPassword: (
        422,
        "invalid_current_password",
        "Invalid current password",
        "The current password is not correct.",
    ),
    UserNotFound: (404, "user_not_found", "User not found", "No such user."),
    AgentNotFound: (404, "agent_not_found", "Agent not found", "No such agent."),
    AgentNotPending: (
        409,
        "agent_not_pending",
        "Agent not pending",
        "Only a pending agent can be approved or rejected.",
    ),
    CannotDisableSelf: (
        409,
        "cannot_disable_self",
        "Cannot disable self",
        "An administrator cannot disable its own account.",
    ),
    UserNotActive: (
        409,
        "user_not_active",
        "User not active",
        "Only an active user can be disabled.",
    ),
    UserNotDisabled: (
        409,
        "user_not_disabled",
        "User not disabled",
        "Only a disabled user can be enabled.",
    ),
    UnknownLoanType: (
        422,
        "unknown_loan_type",
        "Unknown loan type",
        "No active loan product has this code.",
    ),
    AmountOutOfRange: (
        422,
        "amount_out_of_range",
        "Amount out of range",
        "The amount is outside the product's bounds.",
    ),
    TermOutOfRange: (
        422,
        "term_out_of_range",
        "Term out of range",
        "The term is outside the product's bounds.",
    ),
    LoanNotFound: (404, "loan_not_found", "Loan not found", "No such loan."),
    LoanNotEditable: (
        409,
        "loan_not_editable",
        "Loan not editable",
        "Only a new or requested loan can be edited.",
    ),
    LoanNotRequestable: (
        409,
        "loan_not_requestable",
        "Loan not requestable",
        "Only a new loan can be forwarded.",
    ),
    LoanNotRejectable: (
        409,
        "loan_not_rejectable",
        "Loan not rejectable",
        "Only a new or requested loan can be rejected.",
    ),
    ProductExists: (
        409,
        "product_exists",
        "Product exists",
        "A loan product with this code already exists.",
    ),
    ProductNotFound: (404, "product_not_found", "Product not found", "No such loan product."),
    InvalidDateRange: (
        422,
        "invalid_date_range",
        "Invalid date range",
        "A `*_from` bound is after its `*_to` bound.",
    ),
    DateRangeTooLong: (
        422,
        "date_range_too_long",
        "Date range too long",
        "A statement covers at most 366 days; ask for several.",
    ),
    ProductBoundsInvalid: (
        422,
        "invalid_product_bounds",
        "Invalid product bounds",
        "A minimum would exceed its maximum.",
    ),
    InsufficientFunds: (
        409,
        "insufficient_funds",
        "Insufficient funds",
        "The amount exceeds the available balance.",
    ),
    IdempotencyKeyReused: (
        422,
        "idempotency_key_reused",
        "Idempotency key reused",
        "This Idempotency-Key was used for a different request.",
    ),
    IdempotencyKeyInUse: (
        409,
        "idempotency_key_in_use",
        "Idempotency key in use",
        "A request with this Idempotency-Key is still being processed.",
    ),
    LoanNotApprovable: (
        409,
        "loan_not_approvable",
        "Loan not approvable",
        "Only a new or requested loan can be approved.",
    ),
    domain_errors.AllocationNotPossible: (
        409,
        "allocation_not_possible",
        "Allocation not possible",
        "The investors' available money cannot fund this loan now.",
    ),
    AllocationConflict: (
        409,
        "allocation_conflict",
        "Allocation conflict",
        "Investors' balances changed during approval; try again.",
    ),
    LoanNotWritableOff: (
        409,
        "loan_not_writable_off",
        "Loan not writable off",
        "Only an active loan at least 90 days past due can be written off.",
    ),
    LoanClosed: (409, "loan_closed", "Loan closed", "This loan is fully repaid."),
    LoanNotActive: (
        409,
        "loan_not_active",
        "Loan not active",
        "Only an active loan takes payments.",
    ),
    PayoffAmountChanged: (
        409,
        "payoff_amount_changed",
        "Payoff amount changed",
        "The amount is not today's payoff; ask for a new quote.",
    ),
    SecondApproverRequired: (
        409,
        "second_approver_required",
        "Second approver required",
        "You have signed this decision off already; a different admin must make it.",
    ),
    PayoffDateInPast: (
        422,
        "payoff_date_in_past",
        "Payoff date in the past",
        "A payoff is quoted for the business date or a later day.",
    ),
    domain_errors.Overpayment: (
        422,
        "overpayment",
        "Overpayment",
        "The amount is more than what remains to be paid on this loan.",
    ),
    domain_errors.ScheduleBeyondCalendar: (
        422,
        "schedule_beyond_calendar",
        "Schedule beyond the calendar",
        "The schedule's due dates would fall after 9999-12-31.",
    ),
    TransactionConflict: (
        409,
        "transaction_conflict",
        "Transaction conflict",
        "A concurrent change conflicted with this request; nothing was changed, try again.",
    ),
    NotFound: (404, "not_found", "Not found", "The requested resource does not exist."),
    DatabaseBusy: (
        503,
        "database_busy",
        "Database busy",
        "The database did not answer in time; nothing was changed. Try again shortly.",
    ),
    DatabaseUnavailable: (
        503,
        "database_unavailable",
        "Database unavailable",
        "The database is not reachable; try again shortly.",
    ),
    HashingBusy: (
        503,
        "hashing_busy",
        "Busy checking passwords",
        "Too many passwords are being checked at once; try again in a moment.",
    ),
    DatabaseNotMigrated: (
        503,
        "database_not_migrated",
        "Database not migrated",
        "The database schema is missing or out of date; an operator must run `bank-api migrate`.",
    ),
}
