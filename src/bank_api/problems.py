"""The one rendering of errors as RFC 9457 problem details (`application/problem+json`),
from the table in `bank_api.errors`, and their OpenAPI description."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bank_api.common.money import format_cents
from bank_api.domain import errors as domain_errors
from bank_api.errors import PROBLEMS, AppError

log = logging.getLogger("bank_api")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """RFC 9457 problem details, with a stable machine `code`."""

    type: str = Field(examples=["urn:bank-api:problem:invalid_credentials"])
    title: str = Field(examples=["Invalid credentials"])
    status: int = Field(examples=[401])
    detail: str = Field(examples=["Incorrect username or password."])
    code: str = Field(examples=["invalid_credentials"])
    request_id: str | None = None


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    errors: list[ValidationIssue]


# error class -> (status, code, title, default detail)
INTERNAL_ERROR = (
    500,
    "internal_error",
    "Internal server error",
    "Something went wrong on our side; quote the request id.",
)


def describe(error: Exception) -> tuple[int, str, str, str]:
    """Status, code, title and default detail; an error the table does not know is an opaque
    500 (never an exception raised while rendering one)."""
    for cls in type(error).__mro__:
        if cls in PROBLEMS:
            return PROBLEMS[cls]
    return INTERNAL_ERROR


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    request_id: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:bank-api:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id,
    }
    body.update(extra or {})
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_MEDIA_TYPE
    )


def validation_problem(errors: list[dict[str, Any]], request_id: str | None) -> JSONResponse:
    """422 `validation_error` listing each invalid input as `{loc, msg, type}`."""
    return problem_response(
        422,
        "validation_error",
        "Invalid request",
        "The request is not valid; see `errors`.",
        request_id=request_id,
        extra={"errors": errors},
    )


def _domain_detail(error: Exception) -> str | None:
    """The domain's errors carry figures in cents; say them in the API's terms."""
    if isinstance(error, domain_errors.Overpayment):
        return f"At most {format_cents(error.remaining)} remains to be paid on this loan."
    if isinstance(error, domain_errors.ScheduleBeyondCalendar):
        return (
            f"A {error.term_months}-month schedule starting {error.start} would end after "
            f"9999-12-31; the latest start for it is {error.latest_start}."
        )
    return None


def error_response(error: Exception, request_id: str | None) -> JSONResponse:
    status, code, title, default_detail = describe(error)
    if status == 500:
        log.error("undescribed error %s", type(error).__name__, extra={"request_id": request_id})
        return problem_response(status, code, title, default_detail, request_id=request_id)
    detail = getattr(error, "detail", None) or _domain_detail(error) or default_detail
    headers = error.headers if isinstance(error, AppError) else {}
    return problem_response(status, code, title, detail, request_id=request_id, headers=headers)


def problem_responses(*errors: type[Exception]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for a route: each status as `application/problem+json` with the
    `Problem` schema, listing the stable codes it may carry."""
    out: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        status, code, title, _ = PROBLEMS[error]
        entry = out.setdefault(
            status,
            {
                "description": "",
                "content": {
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            },
        )
        entry["description"] = "; ".join(filter(None, [entry["description"], f"`{code}`: {title}"]))
    return out
