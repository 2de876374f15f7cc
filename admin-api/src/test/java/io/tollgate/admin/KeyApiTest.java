package io.tollgate.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.schema.ApiKeySecrets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;

import static io.tollgate.admin.AdminTestServer.BASE;
import static io.tollgate.admin.AdminTestServer.json;
import static org.assertj.core.api.Assertions.assertThat;

class KeyApiTest {

    private static AdminTestServer api;

    @BeforeAll
    static void start() {
        api = AdminTestServer.start();
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    private static AdminTestServer.Response createKey(String account, String body) {
        return api.post(BASE + "/accounts/" + account + "/keys", body);
    }

    @Test
    void createAnswers201WithThePlaintextKeyOnce() throws Exception {
        String account = api.createAccount();

        AdminTestServer.Response created = createKey(account, json(
                "name", "ci", "models", List.of("gpt-5", "openai/gpt-4o"), "credit_limit", 25.5,
                "expires_at", "2031-02-03T04:05:06Z",
                "rate_limits", Map.of("general", 60, "image_poll", 900))).assertStatus(201);

        String key = created.text("key");
        String id = created.text("id");
        assertThat(id).startsWith("key_");
        assertThat(key).startsWith(ApiKeySecrets.KEY_PREFIX);
        assertThat(created.text("prefix")).isEqualTo(ApiKeySecrets.prefix(key));
        assertThat(created.text("name")).isEqualTo("ci");
        assertThat(created.text("status")).isEqualTo("active");
        assertThat(created.text("account_id")).isEqualTo(account);
        assertThat(created.json().path("models")).extracting(JsonNode::asText).containsExactly("gpt-5", "openai/gpt-4o");
        assertThat(created.raw()).contains("\"credit_limit\":25.5", "\"credit_used\":0");
        assertThat(created.text("expires_at")).isEqualTo("2031-02-03T04:05:06Z");
        assertThat(created.json().path("rate_limits").path("general").asInt()).isEqualTo(60);
        assertThat(created.json().path("rate_limits").path("image_submit").isNull()).isTrue();
        assertThat(created.json().path("rate_limits").path("image_poll").asInt()).isEqualTo(900);
        assertThat(created.json().properties()).extracting(Map.Entry::getKey).containsExactlyInAnyOrder(
                "id", "key", "prefix", "name", "status", "models", "credit_limit", "credit_used", "expires_at",
                "rate_limits", "created_at", "account_id");

        AdminTestServer.Response list = api.get(BASE + "/accounts/" + account + "/keys").assertStatus(200);
        assertThat(list.text("object")).isEqualTo("list");
        assertThat(list.json().path("data")).hasSize(1);
        JsonNode listed = list.json().path("data").get(0);
        assertThat(listed.has("key")).isFalse();
        assertThat(listed.path("id").asText()).isEqualTo(id);
        assertThat(list.raw()).doesNotContain(key);
        assertThat(api.get(BASE + "/keys/" + id).assertStatus(200).json().has("key")).isFalse();

        // Only the hash and the prefix are stored.
        try (var c = api.sql(); PreparedStatement ps = c.prepareStatement("SELECT * FROM api_keys WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString("key_hash")).isEqualTo(ApiKeySecrets.hash(key));
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    assertThat(String.valueOf(rs.getObject(i))).doesNotContain(key);
                }
            }
        }
    }

    @Test
    void anEmptyBodyMakesAKeyForEveryPublicModelWithoutLimits() {
        AdminTestServer.Response created = createKey(api.createAccount(), null).assertStatus(201);

        assertThat(created.json().path("models").isNull()).isTrue();
        assertThat(created.json().path("credit_limit").isNull()).isTrue();
        assertThat(created.json().path("expires_at").isNull()).isTrue();
        assertThat(created.json().path("name").isNull()).isTrue();
        assertThat(created.json().path("rate_limits").isObject()).isTrue();
    }

    @Test
    void listIsNewestFirst() {
        String account = api.createAccount();
        String first = createKey(account, json("name", "first")).text("id");
        String second = createKey(account, json("name", "second")).text("id");

        JsonNode data = api.get(BASE + "/accounts/" + account + "/keys").json().path("data");

        assertThat(data).extracting(k -> k.path("id").asText()).containsExactly(second, first);
    }

    @Test
    void aFourthActiveOrPausedKeyIsAConflict() {
        String account = api.createAccount();
        String a = createKey(account, json()).text("id");
        String b = createKey(account, json()).text("id");
        createKey(account, json()).assertStatus(201);
        api.patch(BASE + "/keys/" + b, json("status", "paused")).assertStatus(200);

        createKey(account, json()).assertError(409, "key_limit_reached");

        api.delete(BASE + "/keys/" + a).assertStatus(204);
        createKey(account, json()).assertStatus(201);
        createKey(account, json()).assertError(409, "key_limit_reached");
    }

    @Test
    void theLimitIsConfigurable() {
        try (AdminTestServer one = AdminTestServer.start(c ->
                new AdminServer.Config(c.host(), c.port(), c.adminToken(), c.tiers(), 1))) {
            String account = one.createAccount();
            one.post(BASE + "/accounts/" + account + "/keys", json()).assertStatus(201);
            one.post(BASE + "/accounts/" + account + "/keys", json()).assertError(409, "key_limit_reached");
        }
    }

