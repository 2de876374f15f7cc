package io.tollgate.admin;

import io.tollgate.schema.Account;
import io.tollgate.schema.AccountStore;
import io.tollgate.schema.LedgerEntry;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Set;

/** {@code /accounts}, their credits and their ledger. */
final class AccountController {

    static final int MAX_NAME = 200;
    private static final int MAX_REASON = 1000;
    private static final int MAX_IDEMPOTENCY_KEY = 255;
    private static final Set<String> STATUSES = Set.of("active", "disabled");

    private final AccountService accounts;
    private final Set<String> tiers;

    AccountController(AccountService accounts, Set<String> tiers) {
        this.accounts = accounts;
        this.tiers = tiers;
    }

    void routes(Router router) {
        router.post(AdminApi.BASE + "/accounts", this::create)
                .get(AdminApi.BASE + "/accounts/{id}", this::get)
                .patch(AdminApi.BASE + "/accounts/{id}", this::update)
                .post(AdminApi.BASE + "/accounts/{id}/credits", this::credit)
                .get(AdminApi.BASE + "/accounts/{id}/ledger", this::ledger);
    }

    ApiResponse create(ApiRequest request) {
        JsonBody body = request.jsonBody();
        String name = body.maxLength("name", body.requiredText("name"), MAX_NAME);
        String tier = body.requiredOneOf("tier", tiers);
        return ApiResponse.created(AccountView.of(accounts.create(name, tier)));
    }

    ApiResponse get(ApiRequest request) {
        return ApiResponse.ok(AccountView.of(accounts.get(request.pathParam("id"))));
    }

    ApiResponse update(ApiRequest request) {
        JsonBody body = request.jsonBody().forbidNull("name", "tier", "status");
        String name = body.maxLength("name", body.nonBlankText("name"), MAX_NAME);
        String tier = body.oneOf("tier", tiers);
        String status = body.oneOf("status", STATUSES);
        return ApiResponse.ok(AccountView.of(accounts.update(request.pathParam("id"), name, tier, status)));
    }

    ApiResponse credit(ApiRequest request) {
        JsonBody body = request.jsonBody();
        BigDecimal amount = body.decimal("amount");
        if (amount == null) {
            throw body.invalid("amount", "is required");
        }
        if (amount.signum() <= 0) {
            throw body.invalid("amount", "must be a positive number");
        }
        String reason = body.maxLength("reason", body.text("reason"), MAX_REASON);
        String idempotencyKey = body.maxLength("idempotency_key", body.nonBlankText("idempotency_key"),
                MAX_IDEMPOTENCY_KEY);
        AccountStore.Credit credit = accounts.topUp(request.pathParam("id"), amount, reason, idempotencyKey);
        // A replay answers exactly what the first request did, status included.
        return ApiResponse.created(new CreditView(credit.entryId(), credit.balance()));
    }

    ApiResponse ledger(ApiRequest request) {
        int limit = request.limit(AdminApi.DEFAULT_LIMIT, AdminApi.MAX_LIMIT);
        return ApiResponse.list(accounts.ledger(request.pathParam("id"), limit).stream().map(LedgerEntryView::of).toList());
    }

    record AccountView(String id, String name, String tier, String status, BigDecimal balance, Instant createdAt) {
        static AccountView of(Account a) {
            return new AccountView(a.id(), a.name(), a.tier(), a.status(), a.balance(), a.createdAt());
        }
    }

    record CreditView(String entryId, BigDecimal balance) {
    }

    record LedgerEntryView(String entryId, String kind, BigDecimal amount, BigDecimal balanceAfter, String requestId,
                           String reason, Instant createdAt) {
        static LedgerEntryView of(LedgerEntry e) {
            return new LedgerEntryView(e.entryId(), e.kind(), e.amount(), e.balanceAfter(), e.requestId(), e.reason(),
                    e.createdAt());
        }
    }
}
