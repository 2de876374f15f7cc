-- Settles a whole batch of requests in one call, set-based: every key of the batch is locked first
-- (in key order, so a concurrent lease growth never waits in a cycle with it), each key's lease,
-- credit_used and account move once by the key's total, and the ledger gets one settlement row per
-- request in one INSERT, each with the running balance as if the batch were applied in order.
-- Requests already settled (by request id) and zero costs are skipped: a replay changes nothing.
CREATE FUNCTION tollgate_spend_batch(p_request_ids text[], p_holders text[], p_key_ids text[],
                                     p_costs numeric[], p_entry_ids text[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    g record;
    lease_amount numeric;
    take numeric;
    acct text;
    written integer;
BEGIN
    PERFORM 1 FROM api_keys WHERE id = ANY (p_key_ids) ORDER BY id FOR UPDATE;
    FOR g IN
        SELECT t.holder, t.key_id, sum(t.cost) AS total
          FROM unnest(p_request_ids, p_holders, p_key_ids, p_costs) AS t(request_id, holder, key_id, cost)
         WHERE t.cost > 0
           AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.request_id = t.request_id AND l.kind = 'settlement')
         GROUP BY t.holder, t.key_id
         ORDER BY t.key_id, t.holder
    LOOP
        SELECT account_id INTO acct FROM api_keys WHERE id = g.key_id;
        SELECT amount INTO lease_amount FROM credit_leases
         WHERE holder = g.holder AND key_id = g.key_id FOR UPDATE;
        take := least(g.total, coalesce(lease_amount, 0));
        IF lease_amount IS NOT NULL THEN
            UPDATE credit_leases SET amount = amount - take WHERE holder = g.holder AND key_id = g.key_id;
        END IF;
        UPDATE api_keys SET credit_used = credit_used + g.total, credit_reserved = credit_reserved - take
         WHERE id = g.key_id;
        UPDATE accounts SET balance = balance - g.total, reserved = reserved - take WHERE id = acct;
    END LOOP;

    INSERT INTO ledger (entry_id, account_id, kind, amount, balance_after, request_id)
    SELECT f.entry_id, k.account_id, 'settlement', -f.cost,
           a.balance + coalesce(sum(f.cost) OVER (PARTITION BY k.account_id ORDER BY f.n DESC
                                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0),
           f.request_id
      FROM unnest(p_request_ids, p_key_ids, p_costs, p_entry_ids) WITH ORDINALITY AS f(request_id, key_id, cost, entry_id, n)
      JOIN api_keys k ON k.id = f.key_id
      JOIN accounts a ON a.id = k.account_id
     WHERE f.cost > 0
       AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.request_id = f.request_id AND l.kind = 'settlement')
     ORDER BY f.n;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;

-- Superseded: spending is set-based now, and renewal is a plain UPDATE in BillingStore.
DROP FUNCTION tollgate_spend(text, text, text, numeric, text);
DROP FUNCTION tollgate_lease_renew(text, integer);