    @Test
    void patchChangesFieldsAndNullClearsTheNullableOnes() {
        String id = createKey(api.createAccount(), json("name", "old", "models", List.of("a"), "credit_limit", 10,
                "expires_at", "2030-01-01T00:00:00+02:00", "rate_limits", Map.of("general", 5))).text("id");

        AdminTestServer.Response renamed = api.patch(BASE + "/keys/" + id, json("name", "new", "status", "paused"))
                .assertStatus(200);
        assertThat(renamed.text("name")).isEqualTo("new");
        assertThat(renamed.text("status")).isEqualTo("paused");
        assertThat(renamed.json().path("models")).hasSize(1);
        assertThat(renamed.text("expires_at")).isEqualTo("2029-12-31T22:00:00Z");
        assertThat(renamed.json().has("key")).isFalse();

        AdminTestServer.Response cleared = api.patch(BASE + "/keys/" + id,
                json("models", null, "credit_limit", null, "expires_at", null, "rate_limits", null)).assertStatus(200);
        assertThat(cleared.json().path("models").isNull()).isTrue();
        assertThat(cleared.json().path("credit_limit").isNull()).isTrue();
        assertThat(cleared.json().path("expires_at").isNull()).isTrue();
        assertThat(cleared.json().path("rate_limits").path("general").isNull()).isTrue();
        assertThat(cleared.text("name")).isEqualTo("new");

        AdminTestServer.Response set = api.patch(BASE + "/keys/" + id, json("status", "active", "models", List.of("b", "b", "c"),
                "credit_limit", 0, "rate_limits", Map.of("image_submit", 7))).assertStatus(200);
        assertThat(set.text("status")).isEqualTo("active");
        assertThat(set.json().path("models")).extracting(JsonNode::asText).containsExactly("b", "c");
        assertThat(set.raw()).contains("\"credit_limit\":0");
        assertThat(set.json().path("rate_limits").path("image_submit").asInt()).isEqualTo(7);
    }

    @Test
    void keyFieldsAreValidated() {
        String account = api.createAccount();

        assertThat(createKey(account, json("credit_limit", -1)).assertError(400, "invalid_request").errorMessage())
                .contains("credit_limit");
        assertThat(createKey(account, json("credit_limit", "5")).assertError(400, "invalid_request").errorMessage())
                .contains("credit_limit");
        assertThat(createKey(account, json("models", "gpt-5")).assertError(400, "invalid_request").errorMessage())
                .contains("models");
        assertThat(createKey(account, json("models", List.of("ok", 3))).assertError(400, "invalid_request").errorMessage())
                .contains("models[1]");
        assertThat(createKey(account, json("expires_at", "tomorrow")).assertError(400, "invalid_request").errorMessage())
                .contains("expires_at");
        assertThat(createKey(account, json("expires_at", 1700000000)).assertError(400, "invalid_request").errorMessage())
                .contains("expires_at");
        assertThat(createKey(account, json("rate_limits", 60)).assertError(400, "invalid_request").errorMessage())
                .contains("rate_limits");
        assertThat(createKey(account, json("rate_limits", Map.of("general", 0))).assertError(400, "invalid_request")
                .errorMessage()).contains("rate_limits.general");
        assertThat(createKey(account, json("rate_limits", Map.of("image_poll", 1.5))).assertError(400, "invalid_request")
                .errorMessage()).contains("rate_limits.image_poll");
        assertThat(createKey(account, json("name", List.of())).assertError(400, "invalid_request").errorMessage())
                .contains("name");
        assertThat(api.get(BASE + "/accounts/" + account + "/keys").json().path("data")).isEmpty();
    }

    @Test
    void patchRefusesRevokedAsAStatusAndNullsForNameAndStatus() {
        String id = createKey(api.createAccount(), json()).text("id");

        assertThat(api.patch(BASE + "/keys/" + id, json("status", "revoked")).assertError(400, "invalid_request")
                .errorMessage()).contains("status");
        api.patch(BASE + "/keys/" + id, json("status", "deleted")).assertError(400, "invalid_request");
        api.patch(BASE + "/keys/" + id, json("status", null)).assertError(400, "invalid_request");
        api.patch(BASE + "/keys/" + id, json("name", null)).assertError(400, "invalid_request");
        assertThat(api.get(BASE + "/keys/" + id).text("status")).isEqualTo("active");
    }

    @Test
    void deleteRevokesForGood() {
        String id = createKey(api.createAccount(), json()).text("id");

        AdminTestServer.Response deleted = api.delete(BASE + "/keys/" + id).assertStatus(204);
        assertThat(deleted.raw()).isEmpty();
        assertThat(deleted.headers().firstValue(HttpResponses.REQUEST_ID)).isPresent();

        assertThat(api.get(BASE + "/keys/" + id).text("status")).isEqualTo("revoked");
        api.patch(BASE + "/keys/" + id, json("status", "active")).assertError(409, "key_revoked");
        api.delete(BASE + "/keys/" + id).assertStatus(204);
    }

    @Test
    void unknownKeysAreNotFound() {
        api.get(BASE + "/keys/key_missing").assertError(404, "not_found");
        api.patch(BASE + "/keys/key_missing", json("name", "x")).assertError(404, "not_found");
        api.delete(BASE + "/keys/key_missing").assertError(404, "not_found");
    }
}
