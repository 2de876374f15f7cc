package io.tollgate.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.tollgate.schema.TestDatabase;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One admin server on port 0 over a fresh database, and a JDK HttpClient that calls it:
 * the fixture every admin API test class starts once and closes after its tests.
 */
final class AdminTestServer implements AutoCloseable {

    static final String TOKEN = "test-admin-token-0123456789";
    static final String BASE = "/admin/v1";

    /** Reads numbers as BigDecimal, so tests see exactly what was written. */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .build();

    private final TestDatabase db;
    private final AdminServer server;
    private final HttpClient http;

    private AdminTestServer(TestDatabase db, AdminServer server) {
        this.db = db;
        this.server = server;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    static AdminTestServer start() {
        return start(UnaryOperator.identity());
    }

    /** @param config adjusts the default configuration (token {@link #TOKEN}, port 0) */
    static AdminTestServer start(UnaryOperator<AdminServer.Config> config) {
        TestDatabase db = TestDatabase.create();
        try {
            AdminServer server = AdminServer.start(config.apply(new AdminServer.Config("127.0.0.1", 0, TOKEN)), db.database());
            return new AdminTestServer(db, server);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    int port() {
        return server.port();
    }

    TestDatabase db() {
        return db;
    }

    Connection sql() throws SQLException {
        return DriverManager.getConnection(db.url());
    }

    /** One HTTP answer: status, headers, raw text and the parsed JSON (null when there is no body). */
    record Response(int status, HttpHeaders headers, String raw, JsonNode json) {

        String errorCode() {
            return json.path("error").path("code").asText(null);
        }

        String errorMessage() {
            return json.path("error").path("message").asText(null);
        }

        String text(String field) {
            return json.path(field).asText(null);
        }

        BigDecimal decimal(String field) {
            return json.path(field).decimalValue();
        }

        /** Asserts a refusal in the error format and returns it for more checks. */
        Response assertError(int expectedStatus, String expectedCode) {
            assertThat(status).as("status of %s", raw).isEqualTo(expectedStatus);
            assertThat(json.path("error").path("code").asText()).as("code of %s", raw).isEqualTo(expectedCode);
            assertThat(json.path("error").path("type").isTextual()).as("type of %s", raw).isTrue();
            assertThat(json.path("error").path("message").isTextual()).as("message of %s", raw).isTrue();
            return this;
        }

        Response assertStatus(int expectedStatus) {
            assertThat(status).as("status of %s", raw).isEqualTo(expectedStatus);
            return this;
        }
    }

    Response get(String path) {
        return call("GET", path, null);
    }

    Response post(String path, String body) {
        return call("POST", path, body);
    }

    Response put(String path, String body) {
        return call("PUT", path, body);
    }

    Response patch(String path, String body) {
        return call("PATCH", path, body);
    }

    Response delete(String path) {
        return call("DELETE", path, null);
    }

    Response call(String method, String path, String body) {
        return call(method, path, body, "Bearer " + TOKEN);
    }

    /** @param authorization the Authorization header, or null to send none */
    Response call(String method, String path, String body, String authorization) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            String raw = response.body();
            JsonNode json = raw.isEmpty() ? null : JSON.readTree(raw);
            return new Response(response.statusCode(), response.headers(), raw, json);
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(method + " " + path + " interrupted", e);
        }
    }

    /** A JSON object from alternating names and values; values may be null, maps or lists. */
    static String json(Object... namesAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        try {
            return JSON.writeValueAsString(map);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    // Shortcuts for the setup most tests need.

    String createAccount() {
        return post(BASE + "/accounts", json("name", "Acme", "tier", "pro")).assertStatus(201).text("id");
    }

    String createUpstream() {
        return post(BASE + "/upstreams", json("name", "mock", "provider", "mock", "base_url", "http://127.0.0.1:9/v1"))
                .assertStatus(201).text("id");
    }

    /** A text model served by {@code upstreamId}. */
    static String textModel(String upstreamId) {
        return json("display_name", "Test model", "category", "text", "capabilities", List.of("chat"),
                "routes", List.of(Map.of("upstream_id", upstreamId, "upstream_model", "m")),
                "pricing", Map.of("input_per_1m", 1, "output_per_1m", 2));
    }

    @Override
    public void close() {
        try {
            server.close();
        } finally {
            db.close();
        }
    }
}
