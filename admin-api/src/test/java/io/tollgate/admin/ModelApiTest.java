package io.tollgate.admin;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static io.tollgate.admin.AdminTestServer.BASE;
import static io.tollgate.admin.AdminTestServer.json;
import static org.assertj.core.api.Assertions.assertThat;

class ModelApiTest {

    private static AdminTestServer api;
    private static String upstream;
    private static String other;

    @BeforeAll
    static void start() {
        api = AdminTestServer.start();
        upstream = api.createUpstream();
        other = api.createUpstream();
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    @Test
    void putCreatesWith201ThenReplacesWith200() {
        AdminTestServer.Response created = api.put(BASE + "/models/openai/gpt-5", json(
                "display_name", "GPT-5", "category", "text", "capabilities", List.of("chat", "tools"),
                "routes", List.of(Map.of("upstream_id", upstream, "upstream_model", "gpt-5-2025"),
                        Map.of("upstream_id", other, "upstream_model", "gpt-5")),
                "pricing", Map.of("input_per_1m", 1.25, "output_per_1m", 10),
                "max_output_tokens", 128000, "enabled", true, "public", true)).assertStatus(201);

        assertThat(created.text("id")).isEqualTo("openai/gpt-5");
        assertThat(created.text("object")).isEqualTo("model");
        assertThat(created.text("display_name")).isEqualTo("GPT-5");
        assertThat(created.text("category")).isEqualTo("text");
        assertThat(created.json().path("capabilities")).extracting(JsonNode::asText).containsExactly("chat", "tools");
        assertThat(created.json().path("routes")).hasSize(2);
        assertThat(created.json().path("routes").get(0).path("upstream_id").asText()).isEqualTo(upstream);
        assertThat(created.json().path("routes").get(0).path("upstream_model").asText()).isEqualTo("gpt-5-2025");
        assertThat(created.json().path("routes").get(1).path("upstream_id").asText()).isEqualTo(other);
        assertThat(created.raw()).contains("\"input_per_1m\":1.25", "\"output_per_1m\":10", "\"per_request\":null",
                "\"per_image\":null", "\"per_second\":null");
        assertThat(created.json().path("max_output_tokens").asInt()).isEqualTo(128000);
        assertThat(created.json().path("enabled").asBoolean()).isTrue();
        assertThat(created.json().path("public").asBoolean()).isTrue();
        assertThat(created.json().path("video_resolutions").isNull()).isTrue();
        assertThat(created.json().properties()).extracting(Map.Entry::getKey).containsExactlyInAnyOrder(
                "id", "object", "display_name", "category", "capabilities", "routes", "pricing", "max_output_tokens",
                "enabled", "public", "video_resolutions", "created_at", "updated_at");

        AdminTestServer.Response replaced = api.put(BASE + "/models/openai/gpt-5", json(
                "display_name", "GPT-5 (private)", "category", "text", "capabilities", List.of(),
                "routes", List.of(Map.of("upstream_id", other, "upstream_model", "x")),
                "pricing", Map.of("per_request", 0.002), "enabled", false, "public", false)).assertStatus(200);

        assertThat(replaced.text("display_name")).isEqualTo("GPT-5 (private)");
        assertThat(replaced.json().path("routes")).hasSize(1);
        assertThat(replaced.raw()).contains("\"per_request\":0.002", "\"input_per_1m\":null");
        assertThat(replaced.json().path("max_output_tokens").isNull()).isTrue();
        assertThat(replaced.json().path("enabled").asBoolean()).isFalse();
        assertThat(replaced.json().path("public").asBoolean()).isFalse();
        assertThat(replaced.text("created_at")).isEqualTo(created.text("created_at"));
        assertThat(Instant.parse(replaced.text("updated_at"))).isAfterOrEqualTo(Instant.parse(created.text("updated_at")));

        AdminTestServer.Response read = api.get(BASE + "/models/openai/gpt-5").assertStatus(200);
        assertThat(read.json()).isEqualTo(replaced.json());
    }

    @Test
    void optionalFieldsDefault() {
        AdminTestServer.Response created = api.put(BASE + "/models/video-1", json(
                "category", "video", "routes", List.of(Map.of("upstream_id", upstream, "upstream_model", "v")),
                "pricing", Map.of("per_second", 0.05), "video_resolutions", List.of("720p", "1080p"))).assertStatus(201);

        assertThat(created.text("display_name")).isEqualTo("video-1");
        assertThat(created.json().path("capabilities")).isEmpty();
        assertThat(created.json().path("enabled").asBoolean()).isTrue();
        assertThat(created.json().path("public").asBoolean()).isTrue();
        assertThat(created.json().path("video_resolutions")).extracting(JsonNode::asText).containsExactly("720p", "1080p");
    }

    @Test
    void idsWithSlashesWorkPlainAndPercentEncoded() {
        api.put(BASE + "/models/org/team/model-1", AdminTestServer.textModel(upstream)).assertStatus(201);

        assertThat(api.get(BASE + "/models/org/team/model-1").text("id")).isEqualTo("org/team/model-1");
        assertThat(api.get(BASE + "/models/org%2Fteam%2Fmodel-1").text("id")).isEqualTo("org/team/model-1");
        api.put(BASE + "/models/org%2Fteam/model-1", AdminTestServer.textModel(upstream)).assertStatus(200);
        api.get(BASE + "/models/org/team").assertError(404, "not_found");
        api.get(BASE + "/models/org/team/model-1/").assertError(404, "not_found");
    }

    @Test
    void listIsOrderedByIdAndDeleteRemoves() {
        api.put(BASE + "/models/zz-list", AdminTestServer.textModel(upstream)).assertStatus(201);
        api.put(BASE + "/models/aa-list", AdminTestServer.textModel(upstream)).assertStatus(201);

        AdminTestServer.Response list = api.get(BASE + "/models").assertStatus(200);
        assertThat(list.text("object")).isEqualTo("list");
        List<String> ids = list.json().path("data").valueStream().map(m -> m.path("id").asText()).toList();
        assertThat(ids).isSorted().contains("aa-list", "zz-list");
        assertThat(list.json().path("data").get(0).path("object").asText()).isEqualTo("model");

        api.delete(BASE + "/models/zz-list").assertStatus(204);
        api.get(BASE + "/models/zz-list").assertError(404, "not_found");
        api.delete(BASE + "/models/zz-list").assertError(404, "not_found");
        assertThat(api.get(BASE + "/models").json().path("data")).extracting(m -> m.path("id").asText())
                .doesNotContain("zz-list");
    }

    @Test
    void everyRouteMustNameAnExistingUpstream() {
        String body = json("category", "text", "pricing", Map.of(), "routes", List.of(
                Map.of("upstream_id", upstream, "upstream_model", "a"),
                Map.of("upstream_id", "ups_missing", "upstream_model", "b")));

        assertThat(api.put(BASE + "/models/bad-route", body).assertError(400, "invalid_request").errorMessage())
                .contains("routes[1].upstream_id").contains("ups_missing");
        api.get(BASE + "/models/bad-route").assertError(404, "not_found");
    }

    @Test
    void fieldsAreValidated() {
        Map<String, Object> route = Map.of("upstream_id", upstream, "upstream_model", "m");
        expectInvalid(json("category", "audio", "routes", List.of(route), "pricing", Map.of()), "category");
        expectInvalid(json("routes", List.of(route), "pricing", Map.of()), "category");
        expectInvalid(json("category", "text", "pricing", Map.of()), "routes");
        expectInvalid(json("category", "text", "routes", List.of(route)), "pricing");
        expectInvalid(json("category", "text", "routes", route, "pricing", Map.of()), "routes");
        expectInvalid(json("category", "text", "routes", List.of(Map.of("upstream_id", upstream)), "pricing", Map.of()),
                "routes[0].upstream_model");
        expectInvalid(json("category", "text", "routes", List.of("x"), "pricing", Map.of()), "routes[0]");
        expectInvalid(json("category", "text", "routes", List.of(route), "pricing", Map.of("per_request", -1)),
                "pricing.per_request");
        expectInvalid(json("category", "text", "routes", List.of(route), "pricing", Map.of("per_image", "1")),
                "pricing.per_image");
        expectInvalid(json("category", "text", "routes", List.of(route), "pricing", Map.of(), "max_output_tokens", 0),
                "max_output_tokens");
        expectInvalid(json("category", "text", "routes", List.of(route), "pricing", Map.of(), "enabled", "true"),
                "enabled");
        expectInvalid(json("category", "text", "routes", List.of(route), "pricing", Map.of(), "public", 1), "public");
        expectInvalid(json("category", "text", "routes", List.of(route), "pricing", Map.of(), "capabilities", "chat"),
                "capabilities");
        expectInvalid(json("category", "text", "routes", List.of(route), "pricing", Map.of(),
                "video_resolutions", List.of(720)), "video_resolutions[0]");
        api.put(BASE + "/models/has%20space", json("category", "text", "routes", List.of(route), "pricing", Map.of()))
                .assertError(400, "invalid_request");
        api.get(BASE + "/models/never-valid").assertError(404, "not_found");
    }

    private static void expectInvalid(String body, String field) {
        assertThat(api.put(BASE + "/models/never-valid", body).assertError(400, "invalid_request").errorMessage())
                .contains("'" + field + "'");
    }
}
