"""Who is calling: a frozen snapshot of the authenticated user, safe across rollbacks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from bank_api.models import Role


@dataclass(frozen=True)
class Principal:
    id: uuid.UUID
    username: str
    role: Role
