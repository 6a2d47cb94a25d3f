"""Seed a benchmark population through the service layer, so every row is one the API could
have written and `bank-api ledger verify` holds from the start.

Users are inserted directly (one shared argon2id hash at production parameters: hashing 7,000
distinct passwords would take twenty minutes and measures nothing); every movement of money and
every status change goes through the same service functions the routes call: `deposit`,
`withdraw`, `apply_for_loan`, `forward_loan`, `reject_loan`, `approve_loan`, `record_payment`,
`write_off_loan`. Loans are funded in monthly cohorts over the past year (the business date is
moved back for each cohort), then repaid according to a borrower profile (current, late,
non-performing, paid off), so the population has overdue and NPL loans, closed and written-off
ones, and loans in every pre-approval status.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bank_api.common.principal import Principal
from bank_api.common.types import utcnow
from bank_api.config import Settings
from bank_api.database import create_engine, create_sessionmaker
from bank_api.domain.schedule import add_months
from bank_api.investments.service import deposit, withdraw
from bank_api.loans.approval import approve_loan
from bank_api.loans.payments import record_payment
from bank_api.loans.schemas import LoanCreate
from bank_api.loans.service import apply_for_loan, forward_loan, reject_loan
from bank_api.loans.writeoff import write_off_loan
from bank_api.models import BusinessDate, Installment, InvestorAccount, Role, User, UserStatus
from bank_api.security import PasswordHasher
from bank_api.uow import UnitOfWork

PASSWORD = "bench-password-1"  # noqa: S105 - every seeded user's password, for the login scenario
T = TypeVar("T")

# (loan_type, share of applications, amount range in currency units, term range in months)
PRODUCTS = (
    ("personal_loan", 0.45, (1_000, 12_000), (6, 36)),
    ("car_loan", 0.25, (4_000, 25_000), (12, 60)),
    ("education_loan", 0.20, (2_000, 15_000), (12, 60)),
    ("home_loan", 0.10, (20_000, 40_000), (60, 240)),
)
# Final status of the seeded loans, as shares of all of them.
STATUS_MIX = {
    "new": 0.25,
    "requested": 0.20,
    "rejected": 0.10,
    "active": 0.35,
    "closed": 0.06,
    "written_off": 0.04,
}
# Repayment profiles of the active loans: installments left unpaid out of those already due.
# A non-performing borrower stopped paying four installments ago (90+ days past due).
ACTIVE_PROFILES = (("current", 0.70, 0), ("late", 0.20, 1), ("npl", 0.10, 4))


@dataclass(frozen=True)
class Population:
    investors: int = 2000
    customers: int = 5000
    agents: int = 20
    loans: int = 10_000
    cohorts: int = 12  # months of funding history

    def scaled(self, factor: float) -> Population:
        return Population(
            investors=max(60, int(self.investors * factor)),
            customers=max(20, int(self.customers * factor)),
            agents=max(2, int(self.agents * factor)),
            loans=max(60, int(self.loans * factor)),
            cohorts=self.cohorts,
        )


# The harness's --quick population: the full population's investors (so the same fan-out per
# loan) with fewer loans.
QUICK_POPULATION = Population(investors=2000, customers=1000, agents=20, loans=1200)


@dataclass
class Seeded:
    admin: Principal
    investors: list[Principal] = field(default_factory=list)
    customers: list[Principal] = field(default_factory=list)
    agents: list[Principal] = field(default_factory=list)


class Seeder:
    def __init__(self, settings: Settings, population: Population, seed: int) -> None:
        self.settings = settings
        self.population = population
        self.rng = random.Random(seed)
        self.today = utcnow().date()
        self.engine = create_engine(settings)
        self.sessions: async_sessionmaker[AsyncSession] = create_sessionmaker(self.engine)
        self.timings: dict[str, float] = {}

    async def call(self, use_case: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
        """One use case in its own unit of work, committed as its route commits it."""
        async with self.sessions() as session, UnitOfWork(session) as uow:
            result = await use_case(uow, **kwargs)
            await uow.commit()
            return result

    async def lanes(self, jobs: Sequence[Callable[[], Awaitable[Any]]], width: int = 4) -> None:
        """Run `jobs` on `width` concurrent lanes (each job opens its own session)."""
        queue = list(reversed(jobs))

        async def lane() -> None:
            while queue:
                await queue.pop()()

        await asyncio.gather(*(lane() for _ in range(width)))

    async def set_business_date(self, value: date | None) -> None:
        async with self.sessions() as session:
            row = await session.get(BusinessDate, 1)
            if row is None:
                session.add(BusinessDate(id=1, value=value))
            else:
                row.value = value
            await session.commit()

    @contextlib.asynccontextmanager
    async def timed(self, name: str) -> AsyncIterator[None]:
        began = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - began, 1)

    async def run(self) -> Seeded:
        async with self.timed("users"):
            seeded = await self.users()
        async with self.timed("deposits"):
            await self.deposits(seeded)
        await self.loans(seeded)
        async with self.timed("timestamps"):
            await self.spread_timestamps()
        await self.set_business_date(None)
        await self.engine.dispose()
        return seeded

    # -- people -------------------------------------------------------------------------------

    async def users(self) -> Seeded:
        hasher = PasswordHasher(self.settings)
        password_hash = await hasher.hash(PASSWORD)
        hasher.close()
        size = self.population
        groups = [
            (Role.admin, "admin", 1),
            (Role.investor, "investor", size.investors),
            (Role.customer, "customer", size.customers),
            (Role.agent, "agent", size.agents),
        ]
        people: dict[Role, list[Principal]] = {}
        for role, prefix, count in groups:
            people[role] = await self._insert_users(role, prefix, count, password_hash)
        return Seeded(
            admin=people[Role.admin][0],
            investors=people[Role.investor],
            customers=people[Role.customer],
            agents=people[Role.agent],
        )

    async def _insert_users(
        self, role: Role, prefix: str, count: int, password_hash: str
    ) -> list[Principal]:
        principals = []
        for start in range(0, count, 1000):
            async with self.sessions() as session:
                for n in range(start, min(count, start + 1000)):
                    username = f"{prefix}{n:05d}" if role != Role.admin else "bench_admin"
                    user = User(
                        id=uuid.uuid4(),
                        full_name=f"{prefix.title()} {n:05d}",
                        role=role,
                        status=UserStatus.active,
                        password_hash=password_hash,
                    )
                    user.set_username(username)
                    user.set_email(f"{username}@bench.example")
                    session.add(user)
                    if role == Role.investor:
                        session.add(InvestorAccount(investor_id=user.id, updated_at=utcnow()))
                    principals.append(Principal(user.id, username, role))
                await session.commit()
        return principals

    # -- money in -----------------------------------------------------------------------------

    def _cents(self, low: int, high: int) -> int:
        return self.rng.randint(low * 100, high * 100)

    async def deposits(self, seeded: Seeded) -> None:
        jobs: list[Callable[[], Awaitable[Any]]] = []
        withdrawals: list[Callable[[], Awaitable[Any]]] = []
        for investor in seeded.investors:
            # Most depositors keep a few tens of thousands waiting; a few are large.
            big = self.rng.random() < 0.05
            for _ in range(self.rng.randint(1, 3)):
                amount = self._cents(50_000, 400_000) if big else self._cents(5_000, 60_000)
                jobs.append(self._money(deposit, investor, amount))
            if self.rng.random() < 0.15:
                amount = self._cents(100, 2_000)
                withdrawals.append(self._money(withdraw, investor, amount))
        await self.lanes(jobs)
        await self.lanes(withdrawals)

    def _job(self, use_case: Callable[..., Awaitable[Any]], **kwargs: Any) -> Callable[[], Any]:
        return lambda: self.call(use_case, **kwargs)

    def _money(
        self, use_case: Callable[..., Awaitable[Any]], investor: Principal, amount: int
    ) -> Callable[[], Any]:
        return self._job(
            use_case,
            actor=investor,
            amount=amount,
            currency=self.settings.currency,
            today=self.today,
        )

    # -- loans --------------------------------------------------------------------------------

    def _application(self) -> LoanCreate:
        weights = [share for _, share, _, _ in PRODUCTS]
        code, _, (low, high), (short, long) = self.rng.choices(PRODUCTS, weights)[0]
        amount = self.rng.randint(low, high) * 100
        return LoanCreate(
            loan_type=code, amount=f"{amount // 100}.00", term_months=self.rng.randint(short, long)
        )

    def _fates(self) -> list[str]:
        total = self.population.loans
        fates = [
            status for status, share in STATUS_MIX.items() for _ in range(round(total * share))
        ]
        fates += ["new"] * (total - len(fates))
        self.rng.shuffle(fates)
        return fates[:total]

    async def loans(self, seeded: Seeded) -> None:
        plans = [
            (self.rng.choice(seeded.customers), self._application(), fate) for fate in self._fates()
        ]
        loans: list[tuple[uuid.UUID, Principal, str]] = []

        async def apply(customer: Principal, data: LoanCreate, fate: str) -> None:
            loan = await self.call(apply_for_loan, actor=customer, data=data, today=self.today)
            loans.append((loan.id, customer, fate))

        async with self.timed("applications"):
            await self.lanes([lambda plan=plan: apply(*plan) for plan in plans])
        async with self.timed("forward_reject"):
            await self._decide(seeded, loans)
        funded = [(loan, customer, fate) for loan, customer, fate in loans if fate in FUNDED]
        async with self.timed("approvals"):
            await self._approve(seeded, funded)
        async with self.timed("payments"):
            await self._repay(funded)
        async with self.timed("write_offs"):
            await self._write_off(seeded, funded)

    async def _decide(self, seeded: Seeded, loans: list[tuple[uuid.UUID, Principal, str]]) -> None:
        jobs: list[Callable[[], Awaitable[Any]]] = []
        for loan_id, _, fate in loans:
            agent = self.rng.choice(seeded.agents)
            # Requested loans, and most decided ones, went through an agent first.
            if fate == "requested" or (fate != "new" and self.rng.random() < 0.7):
                note = "documents checked"
                jobs.append(self._job(forward_loan, actor=agent, loan_id=loan_id, note=note))
        await self.lanes(jobs)
        rejected = [
            self._job(reject_loan, actor=seeded.admin, loan_id=loan_id, reason="income too low")
            for loan_id, _, fate in loans
            if fate == "rejected"
        ]
        await self.lanes(rejected)

    async def _approve(
        self, seeded: Seeded, funded: list[tuple[uuid.UUID, Principal, str]]
    ) -> None:
        """Approve in monthly cohorts, oldest first. Written-off loans come from cohorts old
        enough to be 90+ days past due today."""
        months_back = self.population.cohorts
        cohort: dict[uuid.UUID, int] = {}
        for loan_id, _, fate in funded:
            oldest = 6 if fate == "written_off" else 1
            cohort[loan_id] = self.rng.randint(oldest, months_back)
        for months in range(months_back, 0, -1):
            day = add_months(self.today, -months)
            await self.set_business_date(day)
            for loan_id in [loan for loan, _, _ in funded if cohort[loan] == months]:
                # Sequential on purpose: concurrent approvals all want the head of the queue.
                await self.call(
                    approve_loan,
                    actor=seeded.admin,
                    loan_id=loan_id,
                    settings=self.settings,
                    today=day,
                )
        await self.set_business_date(None)

    async def _schedules(self) -> dict[uuid.UUID, list[tuple[date, int]]]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(
                    Installment.loan_id,
                    Installment.due_date,
                    Installment.principal + Installment.interest,
                ).order_by(Installment.loan_id, Installment.number)
            )
            schedules: dict[uuid.UUID, list[tuple[date, int]]] = {}
            for loan_id, due_date, amount in rows:
                schedules.setdefault(loan_id, []).append((due_date, amount))
            return schedules

    async def _repay(self, funded: list[tuple[uuid.UUID, Principal, str]]) -> None:
        schedules = await self._schedules()

        async def pay_in_order(customer: Principal, loan_id: uuid.UUID, amounts: list[int]) -> None:
            for amount in amounts:
                await self.call(
                    record_payment,
                    actor=customer,
                    loan_id=loan_id,
                    amount=amount,
                    today=self.today,
                )

        jobs: list[Callable[[], Awaitable[Any]]] = []
        for loan_id, customer, fate in funded:
            schedule = schedules[loan_id]
            owed = [amount for due, amount in schedule if due <= self.today]
            amounts = self._payments(fate, owed, [amount for _, amount in schedule])
            if amounts:
                jobs.append(lambda c=customer, i=loan_id, a=amounts: pay_in_order(c, i, a))
        await self.lanes(jobs)

    def _payments(self, fate: str, owed: list[int], schedule: list[int]) -> list[int]:
        """The payments a borrower with this fate made: amounts of whole installments."""
        if fate == "closed":
            return [sum(schedule)]
        if fate == "written_off":
            return []
        profile = self.rng.choices(ACTIVE_PROFILES, [share for _, share, _ in ACTIVE_PROFILES])
        unpaid = profile[0][2]
        paid = owed[: max(0, len(owed) - unpaid)]
        if not paid:
            return []
        # Most borrowers pay monthly; collapse into at most three payments to keep the seed
        # small (the ledger lines per payment are what costs, not the count).
        chunks = min(3, len(paid))
        size = -(-len(paid) // chunks)
        return [sum(paid[i : i + size]) for i in range(0, len(paid), size)]

    async def _write_off(
        self, seeded: Seeded, funded: list[tuple[uuid.UUID, Principal, str]]
    ) -> None:
        jobs = [
            self._job(
                write_off_loan,
                actor=seeded.admin,
                loan_id=loan_id,
                today=self.today,
                settings=self.settings,
            )
            for loan_id, _, fate in funded
            if fate == "written_off"
        ]
        await self.lanes(jobs)

    async def spread_timestamps(self) -> None:
        """Spread the loans' creation over the past year (same shift for every timestamp of a
        loan, so their order, which the transition check reads, is kept), so date filters in
        the read scenario select a realistic slice rather than all or nothing."""
        shift = "make_interval(days => abs(hashtext(l.id::text)) % 330)"
        async with self.sessions() as session:
            await session.execute(
                text(
                    f"UPDATE loan_event e SET at = e.at - {shift}"  # noqa: S608
                    " FROM loan l WHERE l.id = e.loan_id"
                )
            )
            await session.execute(
                text(
                    f"UPDATE loan l SET created_at = l.created_at - {shift},"  # noqa: S608
                    f" updated_at = l.updated_at - {shift},"
                    f" approved_at = l.approved_at - {shift}, closed_at = l.closed_at - {shift}"
                )
            )
            await session.commit()


FUNDED = frozenset({"active", "closed", "written_off"})
