-- The database ceiling: the least work each money write must do, as one SQL function per
-- operation, run by pgbench (bench/ceiling.py) in a copy of the seeded bench database.
--
-- Each function is one transaction with no client in between: read the caller, read the
-- business date, claim the idempotency key (lock, look up), lock what the operation locks,
-- write every row the API writes (journal entry and lines, balances, allocations, schedule,
-- payment, loan, event, idempotency record), and read what the response reports. The
-- arithmetic is simplified where it changes no row count (equal parts instead of water-filling,
-- pro rata by holding instead of the exact cumulative shares); the locks, the rows and the
-- order of the locks are the API's.

CREATE SCHEMA ceiling;

-- Numbered targets, so a pgbench script can pick one with `random()`.
CREATE TABLE ceiling.investor AS
    SELECT row_number() OVER (ORDER BY investor_id)::int AS n, investor_id AS id
    FROM investor_account;
CREATE UNIQUE INDEX ON ceiling.investor (n);
CREATE TABLE ceiling.payable AS
    SELECT row_number() OVER (ORDER BY id)::int AS n, id, customer_id
    FROM loan WHERE status = 'active';
CREATE UNIQUE INDEX ON ceiling.payable (n);
-- Five more copies of every loan waiting for approval, so approvals do not run out of loans
-- at the higher client counts (the copy is thrown away after the runs).
INSERT INTO loan (id, customer_id, agent_id, loan_type, amount, term_months, annual_rate_bp,
                  schedule_type, monthly_payment, total_interest, total_payable, status,
                  outstanding_principal, rejection_reason, approved_at, closed_at, created_at,
                  updated_at, fee_ppm)
SELECT gen_random_uuid(), customer_id, agent_id, loan_type, amount, term_months, annual_rate_bp,
       schedule_type, monthly_payment, total_interest, total_payable, status,
       outstanding_principal, rejection_reason, approved_at, closed_at, created_at, updated_at,
       fee_ppm
FROM loan, generate_series(1, 5)
WHERE status IN ('new', 'requested');
CREATE TABLE ceiling.admin AS SELECT id FROM user_account WHERE role = 'admin' LIMIT 1;
-- Counts the operations that did their whole work (an approval with no loan left to fund,
-- a payment of a loan already repaid or a refused withdrawal is a transaction, not an
-- operation): bench/ceiling.py reports these per second.
CREATE SEQUENCE ceiling.done;

