package io.tollgate.proxy.mock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/** java.net.http against one {@link MockProvider}, plus the JSON the tests send and read. */
final class MockClient {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String KEY = "sk-test";

    /** Two messages: 3 + 4 and 5 + 4 prompt tokens. */
    static final String MESSAGES = "[{\"role\":\"system\",\"content\":\"You are terse.\"},"
            + "{\"role\":\"user\",\"content\":\"Say hello to the mock\"}]";
    static final long MESSAGES_PROMPT_TOKENS = 16;

    static final String CHAT = "{\"model\":\"gpt-test\",\"messages\":" + MESSAGES + "}";
    static final String STREAM = "{\"model\":\"gpt-test\",\"stream\":true,\"messages\":" + MESSAGES + "}";
    static final String STREAM_WITH_USAGE = "{\"model\":\"gpt-test\",\"stream\":true,"
            + "\"stream_options\":{\"include_usage\":true},\"messages\":" + MESSAGES + "}";

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final MockProvider mock;

    MockClient(MockProvider mock) {
        this.mock = mock;
    }

    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mock.port() + path))
                .timeout(Duration.ofSeconds(10));
    }

    HttpRequest.Builder chatRequest(String body, String... headers) {
        HttpRequest.Builder builder = request("/v1/chat/completions")
                .header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            builder.headers(headers);
        }
        return builder;
    }

    HttpResponse<String> chat(String body, String... headers) throws IOException, InterruptedException {
        return send(chatRequest(body, headers).build());
    }

    HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** Returns once the head is in; the lines arrive as the mock writes them. */
    HttpResponse<Stream<String>> stream(String body, String... headers) throws IOException, InterruptedException {
        return http.send(chatRequest(body, headers).build(), HttpResponse.BodyHandlers.ofLines());
    }

    /** The {@code data:} payloads of a whole SSE body. */
    static List<String> events(String sse) {
        return events(sse.lines());
    }

    static List<String> events(Stream<String> lines) {
        return lines.filter(line -> line.startsWith("data: ")).map(line -> line.substring(6)).toList();
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
