"""Writing the audit trail: one record per staff action that changes something, added to the
action's own unit of work so it commits (or rolls back) with the change (docs/DECISIONS.md
"Audit trail")."""

from __future__ import annotations

from typing import Any

from bank_api.common.bulk import Write, new_rows
from bank_api.common.principal import Principal
from bank_api.common.types import utcnow
from bank_api.middleware import request_id_var
from bank_api.models import AuditRecord
from bank_api.uow import UnitOfWork


def record(
    uow: UnitOfWork,
    actor: Principal,
    action: str,
    target_type: str,
    target_id: object,
    changes: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Add `action` by `actor` on `target_type` `target_id`, with the changed fields
    `{field: {from, to}}` in the API's formats, and the request's id; the session stores it
    when it is flushed."""
    uow.session.add(_record(actor, action, target_type, target_id, changes))


def written(
    actor: Principal,
    action: str,
    target_type: str,
    target_id: object,
    changes: dict[str, dict[str, Any]] | None = None,
) -> Write:
    """`record` for a use case that sends the record with its other writes in one round trip:
    the write of its row, not through the session."""
    return new_rows("audit", _record(actor, action, target_type, target_id, changes))


def _record(
    actor: Principal,
    action: str,
    target_type: str,
    target_id: object,
    changes: dict[str, dict[str, Any]] | None,
) -> AuditRecord:
    return AuditRecord(
        at=utcnow(),
        actor_id=actor.id,
        actor_role=actor.role,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        changes=changes or {},
        request_id=request_id_var.get() or None,
    )
