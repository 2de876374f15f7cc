package io.tollgate.admin;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

import static io.tollgate.admin.AdminTestServer.BASE;
import static io.tollgate.admin.AdminTestServer.json;
import static org.assertj.core.api.Assertions.assertThat;

class CreditApiTest {

    private static AdminTestServer api;

    @BeforeAll
    static void start() {
        api = AdminTestServer.start();
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    private static AdminTestServer.Response credit(String account, String body) {
        return api.post(BASE + "/accounts/" + account + "/credits", body);
    }

    private static BigDecimal balance(String account) {
        return api.get(BASE + "/accounts/" + account).decimal("balance");
    }

    @Test
    void aTopUpAnswers201WithTheEntryAndTheNewBalance() {
        String account = api.createAccount();

        AdminTestServer.Response first = credit(account, json("amount", new BigDecimal("10.25"), "reason", "welcome"))
                .assertStatus(201);
        AdminTestServer.Response second = credit(account, json("amount", 5)).assertStatus(201);

        assertThat(first.text("entry_id")).startsWith("le_");
        assertThat(first.raw()).contains("\"balance\":10.25");
        assertThat(second.decimal("balance")).isEqualByComparingTo("15.25");
        assertThat(first.json().properties()).extracting(java.util.Map.Entry::getKey)
                .containsExactlyInAnyOrder("entry_id", "balance");
        assertThat(balance(account)).isEqualByComparingTo("15.25");
    }

    @Test
    void aRepeatedIdempotencyKeyGivesTheSameAnswerAndChangesNothing() {
        String account = api.createAccount();
        String body = json("amount", 7, "idempotency_key", "invoice-42");

        AdminTestServer.Response first = credit(account, body).assertStatus(201);
        AdminTestServer.Response again = credit(account, body).assertStatus(201);
        AdminTestServer.Response other = credit(account, json("amount", 1, "idempotency_key", "invoice-43")).assertStatus(201);
        AdminTestServer.Response late = credit(account, body).assertStatus(201);

        assertThat(again.json()).isEqualTo(first.json());
        assertThat(late.json()).isEqualTo(first.json());
        assertThat(other.decimal("balance")).isEqualByComparingTo("8");
        assertThat(balance(account)).isEqualByComparingTo("8");
        assertThat(api.get(BASE + "/accounts/" + account + "/ledger").json().path("data")).hasSize(2);
    }

    @Test
    void amountsKeepEveryDecimalAndAreWrittenAsPlainNumbers() {
        String account = api.createAccount();

        credit(account, "{\"amount\": 12345678901234567890.000000000001}").assertStatus(201);
        AdminTestServer.Response r = credit(account, "{\"amount\": 1e-12}").assertStatus(201);

        assertThat(r.raw()).contains("\"balance\":12345678901234567890.000000000002");
        assertThat(api.get(BASE + "/accounts/" + account + "/ledger").raw())
                .contains("\"amount\":0.000000000001")
                .doesNotContainIgnoringCase("e-");
    }

    @Test
    void theAmountMustBeAPositiveNumber() {
        String account = api.createAccount();

        assertThat(credit(account, json()).assertError(400, "invalid_request").errorMessage()).contains("amount");
        assertThat(credit(account, json("amount", 0)).assertError(400, "invalid_request").errorMessage()).contains("amount");
        assertThat(credit(account, json("amount", -5)).assertError(400, "invalid_request").errorMessage()).contains("amount");
        assertThat(credit(account, json("amount", "10")).assertError(400, "invalid_request").errorMessage()).contains("amount");
        assertThat(credit(account, json("amount", null)).assertError(400, "invalid_request").errorMessage()).contains("amount");
        assertThat(credit(account, "{\"amount\": 0.0000000000001}").assertError(400, "invalid_request").errorMessage())
                .contains("amount").contains("decimal places");
        assertThat(credit(account, "{\"amount\": 1e30}").assertError(400, "invalid_request").errorMessage())
                .contains("amount");
        assertThat(credit(account, json("amount", 1, "reason", 5)).assertError(400, "invalid_request").errorMessage())
                .contains("reason");
        assertThat(credit(account, json("amount", 1, "idempotency_key", 5)).assertError(400, "invalid_request").errorMessage())
                .contains("idempotency_key");
        assertThat(balance(account)).isEqualByComparingTo("0");
    }

    @Test
    void theLedgerIsNewestFirstAndSumsToTheBalance() throws Exception {
        String account = api.createAccount();
        List<String> entries = new ArrayList<>();
        for (String amount : List.of("100", "0.5", "33.333333333333")) {
            entries.add(credit(account, "{\"amount\":" + amount + ",\"reason\":\"r" + amount + "\"}").text("entry_id"));
        }
        // A settlement as the proxy writes it: negative, with a request id.
        try (var c = api.sql(); var s = c.createStatement()) {
            s.executeUpdate("UPDATE accounts SET balance = balance - 1.5 WHERE id = '" + account + "'");
            s.executeUpdate("INSERT INTO ledger (entry_id, account_id, kind, amount, balance_after, request_id)"
                    + " VALUES ('le_settle', '" + account + "', 'settlement', -1.5, 132.333333333333, 'req_1')");
        }

        AdminTestServer.Response ledger = api.get(BASE + "/accounts/" + account + "/ledger").assertStatus(200);

        assertThat(ledger.text("object")).isEqualTo("list");
        JsonNode data = ledger.json().path("data");
        assertThat(data).hasSize(4);
        assertThat(data.get(0).path("entry_id").asText()).isEqualTo("le_settle");
        assertThat(data.get(0).path("kind").asText()).isEqualTo("settlement");
        assertThat(data.get(0).path("request_id").asText()).isEqualTo("req_1");
        assertThat(data.get(0).path("amount").decimalValue()).isEqualByComparingTo("-1.5");
        assertThat(data.get(1).path("entry_id").asText()).isEqualTo(entries.get(2));
        assertThat(data.get(1).path("kind").asText()).isEqualTo("topup");
        assertThat(data.get(1).path("reason").asText()).isEqualTo("r33.333333333333");
        assertThat(data.get(1).path("balance_after").decimalValue()).isEqualByComparingTo("133.833333333333");
        assertThat(data.get(3).path("entry_id").asText()).isEqualTo(entries.get(0));
        assertThat(data.get(3).has("created_at")).isTrue();

        BigDecimal sum = BigDecimal.ZERO;
        for (JsonNode entry : data) {
            sum = sum.add(entry.path("amount").decimalValue());
        }
        assertThat(sum).isEqualByComparingTo(balance(account)).isEqualByComparingTo("132.333333333333");
    }

    @Test
    void theLedgerHonoursItsLimit() {
        String account = api.createAccount();
        for (int i = 1; i <= 3; i++) {
            credit(account, json("amount", i)).assertStatus(201);
        }

        JsonNode data = api.get(BASE + "/accounts/" + account + "/ledger?limit=2").assertStatus(200).json().path("data");

        assertThat(data).hasSize(2);
        assertThat(data.get(0).path("amount").decimalValue()).isEqualByComparingTo("3");
        api.get(BASE + "/accounts/" + account + "/ledger?limit=0").assertError(400, "invalid_request");
    }
}
