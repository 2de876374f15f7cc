package io.tollgate.admin;

import io.tollgate.schema.Account;
import io.tollgate.schema.AccountStore;
import io.tollgate.schema.LedgerEntry;
import io.tollgate.schema.LedgerStore;
import io.tollgate.schema.NotFoundException;

import java.math.BigDecimal;
import java.util.List;

/** Accounts, their top-ups and their ledger. */
final class AccountService {

    private final AccountStore accounts;
    private final LedgerStore ledger;

    AccountService(AccountStore accounts, LedgerStore ledger) {
        this.accounts = accounts;
        this.ledger = ledger;
    }

    Account create(String name, String tier) {
        return accounts.create(name, tier);
    }

    Account get(String id) {
        return accounts.find(id).orElseThrow(() -> unknown(id));
    }

    Account update(String id, String name, String tier, String status) {
        return accounts.update(id, name, tier, status).orElseThrow(() -> unknown(id));
    }

    /** A top-up; a repeated idempotency key answers the first top-up again and changes nothing. */
    AccountStore.Credit topUp(String id, BigDecimal amount, String reason, String idempotencyKey) {
        try {
            return accounts.credit(id, amount, AccountStore.KIND_TOPUP, reason, idempotencyKey);
        } catch (NotFoundException e) {
            throw unknown(id);
        }
    }

    List<LedgerEntry> ledger(String id, int limit) {
        get(id);
        return ledger.list(id, limit);
    }

    static ApiException unknown(String id) {
        return ApiException.notFound("account " + id + " does not exist");
    }
}
