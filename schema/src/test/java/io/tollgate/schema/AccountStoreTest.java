package io.tollgate.schema;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AccountStoreTest {

    private static TestDatabase db;
    private static AccountStore accounts;
    private static LedgerStore ledger;

    @BeforeAll
    static void setUp() {
        db = TestDatabase.create();
        accounts = new AccountStore(db.database().dataSource());
        ledger = new LedgerStore(db.database().dataSource());
    }

    @AfterAll
    static void tearDown() {
        db.close();
    }

    @Test
    void createsAnActiveAccountWithZeroBalance() {
        Account a = accounts.create("Acme", "pro");

        assertThat(a.id()).startsWith("acct_");
        assertThat(a.status()).isEqualTo("active");
        assertThat(a.balance()).isEqualByComparingTo("0");
        assertThat(a.reserved()).isEqualByComparingTo("0");
        assertThat(a.createdAt()).isNotNull();
        assertThat(accounts.find(a.id())).contains(a);
    }

    @Test
    void findsNothingForAnUnknownId() {
        assertThat(accounts.find("acct_missing")).isEmpty();
        assertThat(accounts.update("acct_missing", "x", null, null)).isEmpty();
    }

    @Test
    void updateChangesOnlyTheGivenFields() {
        Account a = accounts.create("Acme", "pro");

        Account renamed = accounts.update(a.id(), "Acme Inc", null, null).orElseThrow();
        assertThat(renamed.name()).isEqualTo("Acme Inc");
        assertThat(renamed.tier()).isEqualTo("pro");
        assertThat(renamed.status()).isEqualTo("active");

        Account changed = accounts.update(a.id(), null, "max", "disabled").orElseThrow();
        assertThat(changed.name()).isEqualTo("Acme Inc");
        assertThat(changed.tier()).isEqualTo("max");
        assertThat(changed.status()).isEqualTo("disabled");
        assertThat(changed.active()).isFalse();
    }

    @Test
    void creditAddsToTheBalanceAndWritesOneLedgerRow() {
        Account a = accounts.create("Acme", "pro");

        AccountStore.Credit first = accounts.credit(a.id(), new BigDecimal("10.5"), "topup", "welcome", null);
        AccountStore.Credit second = accounts.credit(a.id(), new BigDecimal("-0.25"), "adjustment", "refund fix", null);

        assertThat(first.created()).isTrue();
        assertThat(first.entryId()).startsWith("le_");
        assertThat(first.balance()).isEqualByComparingTo("10.5");
        assertThat(second.balance()).isEqualByComparingTo("10.25");
        assertThat(accounts.find(a.id()).orElseThrow().balance()).isEqualByComparingTo("10.25");

        List<LedgerEntry> entries = ledger.list(a.id(), 100);
        assertThat(entries).extracting(LedgerEntry::entryId).containsExactly(second.entryId(), first.entryId());
        assertThat(entries.get(0).kind()).isEqualTo("adjustment");
        assertThat(entries.get(0).amount()).isEqualByComparingTo("-0.25");
        assertThat(entries.get(0).balanceAfter()).isEqualByComparingTo("10.25");
        assertThat(entries.get(1).reason()).isEqualTo("welcome");
        assertThat(entries.get(1).requestId()).isNull();
    }

    @Test
    void aRepeatedIdempotencyKeyChangesNothing() {
        Account a = accounts.create("Acme", "pro");

        AccountStore.Credit first = accounts.credit(a.id(), new BigDecimal("5"), "topup", null, "order-1");
        accounts.credit(a.id(), new BigDecimal("1"), "topup", null, "order-2");
        AccountStore.Credit again = accounts.credit(a.id(), new BigDecimal("5"), "topup", null, "order-1");

        assertThat(again.created()).isFalse();
        assertThat(again.entryId()).isEqualTo(first.entryId());
        assertThat(again.balance()).isEqualByComparingTo("5");
        assertThat(accounts.find(a.id()).orElseThrow().balance()).isEqualByComparingTo("6");
        assertThat(ledger.list(a.id(), 100)).hasSize(2);
    }

    @Test
    void theSameIdempotencyKeyOnAnotherAccountIsAnotherCredit() {
        Account a = accounts.create("A", "pro");
        Account b = accounts.create("B", "pro");

        accounts.credit(a.id(), BigDecimal.ONE, "topup", null, "shared");
        AccountStore.Credit onB = accounts.credit(b.id(), BigDecimal.ONE, "topup", null, "shared");

        assertThat(onB.created()).isTrue();
        assertThat(accounts.find(b.id()).orElseThrow().balance()).isEqualByComparingTo("1");
    }

    @Test
    void concurrentCreditsWithOneIdempotencyKeyApplyOnce() throws Exception {
        Account a = accounts.create("Acme", "pro");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<AccountStore.Credit>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                calls.add(() -> accounts.credit(a.id(), new BigDecimal("2"), "topup", null, "same"));
            }
            List<AccountStore.Credit> results = new ArrayList<>();
            for (Future<AccountStore.Credit> f : pool.invokeAll(calls)) {
                results.add(f.get());
            }
            assertThat(results).filteredOn(AccountStore.Credit::created).hasSize(1);
            assertThat(results).extracting(AccountStore.Credit::entryId).containsOnly(results.get(0).entryId());
        } finally {
            pool.shutdownNow();
        }
        assertThat(accounts.find(a.id()).orElseThrow().balance()).isEqualByComparingTo("2");
    }

    @Test
    void theLedgerSumsToTheBalance() {
        Account a = accounts.create("Acme", "pro");
        accounts.credit(a.id(), new BigDecimal("100"), "topup", null, null);
        accounts.credit(a.id(), new BigDecimal("0.000000000001"), "topup", null, null);
        accounts.credit(a.id(), new BigDecimal("-33.3"), "adjustment", null, null);

        BigDecimal sum = ledger.list(a.id(), 1000).stream().map(LedgerEntry::amount).reduce(BigDecimal.ZERO, BigDecimal::add);

        assertThat(sum).isEqualByComparingTo(accounts.find(a.id()).orElseThrow().balance());
        assertThat(sum).isEqualByComparingTo("66.700000000001");
    }

    @Test
    void ledgerListHonoursTheLimit() {
        Account a = accounts.create("Acme", "pro");
        for (int i = 1; i <= 5; i++) {
            accounts.credit(a.id(), BigDecimal.valueOf(i), "topup", null, null);
        }

        assertThat(ledger.list(a.id(), 2)).extracting(LedgerEntry::amount)
                .usingElementComparator(BigDecimal::compareTo)
                .containsExactly(new BigDecimal("5"), new BigDecimal("4"));
    }

    @Test
    void refusesBadCredits() {
        Account a = accounts.create("Acme", "pro");

        assertThatThrownBy(() -> accounts.credit(a.id(), BigDecimal.ZERO, "topup", null, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> accounts.credit(a.id(), new BigDecimal("-1"), "topup", null, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> accounts.credit(a.id(), BigDecimal.ONE, "settlement", null, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> accounts.credit("acct_missing", BigDecimal.ONE, "topup", null, null))
                .isInstanceOf(NotFoundException.class);
        assertThat(ledger.list(a.id(), 10)).isEmpty();
    }
}
