-- Credit leases: each proxy holds, per key, a slice of the key's and the account's credits and
-- reserves requests against it in memory, so the hot path never waits on the database. A lease
-- counts in accounts.reserved and api_keys.credit_reserved exactly like a reservation, so all
-- proxies together can never promise more than the balance (or the key's limit). Spending moves a
-- settled cost from the lease to the balance; a lease its holder stopped renewing is swept.

CREATE TABLE credit_leases (
    holder      text NOT NULL,                 -- one proxy process
    key_id      text NOT NULL REFERENCES api_keys (id),
    account_id  text NOT NULL REFERENCES accounts (id),
    amount      numeric(38, 12) NOT NULL CHECK (amount >= 0),
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (holder, key_id)
);
CREATE INDEX credit_leases_expiry ON credit_leases (expires_at);

-- Grows the holder's lease on a key by as much as possible up to p_max, and at least p_min.
-- Returns the lease's new total, or -1 when the account cannot give p_min (or is not active), -2 when
-- the key's own credit limit cannot. Locks the key row before the account row, as settling does.
CREATE FUNCTION tollgate_lease_grow(p_holder text, p_key_id text, p_account_id text,
                                    p_min numeric, p_max numeric, p_ttl_seconds integer)
RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    key_room numeric;
    account_room numeric;
    account_status text;
    grant_amount numeric;
    total numeric;
BEGIN
    SELECT CASE WHEN credit_limit IS NULL THEN NULL ELSE credit_limit - credit_used - credit_reserved END
      INTO key_room FROM api_keys WHERE id = p_key_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN -2;
    END IF;
    SELECT balance - reserved, status INTO account_room, account_status
      FROM accounts WHERE id = p_account_id FOR UPDATE;
    IF NOT FOUND OR account_status <> 'active' OR account_room < p_min THEN
        RETURN -1;
    END IF;
    IF key_room IS NOT NULL AND key_room < p_min THEN
        RETURN -2;
    END IF;
    grant_amount := least(p_max, account_room, coalesce(key_room, p_max));
    UPDATE api_keys SET credit_reserved = credit_reserved + grant_amount WHERE id = p_key_id;
    UPDATE accounts SET reserved = reserved + grant_amount WHERE id = p_account_id;
    INSERT INTO credit_leases (holder, key_id, account_id, amount, expires_at)
    VALUES (p_holder, p_key_id, p_account_id, grant_amount, now() + make_interval(secs => p_ttl_seconds))
    ON CONFLICT (holder, key_id) DO UPDATE
        SET amount = credit_leases.amount + EXCLUDED.amount, expires_at = EXCLUDED.expires_at
    RETURNING amount INTO total;
    RETURN total;
END
$$;

-- Gives back up to p_amount of the holder's lease on a key; returns what was given back.
CREATE FUNCTION tollgate_lease_shrink(p_holder text, p_key_id text, p_amount numeric)
RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    l credit_leases%ROWTYPE;
    back numeric;
BEGIN
    SELECT * INTO l FROM credit_leases WHERE holder = p_holder AND key_id = p_key_id;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    PERFORM 1 FROM api_keys WHERE id = l.key_id FOR UPDATE;
    SELECT * INTO l FROM credit_leases WHERE holder = p_holder AND key_id = p_key_id FOR UPDATE;
    back := least(p_amount, l.amount);
    UPDATE api_keys SET credit_reserved = credit_reserved - back WHERE id = l.key_id;
    UPDATE accounts SET reserved = reserved - back WHERE id = l.account_id;
    IF l.amount - back = 0 THEN
        DELETE FROM credit_leases WHERE holder = p_holder AND key_id = p_key_id;
    ELSE
        UPDATE credit_leases SET amount = amount - back WHERE holder = p_holder AND key_id = p_key_id;
    END IF;
    RETURN back;
END
$$;

-- Settles one request at p_cost out of the holder's lease, once per request id: the balance and
-- the key's credit_used move by the cost, and a positive cost writes one settlement entry. When the
-- lease is gone (swept after its holder went silent) the cost is charged to the balance directly.
-- Returns the balance after, or NULL when this request was settled already.
CREATE FUNCTION tollgate_spend(p_request_id text, p_holder text, p_key_id text, p_cost numeric, p_entry_id text)
RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    l credit_leases%ROWTYPE;
    from_lease numeric := 0;
    bal numeric;
    acct text;
BEGIN
    IF p_cost <= 0 THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM ledger WHERE request_id = p_request_id AND kind = 'settlement') THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM api_keys WHERE id = p_key_id FOR UPDATE;
    SELECT * INTO l FROM credit_leases WHERE holder = p_holder AND key_id = p_key_id FOR UPDATE;
    IF FOUND THEN
        from_lease := least(p_cost, l.amount);
        UPDATE credit_leases SET amount = amount - from_lease WHERE holder = p_holder AND key_id = p_key_id;
        acct := l.account_id;
    ELSE
        SELECT account_id INTO acct FROM api_keys WHERE id = p_key_id;
    END IF;
    UPDATE api_keys SET credit_used = credit_used + p_cost, credit_reserved = credit_reserved - from_lease
     WHERE id = p_key_id;
    UPDATE accounts SET balance = balance - p_cost, reserved = reserved - from_lease
     WHERE id = acct
    RETURNING balance INTO bal;
    INSERT INTO ledger (entry_id, account_id, kind, amount, balance_after, request_id)
    VALUES (p_entry_id, acct, 'settlement', -p_cost, bal, p_request_id);
    RETURN bal;
END
$$;

-- Keeps the holder's leases alive; returns how many it holds.
CREATE FUNCTION tollgate_lease_renew(p_holder text, p_ttl_seconds integer)
RETURNS integer LANGUAGE sql AS $$
    WITH renewed AS (
        UPDATE credit_leases SET expires_at = now() + make_interval(secs => p_ttl_seconds)
         WHERE holder = p_holder RETURNING 1)
    SELECT count(*)::integer FROM renewed;
$$;

-- Releases every lease whose holder stopped renewing it (a proxy that died).
CREATE FUNCTION tollgate_lease_sweep()
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    l credit_leases%ROWTYPE;
    n integer := 0;
BEGIN
    FOR l IN SELECT * FROM credit_leases WHERE expires_at < now() ORDER BY key_id LOOP
        PERFORM tollgate_lease_shrink(l.holder, l.key_id, l.amount);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

-- Per-request reservations in the database are replaced by leases: one fewer round trip per request.
DROP FUNCTION tollgate_reserve(text, text, text, numeric);
DROP FUNCTION tollgate_settle(text, numeric, text);
DROP TABLE reservations;
