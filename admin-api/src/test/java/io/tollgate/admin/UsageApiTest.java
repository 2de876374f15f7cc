package io.tollgate.admin;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.sql.Types;
import java.util.List;
import java.util.Map;

import static io.tollgate.admin.AdminTestServer.BASE;
import static org.assertj.core.api.Assertions.assertThat;

class UsageApiTest {

    private static AdminTestServer api;
    private static String account;
    private static String idle;
    /** Rows relative to now(), apart: the machine's clock may well be in November 2026 too. */
    private static String recent;

    /**
     * {@code account}: 24-25 Nov 2026 with two models, a refusal and a row without a model, plus
     * rows around the edges of a 30-day window; another account's rows on the same days; {@code recent}:
     * rows around the edges of the default window, now minus 30 days to now.
     */
    @BeforeAll
    static void start() throws Exception {
        api = AdminTestServer.start();
        account = api.createAccount();
        idle = api.createAccount();
        recent = api.createAccount();
        String other = api.createAccount();
        try (Connection c = api.sql(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO request_log (request_id, account_id, key_id, model, endpoint, status, input_tokens,
                                         output_tokens, credits, created_at)
                VALUES (?, ?, 'key_1', ?, '/v1/chat/completions', ?, ?, ?, ?, ?::timestamptz)""")) {
            insert(ps, "r01", account, "demo-chat", 200, 10L, 20L, "0.00003", "2026-11-24T00:00:00Z");
            insert(ps, "r02", account, "gpt-5", 200, 100L, 200L, "1.5", "2026-11-24T12:00:00Z");
            insert(ps, "r03", account, "demo-chat", 200, 5L, 5L, "0.00001", "2026-11-24T23:59:59.999999Z");
            insert(ps, "r04", account, "demo-chat", 429, null, null, "0", "2026-11-25T08:00:00Z");
            insert(ps, "r05", account, null, 400, null, null, "0", "2026-11-25T10:00:00Z");
            insert(ps, "r06", account, "demo-chat", 200, 1L, 2L, "0.000003", "2026-11-25T11:00:00Z");
            insert(ps, "r07", account, "demo-chat", 200, 1000L, 1000L, "9", "2026-11-26T00:00:00Z");
            insert(ps, "r08", other, "demo-chat", 200, 1000L, 1000L, "9", "2026-11-24T10:00:00Z");
            // For to=2026-11-24 alone: its default "from" is 30 days earlier, 2026-10-25T00:00Z.
            insert(ps, "r09", account, "demo-chat", 200, 3L, 4L, "0.1", "2026-10-25T00:00:00Z");
            insert(ps, "r10", account, "demo-chat", 200, 3L, 4L, "0.1", "2026-10-24T23:59:59.999999Z");
        }
        // For the defaults: the last 30 days up to now.
        try (Connection c = api.sql(); Statement s = c.createStatement()) {
            s.executeUpdate("""
                    INSERT INTO request_log (request_id, account_id, model, endpoint, status, input_tokens,
                                             output_tokens, credits, created_at)
                    VALUES ('n1', '%1$s', 'recent', '/v1/chat/completions', 200, 1, 1, 0.5, now() - interval '1 hour'),
                           ('n2', '%1$s', 'recent', '/v1/chat/completions', 200, 1, 1, 0.25, now() - interval '29 days'),
                           ('n3', '%1$s', 'recent', '/v1/chat/completions', 200, 1, 1, 7, now() - interval '31 days'),
                           ('n4', '%1$s', 'recent', '/v1/chat/completions', 200, 1, 1, 7, now() + interval '1 hour')
                    """.formatted(recent));
        }
    }

    private static void insert(PreparedStatement ps, String id, String accountId, String model, int status,
                               Long input, Long output, String credits, String at) throws Exception {
        ps.setString(1, id);
        ps.setString(2, accountId);
        ps.setString(3, model);
        ps.setInt(4, status);
        if (input == null) {
            ps.setNull(5, Types.BIGINT);
        } else {
            ps.setLong(5, input);
        }
        if (output == null) {
            ps.setNull(6, Types.BIGINT);
        } else {
            ps.setLong(6, output);
        }
        ps.setBigDecimal(7, new BigDecimal(credits));
        ps.setString(8, at);
        ps.executeUpdate();
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    private static AdminTestServer.Response usage(String query) {
        return api.get(BASE + "/usage?" + query);
    }

    /** Each data row as "date model requests successful input output credits". */
    private static List<String> rows(AdminTestServer.Response r) {
        return r.json().path("data").valueStream().map(row -> String.join(" ",
                row.path("date").asText(), row.path("model").isNull() ? "null" : row.path("model").asText(),
                row.path("requests").asText(), row.path("successful_requests").asText(),
                row.path("input_tokens").asText(), row.path("output_tokens").asText(),
                row.path("credits").decimalValue().toPlainString())).toList();
    }

    @Test
    void totalsPerDayAndModel() {
        AdminTestServer.Response r = usage("account_id=" + account + "&from=2026-11-24&to=2026-11-26").assertStatus(200);

        assertThat(r.text("object")).isEqualTo("list");
        assertThat(rows(r)).containsExactly(
                "2026-11-24 demo-chat 2 2 15 25 0.00004",
                "2026-11-24 gpt-5 1 1 100 200 1.5",
                "2026-11-25 demo-chat 2 1 1 2 0.000003",
                "2026-11-25 null 1 0 0 0 0");
        JsonNode first = r.json().path("data").get(0);
        assertThat(first.properties()).extracting(Map.Entry::getKey).containsExactly(
                "date", "model", "requests", "successful_requests", "input_tokens", "output_tokens", "credits");
        assertThat(r.json().path("data").get(3).has("model")).isTrue();

        JsonNode totals = r.json().path("totals");
        assertThat(totals.properties()).extracting(Map.Entry::getKey).containsExactly(
                "requests", "successful_requests", "input_tokens", "output_tokens", "credits");
        assertThat(totals.path("requests").asLong()).isEqualTo(6);
        assertThat(totals.path("successful_requests").asLong()).isEqualTo(4);
        assertThat(totals.path("input_tokens").asLong()).isEqualTo(116);
        assertThat(totals.path("output_tokens").asLong()).isEqualTo(227);
        // Exact and plain: no float rounding, no exponent, no trailing zeros.
        assertThat(r.raw()).contains("\"credits\":0.00004}").contains("\"credits\":0.000003}")
                .endsWith("\"credits\":1.500043}}");
    }

    @Test
    void instantsBoundTheRangeFromInclusiveToExclusive() {
        assertThat(rows(usage("account_id=" + account + "&from=2026-11-24T12:00:00Z&to=2026-11-25T10:00:00Z")))
                .containsExactly(
                        "2026-11-24 demo-chat 1 1 5 5 0.00001",
                        "2026-11-24 gpt-5 1 1 100 200 1.5",
                        "2026-11-25 demo-chat 1 0 0 0 0");
        // An offset, percent-encoded or as the space an unencoded '+' becomes: 2026-11-26T00:00Z both.
        assertThat(rows(usage("account_id=" + account + "&from=2026-11-26T02:00:00%2B02:00&to=2026-11-27")))
                .containsExactly("2026-11-26 demo-chat 1 1 1000 1000 9");
        assertThat(rows(usage("account_id=" + account + "&from=2026-11-26T02:00:00+02:00&to=2026-11-27")))
                .containsExactly("2026-11-26 demo-chat 1 1 1000 1000 9");
        assertThat(rows(usage("account_id=" + account + "&from=2026-11-25&to=2026-11-25"))).isEmpty();
    }

    @Test
    void defaultsToTheLast30DaysUpToNow() {
        AdminTestServer.Response r = usage("account_id=" + recent).assertStatus(200);

        assertThat(r.json().path("data").valueStream().map(row -> row.path("model").asText())).containsOnly("recent");
        assertThat(r.json().path("totals").path("requests").asLong()).isEqualTo(2);
        assertThat(r.json().path("totals").path("credits").decimalValue()).isEqualByComparingTo("0.75");
    }

    @Test
    void toAloneStarts30DaysBeforeIt() {
        assertThat(rows(usage("account_id=" + account + "&to=2026-11-24")))
                .containsExactly("2026-10-25 demo-chat 1 1 3 4 0.1");
    }

    @Test
    void anAccountWithoutRequestsHasEmptyTotals() {
        AdminTestServer.Response r = usage("account_id=" + idle + "&from=2026-11-24&to=2026-11-26").assertStatus(200);

        assertThat(r.json().path("data").isArray()).isTrue();
        assertThat(r.json().path("data").isEmpty()).isTrue();
        assertThat(r.raw()).endsWith("\"totals\":{\"requests\":0,\"successful_requests\":0,\"input_tokens\":0,"
                + "\"output_tokens\":0,\"credits\":0}}");
    }

    @Test
    void refusesAMissingAccountOrABadRange() {
        assertThat(api.get(BASE + "/usage").assertError(400, "invalid_request").errorMessage()).contains("account_id");
        assertThat(usage("account_id=").assertError(400, "invalid_request").errorMessage()).contains("account_id");
        assertThat(usage("account_id=" + account + "&from=yesterday").assertError(400, "invalid_request").errorMessage())
                .contains("'from'");
        assertThat(usage("account_id=" + account + "&to=2026-11-25T10:00:00").assertError(400, "invalid_request")
                .errorMessage()).contains("'to'");
        assertThat(usage("account_id=" + account + "&from=2026-02-30").assertError(400, "invalid_request")
                .errorMessage()).contains("'from'");
        assertThat(usage("account_id=" + account + "&from=2026-11-26&to=2026-11-25").assertError(400, "invalid_request")
                .errorMessage()).contains("'from'", "after", "'to'");
        // From now: a future "from" is after the default "to"; one from 2020 spans more than 366 days.
        usage("account_id=" + account + "&from=2999-01-01").assertError(400, "invalid_request");
        usage("account_id=" + account + "&from=2020-01-01").assertError(400, "invalid_request");
    }

    @Test
    void spansAtMost366Days() {
        usage("account_id=" + account + "&from=2024-01-01&to=2025-01-01").assertStatus(200);
        assertThat(usage("account_id=" + account + "&from=2025-01-01&to=2026-01-03").assertError(400, "invalid_request")
                .errorMessage()).contains("366 days");
        usage("account_id=" + account + "&from=2025-01-01T00:00:00Z&to=2026-01-02T00:00:00.000001Z")
                .assertError(400, "invalid_request");
    }

    @Test
    void anUnknownAccountIsNotFound() {
        assertThat(usage("account_id=acct_nope&from=2026-11-24&to=2026-11-26").assertError(404, "not_found")
                .errorMessage()).contains("acct_nope");
    }

    @Test
    void needsTheAdminToken() {
        api.call("GET", BASE + "/usage?account_id=" + account, null, null).assertError(401, "invalid_admin_token");
        api.call("GET", BASE + "/usage?account_id=" + account, null, "Bearer wrong").assertError(401, "invalid_admin_token");
    }
}
