package io.tollgate.schema;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;

import static org.assertj.core.api.Assertions.assertThat;

class RequestLogStoreTest {

    private static TestDatabase db;
    private static RequestLogStore log;

    @BeforeAll
    static void setUp() throws Exception {
        db = TestDatabase.create();
        log = new RequestLogStore(db.database().dataSource());
        try (Connection c = DriverManager.getConnection(db.url());
             PreparedStatement ps = c.prepareStatement("""
                     INSERT INTO request_log (request_id, account_id, key_id, model, endpoint, status, error_code,
                                              latency_ms, ttfb_ms, input_tokens, output_tokens, credits, upstream_id,
                                              created_at)
                     VALUES (?, ?, ?, 'gpt-5', '/v1/chat/completions', ?, ?, 120, 40, 10, 20, 0.5, 'ups_1',
                             now() - make_interval(secs => ?))""")) {
            insert(ps, "req_1", "acct_a", "key_1", 200, null, 50);
            insert(ps, "req_2", "acct_a", "key_2", 429, "rate_limit_exceeded", 40);
            insert(ps, "req_3", "acct_b", "key_3", 200, null, 30);
            insert(ps, "req_4", "acct_a", "key_1", 200, null, 20);
        }
    }

    private static void insert(PreparedStatement ps, String id, String account, String key, int status, String error,
                               int secondsAgo) throws Exception {
        ps.setString(1, id);
        ps.setString(2, account);
        ps.setString(3, key);
        ps.setInt(4, status);
        ps.setString(5, error);
        ps.setInt(6, secondsAgo);
        ps.executeUpdate();
    }

    @AfterAll
    static void tearDown() {
        db.close();
    }

    @Test
    void listsNewestFirstWithOptionalFilters() {
        assertThat(log.list(null, null, 100)).extracting(RequestLogEntry::requestId)
                .containsExactly("req_4", "req_3", "req_2", "req_1");
        assertThat(log.list("acct_a", null, 100)).extracting(RequestLogEntry::requestId)
                .containsExactly("req_4", "req_2", "req_1");
        assertThat(log.list("acct_a", "key_1", 100)).extracting(RequestLogEntry::requestId)
                .containsExactly("req_4", "req_1");
        assertThat(log.list(null, "key_3", 100)).extracting(RequestLogEntry::requestId).containsExactly("req_3");
        assertThat(log.list(null, null, 2)).extracting(RequestLogEntry::requestId).containsExactly("req_4", "req_3");
    }

    @Test
    void mapsEveryColumn() {
        RequestLogEntry e = log.list(null, "key_2", 1).getFirst();

        assertThat(e.accountId()).isEqualTo("acct_a");
        assertThat(e.model()).isEqualTo("gpt-5");
        assertThat(e.endpoint()).isEqualTo("/v1/chat/completions");
        assertThat(e.status()).isEqualTo(429);
        assertThat(e.errorCode()).isEqualTo("rate_limit_exceeded");
        assertThat(e.latencyMs()).isEqualTo(120);
        assertThat(e.ttfbMs()).isEqualTo(40);
        assertThat(e.inputTokens()).isEqualTo(10L);
        assertThat(e.outputTokens()).isEqualTo(20L);
        assertThat(e.credits()).isEqualByComparingTo("0.5");
        assertThat(e.upstreamId()).isEqualTo("ups_1");
        assertThat(e.createdAt()).isNotNull();
    }
}
