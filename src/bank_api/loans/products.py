"""Loan products: the catalogue customers apply against, managed by admins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError

from bank_api import audit
from bank_api.common.principal import Principal
from bank_api.common.types import utcnow
from bank_api.errors import ProductBoundsInvalid, ProductExists, ProductNotFound, UnknownLoanType
from bank_api.loans.schemas import LoanProductCreate, LoanProductRead, LoanProductUpdate
from bank_api.models import LoanProduct
from bank_api.uow import UnitOfWork

_RENAMED = {"annual_rate": "annual_rate_bp"}


async def list_products(uow: UnitOfWork, *, active_only: bool) -> Sequence[LoanProduct]:
    return await uow.products.listing(active_only=active_only)


async def active_product(uow: UnitOfWork, code: str) -> LoanProduct:
    product = await uow.products.by_code(code)
    if product is None or not product.is_active:
        raise UnknownLoanType
    return product


async def create_product(
    uow: UnitOfWork, data: LoanProductCreate, *, actor: Principal
) -> LoanProduct:
    if await uow.products.by_code(data.code) is not None:
        raise ProductExists
    values = {_RENAMED.get(k, k): v for k, v in data.model_dump().items()}
    product = uow.products.add(LoanProduct(**values))
    try:
        await uow.products.flush()
    except IntegrityError:  # created concurrently under the same code
        raise ProductExists from None
    created = {field: {"from": None, "to": value} for field, value in _public(product).items()}
    audit.record(uow, actor, "product.create", "loan_product", product.code, created)
    return product


async def update_product(
    uow: UnitOfWork, code: str, data: LoanProductUpdate, *, actor: Principal
) -> LoanProduct:
    """Change a product; loans already applied for keep the terms they were given."""
    product = await uow.products.by_code_for_update(code)
    if product is None:
        raise ProductNotFound
    before = _public(product)
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(product, _RENAMED.get(field, field), value)
    if product.min_amount > product.max_amount or product.min_term_months > product.max_term_months:
        raise ProductBoundsInvalid
    product.updated_at = utcnow()
    after = _public(product)
    changes = {f: {"from": before[f], "to": after[f]} for f in after if before[f] != after[f]}
    audit.record(uow, actor, "product.update", "loan_product", product.code, changes)
    return product


def _public(product: LoanProduct) -> dict[str, Any]:
    """The product's fields as the API writes them (money and rates as decimal strings)."""
    return LoanProductRead.model_validate(product).model_dump(mode="json")
