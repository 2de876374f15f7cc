-- Media tasks: video generations (and image generations asked with "async": true) run for a long
-- time, longer than a proxy process may live. So a task's reservation is held by its row here, not
-- by a proxy's credit lease: it survives restarts, any proxy can settle it, and the state
-- transition that ends a task settles it in the same statement, exactly once.

CREATE TABLE media_tasks (
    id                text PRIMARY KEY,                -- what the client polls
    kind              text NOT NULL CHECK (kind IN ('image', 'video')),
    request_id        text NOT NULL UNIQUE,            -- the submit's request id: its settlement's and log row's
    account_id        text NOT NULL REFERENCES accounts (id),
    key_id            text NOT NULL REFERENCES api_keys (id),
    model             text NOT NULL,
    upstream_id       text NOT NULL,                   -- no foreign key: an upstream may go while tasks remain
    upstream_model    text NOT NULL,
    upstream_task_id  text,                            -- the upstream's own id, once it accepted the task
    -- submitting: reserved, the upstream not yet asked; queued, running: accepted; the rest are final.
    status            text NOT NULL CHECK (status IN ('submitting', 'queued', 'running', 'succeeded', 'failed')),
    units             numeric(38, 12) NOT NULL,        -- images (n) or seconds reserved
    price_per_request numeric(38, 12),                 -- the prices when it was submitted: what it is billed at
    price_per_unit    numeric(38, 12),
    reserved          numeric(38, 12) NOT NULL CHECK (reserved >= 0),
    cost              numeric(38, 12),                 -- set when it ends
    billed_units      numeric(38, 12),
    result            jsonb,                           -- what a poll shows once it succeeded
    error             text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    checked_at        timestamptz NOT NULL DEFAULT now(), -- the upstream was last asked (or asking was claimed)
    finished_at       timestamptz
);
-- Unfinished tasks: counted per account for the concurrency limit, swept by age.
CREATE INDEX media_tasks_unfinished_account ON media_tasks (account_id, kind)
    WHERE status IN ('submitting', 'queued', 'running');
CREATE INDEX media_tasks_unfinished_checked ON media_tasks (checked_at)
    WHERE status IN ('submitting', 'queued', 'running');

-- Opens a task with p_amount reserved for it. The amount was already reserved in the holder's
-- lease for the submitting request; it moves from the lease to the task (both count in
-- accounts.reserved and api_keys.credit_reserved, so those do not change). Should the lease hold
-- less (swept meanwhile), the rest is reserved from the account and key directly, if they can
-- cover it. Returns 0: opened, 1: the account cannot cover it (or is not active), 2: the key's
-- credit limit cannot, 3: p_max_active tasks of this kind are unfinished for the account already.
-- Locks the key row, the lease, then the account row, as every money function does.
CREATE FUNCTION tollgate_task_open(p_task_id text, p_kind text, p_request_id text, p_holder text,
                                   p_account_id text, p_key_id text, p_model text, p_upstream_id text,
                                   p_upstream_model text, p_units numeric, p_price_per_request numeric,
                                   p_price_per_unit numeric, p_amount numeric, p_max_active integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    key_room numeric;
    lease_amount numeric;
    from_lease numeric := 0;
    rest numeric;
    account_room numeric;
    account_status text;
BEGIN
    SELECT CASE WHEN credit_limit IS NULL THEN NULL ELSE credit_limit - credit_used - credit_reserved END
      INTO key_room FROM api_keys WHERE id = p_key_id FOR UPDATE;
    SELECT amount INTO lease_amount FROM credit_leases WHERE holder = p_holder AND key_id = p_key_id FOR UPDATE;
    IF lease_amount IS NOT NULL THEN
        from_lease := least(p_amount, lease_amount);
    END IF;
    rest := p_amount - from_lease;
    -- The account row lock also serialises concurrent submits of one account, across proxies.
    SELECT balance - reserved, status INTO account_room, account_status FROM accounts WHERE id = p_account_id FOR UPDATE;
    IF p_max_active IS NOT NULL AND (SELECT count(*) FROM media_tasks
                                      WHERE account_id = p_account_id AND kind = p_kind
                                        AND status IN ('submitting', 'queued', 'running')) >= p_max_active THEN
        RETURN 3;
    END IF;
    IF rest > 0 THEN
        IF account_status IS DISTINCT FROM 'active' OR account_room < rest THEN
            RETURN 1;
        END IF;
        IF key_room IS NOT NULL AND key_room < rest THEN
            RETURN 2;
        END IF;
        UPDATE api_keys SET credit_reserved = credit_reserved + rest WHERE id = p_key_id;
        UPDATE accounts SET reserved = reserved + rest WHERE id = p_account_id;
    END IF;
    IF from_lease > 0 THEN
        UPDATE credit_leases SET amount = amount - from_lease WHERE holder = p_holder AND key_id = p_key_id;
    END IF;
    INSERT INTO media_tasks (id, kind, request_id, account_id, key_id, model, upstream_id, upstream_model, status,
                             units, price_per_request, price_per_unit, reserved)
    VALUES (p_task_id, p_kind, p_request_id, p_account_id, p_key_id, p_model, p_upstream_id, p_upstream_model,
            'submitting', p_units, p_price_per_request, p_price_per_unit, p_amount);
    RETURN 0;
END
$$;

-- Ends a task, once: only the call that moves it out of its unfinished states does anything, so
-- polling it many times, from many proxies, settles it exactly once. A succeeded task is charged
-- p_cost (at most what it reserved) with one settlement entry under the submit's request id, which
-- also gives the submit's request-log row its credits; a failed one is charged nothing. Either
-- way its whole reservation is released. Returns false when the task had ended already.
CREATE FUNCTION tollgate_task_finish(p_task_id text, p_status text, p_cost numeric, p_billed_units numeric,
                                     p_result jsonb, p_error text, p_entry_id text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    t media_tasks%ROWTYPE;
    bal numeric;
BEGIN
    IF p_status NOT IN ('succeeded', 'failed') THEN
        RAISE EXCEPTION 'a task ends succeeded or failed, not %', p_status;
    END IF;
    UPDATE media_tasks
       SET status = p_status,
           cost = CASE WHEN p_status = 'succeeded' THEN least(greatest(p_cost, 0), reserved) ELSE 0 END,
           billed_units = CASE WHEN p_status = 'succeeded' THEN p_billed_units END,
           result = p_result, error = p_error, finished_at = now(), checked_at = now()
     WHERE id = p_task_id AND status IN ('submitting', 'queued', 'running')
    RETURNING * INTO t;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE api_keys SET credit_reserved = credit_reserved - t.reserved, credit_used = credit_used + t.cost
     WHERE id = t.key_id;
    UPDATE accounts SET reserved = reserved - t.reserved, balance = balance - t.cost
     WHERE id = t.account_id
    RETURNING balance INTO bal;
    IF t.cost > 0 THEN
        INSERT INTO ledger (entry_id, account_id, kind, amount, balance_after, request_id)
        VALUES (p_entry_id, t.account_id, 'settlement', -t.cost, bal, t.request_id);
        UPDATE request_log SET credits = t.cost WHERE request_id = t.request_id;
    END IF;
    RETURN true;
END
$$;