-- What every authenticated money write does first: the caller, the date, the key.
CREATE FUNCTION ceiling.begin_request(caller uuid, idem text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM id, role, status, tokens_valid_after FROM user_account WHERE id = caller;
    PERFORM value FROM business_date WHERE id = 1;
    IF NOT pg_try_advisory_xact_lock(hashtextextended('idempotency:' || caller || ':' || idem, 0))
    THEN
        RAISE EXCEPTION 'key in use';
    END IF;
    PERFORM 1 FROM idempotency_record WHERE user_id = caller AND key = idem;
END $$;

CREATE FUNCTION ceiling.end_request(caller uuid, idem text, status int, body text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO idempotency_record (user_id, key, request_hash, status_code, response_body,
                                    created_at)
    VALUES (caller, idem, md5(idem) || md5(body), status, body, now());
$$;

-- The investor's overdue figures that a deposit or withdrawal answers with (the other figures
-- come back with the balance): the holdings whose loan is overdue, by the copy of its oldest
-- unpaid due date each holding keeps (revision 0014), in one statement, as the API sends it.
CREATE FUNCTION ceiling.portfolio(investor uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coalesce(sum(amount - principal_received - loss), 0),
            coalesce(sum(amount - principal_received - loss)
                     FILTER (WHERE oldest_unpaid_due <= current_date - 90), 0)
        FROM allocation
        WHERE investor_id = investor AND oldest_unpaid_due < current_date;
END $$;

CREATE FUNCTION ceiling.move(n int, cents bigint, kind text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    investor uuid := (SELECT id FROM ceiling.investor WHERE ceiling.investor.n = move.n);
    idem text := md5(random()::text);
    entry bigint;
    signed bigint := CASE kind WHEN 'deposit' THEN cents ELSE -cents END;
    balances record;
BEGIN
    PERFORM ceiling.begin_request(investor, idem);
    PERFORM ceiling.portfolio(investor);
    INSERT INTO journal_entry (kind, created_at, investor_id) VALUES (kind, now(), investor)
        RETURNING id INTO entry;
    INSERT INTO journal_line (entry_id, account_kind, owner_id, amount, purpose, created_at,
                              value_date)
    VALUES (entry, 'external', NULL, -signed, kind, now(), current_date),
           (entry, 'investor_available', investor, signed, kind, now(), current_date);
    UPDATE investor_account
       SET available = available + signed,
           queued_at = CASE WHEN available + signed = 0 THEN NULL
                            WHEN available = 0 THEN now() ELSE queued_at END,
           updated_at = now()
     WHERE investor_id = investor AND available + signed >= 0
    RETURNING available, invested, interest_earned, losses, active_allocations, fees
         INTO balances;
    IF NOT FOUND THEN
        RETURN;  -- insufficient funds: the API refuses it (and rolls back; rare here)
    END IF;
    PERFORM ceiling.end_request(investor, idem, 201, repeat('x', 300));
    PERFORM nextval('ceiling.done');
END $$;

CREATE FUNCTION ceiling.approve(min_ticket bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    admin uuid := (SELECT id FROM ceiling.admin);
    idem text := md5(random()::text);
    loan_row loan%ROWTYPE;
    entry bigint;
    k int;
    part bigint;
    ids uuid[];
    parts bigint[];
BEGIN
    PERFORM ceiling.begin_request(admin, idem);
    SELECT * INTO loan_row FROM loan WHERE status IN ('new', 'requested')
        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- The schedule, the loan, its event: everything that does not need the queue.
    INSERT INTO installment (loan_id, number, due_date, principal, interest, paid_principal,
                             paid_interest)
    SELECT loan_row.id, i, current_date + make_interval(months => i),
           loan_row.amount / loan_row.term_months
               + CASE WHEN i = loan_row.term_months THEN loan_row.amount % loan_row.term_months
                      ELSE 0 END,
           (loan_row.amount * loan_row.annual_rate_bp / 120000)
               * (loan_row.term_months - i + 1) / loan_row.term_months,
           0, 0
    FROM generate_series(1, loan_row.term_months) AS i;
    UPDATE loan SET status = 'active', approved_at = now(), updated_at = now(),
                    outstanding_principal = amount, disbursed_on = current_date,
                    oldest_unpaid_due = current_date + interval '1 month', fee_ppm = 25000,
                    sign_offs = NULL
     WHERE id = loan_row.id;
    INSERT INTO loan_event (loan_id, at, actor_id, actor_role, event, changes, note)
    VALUES (loan_row.id, now(), admin, 'admin', 'approved',
            '{"status": {"from": "requested", "to": "active"}}', 'funded');
    INSERT INTO audit_record (at, actor_id, actor_role, action, target_type, target_id, changes)
    VALUES (now(), admin, 'admin', 'loan.approve', 'loan', loan_row.id::text,
            '{"status": {"from": "requested", "to": "active"}}');
    -- Take turns on the queue, read its head (the candidates that fund this product, by the
    -- preferences' caps), split the amount in equal parts.
    PERFORM pg_advisory_xact_lock(1650552427);  -- ALLOCATION_QUEUE_LOCK
    k := greatest(1, least(loan_row.amount / min_ticket, 400));
    part := loan_row.amount / k;
    SELECT array_agg(investor_id ORDER BY investor_id) INTO ids FROM (
        SELECT investor_id FROM investor_account a
        WHERE queued_at IS NOT NULL AND auto_invest AND available - keep_available >= part + k
          AND (max_portfolio IS NULL OR max_portfolio - invested >= part + k)
          AND (NOT EXISTS (SELECT 1 FROM investor_loan_type t
                           WHERE t.investor_id = a.investor_id)
               OR EXISTS (SELECT 1 FROM investor_loan_type t
                          WHERE t.investor_id = a.investor_id
                            AND t.loan_type = loan_row.loan_type))
        ORDER BY queued_at, investor_id LIMIT k) head;
    IF coalesce(array_length(ids, 1), 0) < k THEN
        RETURN;  -- the pool cannot fund it
    END IF;
    parts := array_fill(part, ARRAY[k]);
    parts[1] := part + loan_row.amount - part * k;
    INSERT INTO allocation (loan_id, investor_id, amount, principal_received, interest_received,
                            loss, fee, created_at, oldest_unpaid_due)
    SELECT loan_row.id, i, p, 0, 0, 0, 0, now(), current_date + interval '1 month'
      FROM unnest(ids, parts) AS v(i, p);
    INSERT INTO journal_entry (kind, created_at, loan_id) VALUES ('disbursement', now(),
                                                                  loan_row.id)
        RETURNING id INTO entry;
    INSERT INTO journal_line (entry_id, account_kind, owner_id, amount, purpose, loan_id,
                              created_at, value_date)
    SELECT entry, kind, i, sign * p, 'allocation', loan_row.id, now(), current_date
      FROM unnest(ids, parts) AS v(i, p),
           (VALUES ('investor_available', -1), ('investor_invested', 1)) AS s(kind, sign)
    UNION ALL
    VALUES (entry, 'loan_receivable', loan_row.id, -loan_row.amount, 'payout', loan_row.id,
            now(), current_date),
           (entry, 'external', NULL, loan_row.amount, 'payout', loan_row.id, now(),
            current_date);
    -- The balances last, locked in id order.
    PERFORM 1 FROM investor_account WHERE investor_id = ANY (ids) ORDER BY investor_id
        FOR UPDATE;
    UPDATE investor_account a
       SET available = a.available - v.p, invested = a.invested + v.p,
           active_allocations = a.active_allocations + 1,
           queued_at = CASE WHEN a.available = v.p THEN NULL ELSE now() END,
           last_funded_at = now(), updated_at = now()
      FROM unnest(ids, parts) AS v(i, p)
     WHERE a.investor_id = v.i;
    PERFORM ceiling.end_request(admin, idem, 200, repeat('x', 700));
    PERFORM nextval('ceiling.done');
END $$;

CREATE FUNCTION ceiling.pay(n int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    target ceiling.payable%ROWTYPE;
    idem text := md5(random()::text);
    loan_row loan%ROWTYPE;
    due installment%ROWTYPE;
    due_principal bigint;
    due_interest bigint;
    payment_id uuid := gen_random_uuid();
    entry bigint;
    ids uuid[];
    ps bigint[];
    its bigint[];
    fee_parts bigint[];
    room bigint[];
    widest bigint;
    left_over bigint;
BEGIN
    SELECT * INTO target FROM ceiling.payable WHERE ceiling.payable.n = pay.n;
    PERFORM ceiling.begin_request(target.customer_id, idem);
    SELECT * INTO loan_row FROM loan WHERE id = target.id AND status = 'active' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- The schedule, locked: pay the oldest open installment in full.
    SELECT * INTO due FROM installment WHERE loan_id = loan_row.id
        AND paid_principal + paid_interest < principal + interest
        ORDER BY number LIMIT 1 FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    due_principal := due.principal - due.paid_principal;
    due_interest := due.interest - due.paid_interest;
    -- The holdings, locked; each holder's part pro rata (never more than they still hold),
    -- the cents left over to the first holders with room for them.
    SELECT array_agg(investor_id ORDER BY investor_id),
           array_agg(least(amount - principal_received - loss,
                           due_principal * amount / loan_row.amount) ORDER BY investor_id),
           array_agg(due_interest * amount / loan_row.amount ORDER BY investor_id),
           array_agg(amount - principal_received - loss ORDER BY investor_id)
      INTO ids, ps, its, room
      FROM (SELECT investor_id, amount, principal_received, loss FROM allocation
            WHERE loan_id = loan_row.id ORDER BY investor_id FOR UPDATE) holding;
    left_over := due_principal - (SELECT sum(x) FROM unnest(ps) AS x);
    FOR j IN 1 .. array_length(room, 1) LOOP
        EXIT WHEN left_over = 0;
        widest := least(left_over, room[j] - ps[j]);
        ps[j] := ps[j] + widest;
        left_over := left_over - widest;
    END LOOP;
    its[1] := its[1] + due_interest - (SELECT sum(x) FROM unnest(its) AS x);
    -- The platform's fee of each share's interest (the loan's fee rate), the rest to the holder.
    SELECT array_agg(x * loan_row.fee_ppm / 1000000 ORDER BY o) INTO fee_parts
      FROM unnest(its) WITH ORDINALITY AS v(x, o);
    SELECT array_agg(x - f ORDER BY o) INTO its
      FROM unnest(its, fee_parts) WITH ORDINALITY AS v(x, f, o);
    INSERT INTO payment (id, loan_id, payer_id, amount, principal, interest, fee, applied,
                         created_at)
    VALUES (payment_id, loan_row.id, target.customer_id, due_principal + due_interest,
            due_principal, due_interest, (SELECT sum(x) FROM unnest(fee_parts) AS x),
            json_build_array(json_build_object('number', due.number)), now());
    UPDATE installment SET paid_principal = due.principal, paid_interest = due.interest
     WHERE loan_id = loan_row.id AND number = due.number;
    UPDATE allocation a
       SET principal_received = a.principal_received + v.p,
           interest_received = a.interest_received + v.i, fee = a.fee + v.f,
           oldest_unpaid_due = due.due_date + interval '1 month'
      FROM unnest(ids, ps, its, fee_parts) AS v(investor, p, i, f)
     WHERE a.loan_id = loan_row.id AND a.investor_id = v.investor;
    INSERT INTO journal_entry (kind, created_at, loan_id, payment_id)
    VALUES ('payment', now(), loan_row.id, payment_id) RETURNING id INTO entry;
    INSERT INTO journal_line (entry_id, account_kind, owner_id, amount, purpose, loan_id,
                              created_at, value_date)
    SELECT entry, line.kind, line.owner, line.amount, line.purpose, loan_row.id, now(),
           current_date
      FROM unnest(ids, ps, its, fee_parts) AS v(investor, p, i, f),
           LATERAL (VALUES ('investor_invested', v.investor, -v.p, 'principal_repayment'),
                           ('investor_available', v.investor, v.p, 'principal_repayment'),
                           ('investor_available', v.investor, v.i, 'interest'),
                           ('platform_revenue', v.investor, v.f, 'fee'))
               AS line(kind, owner, amount, purpose)
     WHERE line.amount <> 0
    UNION ALL
    -- The interest and the fees each leave external in one line, as the API books them.
    SELECT entry, 'external', NULL, -total::bigint, purpose, loan_row.id, now(), current_date
      FROM (VALUES ((SELECT sum(x) FROM unnest(its) AS x), 'interest'),
                   ((SELECT sum(x) FROM unnest(fee_parts) AS x), 'fee')) AS t(total, purpose)
     WHERE total <> 0
    UNION ALL
    VALUES (entry, 'external', NULL, -due_principal, 'principal_repayment', loan_row.id, now(),
            current_date),
           (entry, 'loan_receivable', loan_row.id, due_principal, 'principal_repayment',
            loan_row.id, now(), current_date);
    UPDATE loan SET outstanding_principal = outstanding_principal - due_principal,
                    oldest_unpaid_due = due.due_date + interval '1 month', sign_offs = NULL,
                    updated_at = now()
     WHERE id = loan_row.id;
    INSERT INTO loan_event (loan_id, at, actor_id, actor_role, event, changes, note)
    VALUES (loan_row.id, now(), target.customer_id, 'customer', 'payment',
            '{"outstanding_principal": {"from": "1.00", "to": "0.50"}}', 'payment');
    -- The balances last, locked in id order.
    PERFORM 1 FROM investor_account WHERE investor_id = ANY (ids) ORDER BY investor_id
        FOR UPDATE;
    UPDATE investor_account a
       SET available = a.available + v.p + v.i, invested = a.invested - v.p,
           interest_earned = a.interest_earned + v.i, fees = a.fees + v.f,
           queued_at = CASE WHEN a.available = 0 THEN now() ELSE a.queued_at END,
           updated_at = now()
      FROM unnest(ids, ps, its, fee_parts) AS v(investor, p, i, f)
     WHERE a.investor_id = v.investor;
    PERFORM ceiling.end_request(target.customer_id, idem, 201, repeat('x', 600));
    PERFORM nextval('ceiling.done');
END $$;
