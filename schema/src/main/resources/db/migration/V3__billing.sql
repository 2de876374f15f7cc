-- The money path in one round trip each: reserve before the upstream call, settle after.
-- Both lock the key row before the account row, so they never deadlock each other.

-- 0: reserved (or already reserved under this request id), 1: the account cannot cover it,
-- 2: the key's own credit limit cannot cover it.
CREATE FUNCTION tollgate_reserve(p_request_id text, p_account_id text, p_key_id text, p_amount numeric)
RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reservations (request_id, account_id, key_id, amount)
    VALUES (p_request_id, p_account_id, p_key_id, p_amount)
    ON CONFLICT (request_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF p_key_id IS NOT NULL THEN
        UPDATE api_keys SET credit_reserved = credit_reserved + p_amount
         WHERE id = p_key_id
           AND (credit_limit IS NULL OR credit_limit - credit_used - credit_reserved >= p_amount);
        IF NOT FOUND THEN
            DELETE FROM reservations WHERE request_id = p_request_id;
            RETURN 2;
        END IF;
    END IF;
    UPDATE accounts SET reserved = reserved + p_amount
     WHERE id = p_account_id AND status = 'active' AND balance - reserved >= p_amount;
    IF NOT FOUND THEN
        IF p_key_id IS NOT NULL THEN
            UPDATE api_keys SET credit_reserved = credit_reserved - p_amount WHERE id = p_key_id;
        END IF;
        DELETE FROM reservations WHERE request_id = p_request_id;
        RETURN 1;
    END IF;
    RETURN 0;
END
$$;

-- Settles a reservation at p_cost (0 releases it): the reservation is consumed, the balance and
-- the key's credit_used move by the cost, and a positive cost writes one settlement entry.
-- Returns the balance after, or NULL when there was nothing to settle (already settled).
CREATE FUNCTION tollgate_settle(p_request_id text, p_cost numeric, p_entry_id text)
RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    r reservations%ROWTYPE;
    bal numeric;
BEGIN
    DELETE FROM reservations WHERE request_id = p_request_id RETURNING * INTO r;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF r.key_id IS NOT NULL THEN
        UPDATE api_keys SET credit_reserved = credit_reserved - r.amount, credit_used = credit_used + p_cost
         WHERE id = r.key_id;
    END IF;
    UPDATE accounts SET reserved = reserved - r.amount, balance = balance - p_cost
     WHERE id = r.account_id
    RETURNING balance INTO bal;
    IF p_cost > 0 THEN
        INSERT INTO ledger (entry_id, account_id, kind, amount, balance_after, request_id)
        VALUES (p_entry_id, r.account_id, 'settlement', -p_cost, bal, p_request_id);
    END IF;
    RETURN bal;
END
$$;
