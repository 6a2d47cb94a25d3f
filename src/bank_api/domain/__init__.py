"""The pure money domain: integer cents, frozen dataclasses, pure functions, standard library only.

Modules:

* ``money``: the one rounding helper (half-even) and the one largest-remainder apportionment.
* ``schedule``: annuity and equal-principal repayment schedules.
* ``allocation``: which investors fund a credit (equal-split water-filling, or pro rata).
* ``payments``: applying a borrower's payment to the schedule.
* ``distribution``: handing a payment on to the loan's investors, cumulatively; write-off losses.
* ``delinquency``: installment status, days past due, non-performing loans.
* ``ledger``: double-entry journal entries for every movement of money.
* ``verify``: the ledger invariants as pure checks over plain data.
* ``errors``: the domain's exceptions (data, never HTTP).
"""
