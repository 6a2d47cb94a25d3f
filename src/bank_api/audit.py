"""Writing the audit trail: one record per staff action that changes something, added to the
action's own unit of work so it commits (or rolls back) with the change (docs/DECISIONS.md
"Audit trail")."""

from __future__ import annotations

from typing import Any

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
    `{field: {from, to}}` in the API's formats, and the request's id."""
    uow.session.add(
        AuditRecord(
            at=utcnow(),
            actor_id=actor.id,
            actor_role=actor.role,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            changes=changes or {},
            request_id=request_id_var.get() or None,
        )
    )
