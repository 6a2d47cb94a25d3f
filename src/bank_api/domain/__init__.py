"""The pure money domain: integer cents, frozen dataclasses, pure functions, standard library only.

Modules:

* ``money``: the one rounding helper (half-even) and the one largest-remainder apportionment.
* ``schedule``: annuity and equal-principal repayment schedules.
* ``allocation``: which investors fund a credit (equal-split water-filling, or pro rata).
* ``preferences``: investors' auto-invest preferences, and the caps they give allocation.
* ``payments``: applying a borrower's payment to the schedule.
* ``distribution``: handing a payment on to the loan's investors, cumulatively and within
  quota; write-off losses.
* ``statement``: an investor's statement totals and closing balances.
* ``returns``: an investor's net annual return (XIRR) and what is still scheduled to them.
* ``delinquency``: installment status, days past due, non-performing loans.
* ``ledger``: double-entry journal entries for every movement of money.
* ``verify``: the ledger invariants as pure checks over plain data.
* ``errors``: the domain's exceptions (data, never HTTP).
"""
