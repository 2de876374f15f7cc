package io.tollgate.proxy;

import io.tollgate.proxy.mock.RawHttp;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Asserts the one error shape of SPEC section 2: {"error":{"message","type","code"}} plus X-Request-Id. */
final class ApiErrors {

    static final ObjectMapper JSON = new ObjectMapper();

    private ApiErrors() {
    }

    static JsonNode assertError(HttpResponse<String> r, int status, String code, String type) {
        assertThat(r.headers().firstValue("x-request-id")).as("X-Request-Id of a %d", status)
                .hasValueSatisfying(id -> assertThat(id).startsWith("req_"));
        return assertError(r.statusCode(), r.body(), status, code, type);
    }

    static JsonNode assertError(RawHttp.Response r, int status, String code, String type) {
        assertThat(r.header("x-request-id")).as("X-Request-Id of a %d", status).isNotNull().startsWith("req_");
        assertThat(r.header("content-type")).startsWith("application/json");
        return assertError(r.status(), r.bodyUtf8(), status, code, type);
    }

    private static JsonNode assertError(int actualStatus, String body, int status, String code, String type) {
        assertThat(actualStatus).as("status; body %s", body).isEqualTo(status);
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException("error body is not JSON: " + body, e);
        }
        assertThat(fieldNames(root)).as(body).containsExactly("error");
        JsonNode error = root.get("error");
        assertThat(fieldNames(error)).as(body).containsExactlyInAnyOrder("message", "type", "code");
        assertThat(error.get("message").isTextual() && !error.get("message").asText().isBlank()).as(body).isTrue();
        assertThat(error.get("code").asText()).as(body).isEqualTo(code);
        assertThat(error.get("type").asText()).as(body).isEqualTo(type);
        return error;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
