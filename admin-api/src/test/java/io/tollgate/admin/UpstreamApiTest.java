package io.tollgate.admin;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.tollgate.admin.AdminTestServer.BASE;
import static io.tollgate.admin.AdminTestServer.json;
import static org.assertj.core.api.Assertions.assertThat;

class UpstreamApiTest {

    private static final String SECRET = "sk-upstream-secret-WXYZ";

    private static AdminTestServer api;

    @BeforeAll
    static void start() {
        api = AdminTestServer.start();
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    private static AdminTestServer.Response create(String body) {
        return api.post(BASE + "/upstreams", body);
    }

    private static String openai() {
        return json("name", "openai-main", "provider", "openai", "base_url", "https://api.openai.com/v1/",
                "api_key", SECRET, "weight", 3, "priority", 1);
    }

    @Test
    void createAnswers201AndNeverReturnsTheApiKey() {
        AdminTestServer.Response created = create(openai()).assertStatus(201);

        String id = created.text("id");
        assertThat(id).startsWith("ups_");
        assertThat(created.text("name")).isEqualTo("openai-main");
        assertThat(created.text("provider")).isEqualTo("openai");
        assertThat(created.text("base_url")).isEqualTo("https://api.openai.com/v1");
        assertThat(created.text("api_key_last4")).isEqualTo("WXYZ");
        assertThat(created.json().path("weight").asInt()).isEqualTo(3);
        assertThat(created.json().path("priority").asInt()).isEqualTo(1);
        assertThat(created.json().path("enabled").asBoolean()).isTrue();
        assertThat(created.json().properties()).extracting(Map.Entry::getKey).containsExactlyInAnyOrder(
                "id", "name", "provider", "base_url", "api_key_last4", "weight", "priority", "enabled", "created_at");
        assertThat(created.raw()).doesNotContain(SECRET);

        AdminTestServer.Response list = api.get(BASE + "/upstreams").assertStatus(200);
        assertThat(list.text("object")).isEqualTo("list");
        assertThat(list.json().path("data")).extracting(u -> u.path("id").asText()).contains(id);
        assertThat(list.raw()).doesNotContain(SECRET).doesNotContain("\"api_key\"");
        assertThat(api.get(BASE + "/upstreams/" + id).assertStatus(200).raw()).doesNotContain(SECRET);
    }

    @Test
    void defaultsAndTheMockProviderNeedNoKey() {
        AdminTestServer.Response created = create(json("name", "m", "provider", "mock", "base_url", "http://localhost:8000/v1"))
                .assertStatus(201);

        assertThat(created.json().path("weight").asInt()).isEqualTo(1);
        assertThat(created.json().path("priority").asInt()).isZero();
        assertThat(created.json().path("enabled").asBoolean()).isTrue();
        assertThat(created.text("api_key_last4")).isEmpty();
    }

    @Test
    void patchChangesOnlyTheGivenFields() {
        String id = create(openai()).text("id");

        AdminTestServer.Response patched = api.patch(BASE + "/upstreams/" + id,
                json("enabled", false, "api_key", "sk-new-key-1234", "weight", 0)).assertStatus(200);

        assertThat(patched.json().path("enabled").asBoolean()).isFalse();
        assertThat(patched.text("api_key_last4")).isEqualTo("1234");
        assertThat(patched.json().path("weight").asInt()).isZero();
        assertThat(patched.text("name")).isEqualTo("openai-main");
        assertThat(patched.text("base_url")).isEqualTo("https://api.openai.com/v1");

        AdminTestServer.Response moved = api.patch(BASE + "/upstreams/" + id,
                json("provider", "anthropic", "base_url", "https://api.anthropic.com/v1", "name", "claude")).assertStatus(200);
        assertThat(moved.text("provider")).isEqualTo("anthropic");
        assertThat(moved.text("base_url")).isEqualTo("https://api.anthropic.com/v1");
        assertThat(moved.text("name")).isEqualTo("claude");
        assertThat(moved.json().path("enabled").asBoolean()).isFalse();
    }

    @Test
    void fieldsAreValidated() {
        create(json("provider", "openai", "base_url", "https://x/v1", "api_key", "k"))
                .assertError(400, "invalid_request");
        assertThat(create(json("name", "n", "provider", "deepseek", "base_url", "https://x/v1", "api_key", "k"))
                .assertError(400, "invalid_request").errorMessage()).contains("provider");
        for (String url : new String[]{"ftp://x/v1", "api.openai.com/v1", "https://", "https://x/v1?key=1",
                "https://user:pw@x/v1", "not a url"}) {
            assertThat(create(json("name", "n", "provider", "mock", "base_url", url))
                    .assertError(400, "invalid_request").errorMessage()).as(url).contains("base_url");
        }
        assertThat(create(json("name", "n", "provider", "openai", "base_url", "https://x/v1"))
                .assertError(400, "invalid_request").errorMessage()).contains("api_key");
        assertThat(create(json("name", "n", "provider", "mock", "base_url", "https://x/v1", "weight", -1))
                .assertError(400, "invalid_request").errorMessage()).contains("weight");
        assertThat(create(json("name", "n", "provider", "mock", "base_url", "https://x/v1", "enabled", "yes"))
                .assertError(400, "invalid_request").errorMessage()).contains("enabled");
        assertThat(create(json("name", "n", "provider", "mock", "base_url", "https://x/v1", "priority", "high"))
                .assertError(400, "invalid_request").errorMessage()).contains("priority");

        String id = create(openai()).text("id");
        api.patch(BASE + "/upstreams/" + id, json("base_url", "gopher://x")).assertError(400, "invalid_request");
        api.patch(BASE + "/upstreams/" + id, json("api_key", null)).assertError(400, "invalid_request");
        api.patch(BASE + "/upstreams/" + id, json("provider", "azure")).assertError(400, "invalid_request");
    }

    @Test
    void anUpstreamAModelRoutesToCannotBeDeleted() {
        String id = create(openai()).text("id");
        api.put(BASE + "/models/uses-it", AdminTestServer.textModel(id)).assertStatus(201);

        assertThat(api.delete(BASE + "/upstreams/" + id).assertError(409, "upstream_in_use").errorMessage())
                .contains("uses-it");
        api.get(BASE + "/upstreams/" + id).assertStatus(200);

        api.delete(BASE + "/models/uses-it").assertStatus(204);
        api.delete(BASE + "/upstreams/" + id).assertStatus(204);
        api.get(BASE + "/upstreams/" + id).assertError(404, "not_found");
        JsonNode data = api.get(BASE + "/upstreams").json().path("data");
        assertThat(data).extracting(u -> u.path("id").asText()).doesNotContain(id);
    }

    @Test
    void unknownUpstreamsAreNotFound() {
        api.get(BASE + "/upstreams/ups_missing").assertError(404, "not_found");
        api.patch(BASE + "/upstreams/ups_missing", json("name", "x")).assertError(404, "not_found");
        api.delete(BASE + "/upstreams/ups_missing").assertError(404, "not_found");
    }
}
