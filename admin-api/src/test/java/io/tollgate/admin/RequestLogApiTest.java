package io.tollgate.admin;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Map;

import static io.tollgate.admin.AdminTestServer.BASE;
import static org.assertj.core.api.Assertions.assertThat;

class RequestLogApiTest {

    private static final int ROWS = 105;

    private static AdminTestServer api;

    /** 105 rows as the proxy writes them: req_000 oldest, req_104 newest; every third for acct_b, key_3. */
    @BeforeAll
    static void start() throws Exception {
        api = AdminTestServer.start();
        try (Connection c = api.sql(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO request_log (request_id, account_id, key_id, model, endpoint, status, error_code, latency_ms,
                                         ttfb_ms, input_tokens, output_tokens, credits, upstream_id, created_at)
                VALUES (?, ?, ?, 'gpt-5', '/v1/chat/completions', ?, ?, 250, 80, 12, 34, 0.000123, 'ups_1',
                        now() - make_interval(secs => ?))""")) {
            for (int i = 0; i < ROWS; i++) {
                boolean b = i % 3 == 0;
                ps.setString(1, "req_%03d".formatted(i));
                ps.setString(2, b ? "acct_b" : "acct_a");
                ps.setString(3, b ? "key_3" : (i % 2 == 0 ? "key_1" : "key_2"));
                ps.setInt(4, i == ROWS - 1 ? 429 : 200);
                ps.setString(5, i == ROWS - 1 ? "rate_limit_exceeded" : null);
                ps.setInt(6, ROWS - i);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    private static List<String> ids(AdminTestServer.Response r) {
        return r.json().path("data").valueStream().map(row -> row.path("request_id").asText()).toList();
    }

    @Test
    void listsNewestFirstWithADefaultLimitOf100() {
        AdminTestServer.Response r = api.get(BASE + "/requests").assertStatus(200);

        assertThat(r.text("object")).isEqualTo("list");
        assertThat(ids(r)).hasSize(100).startsWith("req_104", "req_103").endsWith("req_005");

        JsonNode newest = r.json().path("data").get(0);
        assertThat(newest.properties()).extracting(Map.Entry::getKey).containsExactlyInAnyOrder(
                "request_id", "account_id", "key_id", "model", "endpoint", "status", "error_code", "latency_ms",
                "ttfb_ms", "input_tokens", "output_tokens", "credits", "upstream_id", "created_at");
        assertThat(newest.path("status").asInt()).isEqualTo(429);
        assertThat(newest.path("error_code").asText()).isEqualTo("rate_limit_exceeded");
        assertThat(newest.path("latency_ms").asInt()).isEqualTo(250);
        assertThat(newest.path("input_tokens").asLong()).isEqualTo(12);
        assertThat(r.raw()).contains("\"credits\":0.000123");
        assertThat(r.json().path("data").get(1).path("error_code").isNull()).isTrue();
    }

    @Test
    void filtersByAccountAndKey() {
        List<String> b = ids(api.get(BASE + "/requests?account_id=acct_b&limit=1000").assertStatus(200));
        assertThat(b).hasSize(35).allMatch(id -> Integer.parseInt(id.substring(4)) % 3 == 0);

        List<String> key1 = ids(api.get(BASE + "/requests?account_id=acct_a&key_id=key_1&limit=1000"));
        assertThat(key1).isNotEmpty().allMatch(id -> {
            int i = Integer.parseInt(id.substring(4));
            return i % 3 != 0 && i % 2 == 0;
        });
        assertThat(ids(api.get(BASE + "/requests?key_id=key_3&limit=2"))).containsExactly("req_102", "req_099");
        assertThat(ids(api.get(BASE + "/requests?account_id=acct_none"))).isEmpty();
    }

    @Test
    void theLimitIsBetween1And1000() {
        assertThat(ids(api.get(BASE + "/requests?limit=1000"))).hasSize(ROWS);
        assertThat(ids(api.get(BASE + "/requests?limit=1"))).containsExactly("req_104");
        for (String bad : new String[]{"0", "1001", "-1", "ten", "1.5"}) {
            assertThat(api.get(BASE + "/requests?limit=" + bad).assertError(400, "invalid_request").errorMessage())
                    .as(bad).contains("limit");
        }
    }
}
