package io.tollgate.schema;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeyStoreTest {

    private static TestDatabase db;
    private static AccountStore accounts;
    private static KeyStore keys;

    @BeforeAll
    static void setUp() {
        db = TestDatabase.create();
        accounts = new AccountStore(db.database().dataSource());
        keys = new KeyStore(db.database().dataSource());
    }

    @AfterAll
    static void tearDown() {
        db.close();
    }

    private static String newAccount() {
        return accounts.create("Acme", "pro").id();
    }

    private static KeyStore.Created plainKey(String accountId) {
        return keys.create(accountId, null, null, null, null, null, 3);
    }

    @Test
    void createStoresOnlyTheHashAndPrefix() throws Exception {
        String account = newAccount();
        Instant expires = Instant.now().plus(30, ChronoUnit.DAYS).truncatedTo(ChronoUnit.MICROS);

        KeyStore.Created created = keys.create(account, "ci", List.of("gpt-5", "openai/gpt-4o"), new BigDecimal("12.5"),
                expires, new RateLimits(60, null, 500), 3);

        ApiKey key = created.key();
        assertThat(created.plaintext()).startsWith(ApiKeySecrets.KEY_PREFIX);
        assertThat(key.id()).startsWith("key_");
        assertThat(key.accountId()).isEqualTo(account);
        assertThat(key.name()).isEqualTo("ci");
        assertThat(key.status()).isEqualTo(ApiKey.ACTIVE);
        assertThat(key.keyHash()).isEqualTo(ApiKeySecrets.hash(created.plaintext()));
        assertThat(key.prefix()).isEqualTo(ApiKeySecrets.prefix(created.plaintext()));
        assertThat(created.plaintext()).startsWith(key.prefix()).isNotEqualTo(key.prefix());
        assertThat(key.models()).containsExactly("gpt-5", "openai/gpt-4o");
        assertThat(key.creditLimit()).isEqualByComparingTo("12.5");
        assertThat(key.creditUsed()).isEqualByComparingTo("0");
        assertThat(key.expiresAt()).isEqualTo(expires);
        assertThat(key.rateLimits()).isEqualTo(new RateLimits(60, null, 500));

        try (Connection c = DriverManager.getConnection(db.url());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT * FROM api_keys WHERE id = '" + key.id() + "'")) {
            rs.next();
            int columns = rs.getMetaData().getColumnCount();
            for (int i = 1; i <= columns; i++) {
                assertThat(String.valueOf(rs.getObject(i))).doesNotContain(created.plaintext());
            }
            assertThat(rs.getString("rate_limits")).contains("\"general\"", "\"image_poll\"").doesNotContain("image_submit");
        }
    }

    @Test
    void defaultsAreNullModelsNoLimitAndNoOverrides() {
        ApiKey key = plainKey(newAccount()).key();

        assertThat(key.models()).isNull();
        assertThat(key.creditLimit()).isNull();
        assertThat(key.expiresAt()).isNull();
        assertThat(key.rateLimits()).isEqualTo(RateLimits.NONE);
    }

    @Test
    void findsByIdAndByHash() {
        KeyStore.Created created = plainKey(newAccount());

        assertThat(keys.find(created.key().id())).contains(created.key());
        assertThat(keys.findByHash(ApiKeySecrets.hash(created.plaintext()))).contains(created.key());
        assertThat(keys.find("key_missing")).isEmpty();
        assertThat(keys.findByHash("00")).isEmpty();
    }

    @Test
    void listsAnAccountsKeysNewestFirstAndUsableKeysWithoutRevoked() {
        String account = newAccount();
        ApiKey first = plainKey(account).key();
        ApiKey second = plainKey(account).key();
        ApiKey third = plainKey(account).key();
        keys.revoke(second.id());

        assertThat(keys.listByAccount(account)).extracting(ApiKey::id).containsExactly(third.id(), second.id(), first.id());
        assertThat(keys.listUsable()).extracting(ApiKey::id).contains(first.id(), third.id()).doesNotContain(second.id());
    }

    @Test
    void theFourthActiveOrPausedKeyIsRefusedButARevokedOneFreesASlot() {
        String account = newAccount();
        ApiKey a = plainKey(account).key();
        ApiKey b = plainKey(account).key();
        plainKey(account);
        keys.update(b.id(), new KeyStore.Patch(null, ApiKey.PAUSED, null, false, null, false, null, false, null));

        assertThatThrownBy(() -> plainKey(account)).isInstanceOf(KeyStore.KeyLimitReachedException.class);

        keys.revoke(a.id());
        assertThat(plainKey(account).key().status()).isEqualTo(ApiKey.ACTIVE);
        assertThatThrownBy(() -> plainKey(account)).isInstanceOf(KeyStore.KeyLimitReachedException.class);
    }

    @Test
    void concurrentCreatesNeverExceedTheLimit() throws Exception {
        String account = newAccount();
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        int succeeded = 0;
        int refused = 0;
        try {
            List<Callable<KeyStore.Created>> calls = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                calls.add(() -> {
                    start.await();
                    return plainKey(account);
                });
            }
            List<Future<KeyStore.Created>> futures = new ArrayList<>();
            for (Callable<KeyStore.Created> call : calls) {
                futures.add(pool.submit(call));
            }
            start.countDown();
            for (Future<KeyStore.Created> f : futures) {
                try {
                    f.get();
                    succeeded++;
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(KeyStore.KeyLimitReachedException.class);
                    refused++;
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(succeeded).isEqualTo(3);
        assertThat(refused).isEqualTo(threads - 3);
        assertThat(keys.listByAccount(account)).hasSize(3);
    }

    @Test
    void createForAnUnknownAccountFails() {
        assertThatThrownBy(() -> plainKey("acct_missing")).isInstanceOf(NotFoundException.class);
    }

    @Test
    void updateChangesTheGivenFieldsAndCanSetNullableOnesToNull() {
        ApiKey key = keys.create(newAccount(), "old", List.of("a"), BigDecimal.TEN, Instant.now().plusSeconds(3600),
                new RateLimits(10, 20, 30), 3).key();

        ApiKey renamed = keys.update(key.id(), new KeyStore.Patch("new", null, null, false, null, false, null, false, null))
                .orElseThrow();
        assertThat(renamed.name()).isEqualTo("new");
        assertThat(renamed.models()).containsExactly("a");
        assertThat(renamed.creditLimit()).isEqualByComparingTo("10");
        assertThat(renamed.rateLimits()).isEqualTo(new RateLimits(10, 20, 30));

        ApiKey cleared = keys.update(key.id(),
                new KeyStore.Patch(null, ApiKey.PAUSED, null, true, null, true, null, true, RateLimits.NONE)).orElseThrow();
        assertThat(cleared.name()).isEqualTo("new");
        assertThat(cleared.status()).isEqualTo(ApiKey.PAUSED);
        assertThat(cleared.models()).isNull();
        assertThat(cleared.creditLimit()).isNull();
        assertThat(cleared.expiresAt()).isNull();
        assertThat(cleared.rateLimits()).isEqualTo(RateLimits.NONE);

        ApiKey set = keys.update(key.id(),
                new KeyStore.Patch(null, ApiKey.ACTIVE, List.of(), true, BigDecimal.ZERO, true, null, false,
                        new RateLimits(null, 5, null))).orElseThrow();
        assertThat(set.status()).isEqualTo(ApiKey.ACTIVE);
        assertThat(set.models()).isEmpty();
        assertThat(set.creditLimit()).isEqualByComparingTo("0");
        assertThat(set.rateLimits()).isEqualTo(new RateLimits(null, 5, null));
    }

    @Test
    void anEmptyPatchChangesNothing() {
        ApiKey key = plainKey(newAccount()).key();

        assertThat(keys.update(key.id(), new KeyStore.Patch(null, null, null, false, null, false, null, false, null)))
                .contains(key);
    }

    @Test
    void updateOfAnUnknownKeyIsEmptyAndOfARevokedKeyFails() {
        assertThat(keys.update("key_missing", new KeyStore.Patch("x", null, null, false, null, false, null, false, null)))
                .isEmpty();

        ApiKey key = plainKey(newAccount()).key();
        keys.revoke(key.id());
        assertThatThrownBy(() -> keys.update(key.id(),
                new KeyStore.Patch(null, ApiKey.ACTIVE, null, false, null, false, null, false, null)))
                .isInstanceOf(IllegalStateException.class);
        assertThat(keys.find(key.id()).orElseThrow().status()).isEqualTo(ApiKey.REVOKED);
    }

    @Test
    void statusCanOnlyBePatchedToActiveOrPaused() {
        ApiKey key = plainKey(newAccount()).key();

        assertThatThrownBy(() -> keys.update(key.id(),
                new KeyStore.Patch(null, ApiKey.REVOKED, null, false, null, false, null, false, null)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void revokeIsFinalAndIdempotent() throws Exception {
        ApiKey key = plainKey(newAccount()).key();

        assertThat(keys.revoke(key.id())).isTrue();
        Instant revokedAt = revokedAt(key.id());
        assertThat(keys.revoke(key.id())).isTrue();

        assertThat(revokedAt).isNotNull();
        assertThat(revokedAt(key.id())).isEqualTo(revokedAt);
        assertThat(keys.find(key.id()).orElseThrow().status()).isEqualTo(ApiKey.REVOKED);
        assertThat(keys.revoke("key_missing")).isFalse();
    }

    @Test
    void aStatusChangeIsAnnouncedOnTollgateChanges() throws Exception {
        ApiKey key = plainKey(newAccount()).key();
        try (Connection listener = DriverManager.getConnection(db.url())) {
            try (Statement s = listener.createStatement()) {
                s.execute("LISTEN tollgate_changes");
            }

            keys.update(key.id(), new KeyStore.Patch(null, ApiKey.PAUSED, null, false, null, false, null, false, null));

            assertThat(awaitNotification(listener, "api_keys:" + key.id())).isTrue();
        }
    }

    /** Reads notifications until {@code expected} arrives or 5 s pass. */
    static boolean awaitNotification(Connection listener, String expected) throws Exception {
        PGConnection pg = listener.unwrap(PGConnection.class);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            PGNotification[] batch = pg.getNotifications(250);
            if (batch == null) {
                continue;
            }
            for (PGNotification n : batch) {
                if (n.getName().equals("tollgate_changes") && n.getParameter().equals(expected)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static Instant revokedAt(String keyId) throws Exception {
        try (Connection c = DriverManager.getConnection(db.url());
             PreparedStatement ps = c.prepareStatement("SELECT revoked_at FROM api_keys WHERE id = ?")) {
            ps.setString(1, keyId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                OffsetDateTime t = rs.getObject(1, java.time.OffsetDateTime.class);
                return t == null ? null : t.toInstant();
            }
        }
    }
}
