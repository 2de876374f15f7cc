package io.tollgate.admin;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Set;

import static io.tollgate.admin.AdminTestServer.BASE;
import static io.tollgate.admin.AdminTestServer.json;
import static org.assertj.core.api.Assertions.assertThat;

class AccountApiTest {

    private static AdminTestServer api;

    @BeforeAll
    static void start() {
        api = AdminTestServer.start();
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    @Test
    void createAnswers201WithTheAccount() {
        AdminTestServer.Response r = api.post(BASE + "/accounts", json("name", "Acme", "tier", "max")).assertStatus(201);

        assertThat(r.text("id")).startsWith("acct_");
        assertThat(r.text("name")).isEqualTo("Acme");
        assertThat(r.text("tier")).isEqualTo("max");
        assertThat(r.text("status")).isEqualTo("active");
        assertThat(r.raw()).contains("\"balance\":0");
        assertThat(Instant.parse(r.text("created_at"))).isBefore(Instant.now().plusSeconds(60));
        assertThat(r.json().properties()).extracting(java.util.Map.Entry::getKey)
                .containsExactlyInAnyOrder("id", "name", "tier", "status", "balance", "created_at");
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
    }

    @Test
    void getReadsTheAccount() {
        String id = api.createAccount();

        AdminTestServer.Response r = api.get(BASE + "/accounts/" + id).assertStatus(200);

        assertThat(r.text("id")).isEqualTo(id);
        assertThat(r.text("tier")).isEqualTo("pro");
    }

    @Test
    void patchChangesOnlyTheGivenFields() {
        String id = api.createAccount();

        AdminTestServer.Response renamed = api.patch(BASE + "/accounts/" + id, json("name", "Acme Inc")).assertStatus(200);
        assertThat(renamed.text("name")).isEqualTo("Acme Inc");
        assertThat(renamed.text("tier")).isEqualTo("pro");

        AdminTestServer.Response changed = api.patch(BASE + "/accounts/" + id, json("tier", "max", "status", "disabled"))
                .assertStatus(200);
        assertThat(changed.text("name")).isEqualTo("Acme Inc");
        assertThat(changed.text("tier")).isEqualTo("max");
        assertThat(changed.text("status")).isEqualTo("disabled");
        assertThat(api.get(BASE + "/accounts/" + id).text("status")).isEqualTo("disabled");
    }

    @Test
    void createRefusesMissingOrWrongFields() {
        assertThat(api.post(BASE + "/accounts", json("tier", "pro")).assertError(400, "invalid_request").errorMessage())
                .contains("name").contains("required");
        assertThat(api.post(BASE + "/accounts", json("name", "Acme")).assertError(400, "invalid_request").errorMessage())
                .contains("tier");
        assertThat(api.post(BASE + "/accounts", json("name", "Acme", "tier", "gold"))
                .assertError(400, "invalid_request").errorMessage()).contains("tier").contains("max").contains("pro");
        assertThat(api.post(BASE + "/accounts", json("name", 42, "tier", "pro"))
                .assertError(400, "invalid_request").errorMessage()).contains("name").contains("string");
        assertThat(api.post(BASE + "/accounts", json("name", " ", "tier", "pro"))
                .assertError(400, "invalid_request").errorMessage()).contains("name");
        assertThat(api.post(BASE + "/accounts", json("name", null, "tier", "pro"))
                .assertError(400, "invalid_request").errorMessage()).contains("name");
        assertThat(api.post(BASE + "/accounts", json("name", "x".repeat(201), "tier", "pro"))
                .assertError(400, "invalid_request").errorMessage()).contains("name");
    }

    @Test
    void malformedBodiesAreInvalidRequests() {
        api.post(BASE + "/accounts", "{\"name\": ").assertError(400, "invalid_request");
        api.post(BASE + "/accounts", "[1, 2]").assertError(400, "invalid_request");
        api.post(BASE + "/accounts", "{\"name\":\"a\",\"tier\":\"pro\"} trailing").assertError(400, "invalid_request");
        api.post(BASE + "/accounts", "{\"name\":\"a\",\"name\":\"b\",\"tier\":\"pro\"}").assertError(400, "invalid_request");
        api.post(BASE + "/accounts", null).assertError(400, "invalid_request");
    }

    @Test
    void patchRefusesBadValues() {
        String id = api.createAccount();

        assertThat(api.patch(BASE + "/accounts/" + id, json("status", "deleted"))
                .assertError(400, "invalid_request").errorMessage()).contains("status");
        assertThat(api.patch(BASE + "/accounts/" + id, json("tier", "free"))
                .assertError(400, "invalid_request").errorMessage()).contains("tier");
        assertThat(api.patch(BASE + "/accounts/" + id, json("name", null))
                .assertError(400, "invalid_request").errorMessage()).contains("name").contains("null");
        assertThat(api.patch(BASE + "/accounts/" + id, json("status", true))
                .assertError(400, "invalid_request").errorMessage()).contains("status");
        assertThat(api.get(BASE + "/accounts/" + id).text("status")).isEqualTo("active");
    }

    @Test
    void unknownAccountsAreNotFound() {
        api.get(BASE + "/accounts/acct_missing").assertError(404, "not_found");
        api.patch(BASE + "/accounts/acct_missing", json("name", "x")).assertError(404, "not_found");
        api.post(BASE + "/accounts/acct_missing/credits", json("amount", 1)).assertError(404, "not_found");
        api.get(BASE + "/accounts/acct_missing/ledger").assertError(404, "not_found");
        api.post(BASE + "/accounts/acct_missing/keys", json()).assertError(404, "not_found");
        api.get(BASE + "/accounts/acct_missing/keys").assertError(404, "not_found");
    }

    @Test
    void configuredTiersAreAcceptedBesidesProAndMax() {
        try (AdminTestServer custom = AdminTestServer.start(c ->
                new AdminServer.Config(c.host(), c.port(), c.adminToken(), Set.of("enterprise")))) {
            custom.post(BASE + "/accounts", json("name", "Big", "tier", "enterprise")).assertStatus(201);
            custom.post(BASE + "/accounts", json("name", "Small", "tier", "pro")).assertStatus(201);
            custom.post(BASE + "/accounts", json("name", "Nope", "tier", "gold")).assertError(400, "invalid_request");
        }
        api.post(BASE + "/accounts", json("name", "Big", "tier", "enterprise")).assertError(400, "invalid_request");
    }
}
