package io.tollgate.proxy.mock;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static io.tollgate.proxy.mock.MockClient.CHAT;
import static io.tollgate.proxy.mock.MockClient.MESSAGES;
import static io.tollgate.proxy.mock.MockClient.MESSAGES_PROMPT_TOKENS;
import static io.tollgate.proxy.mock.MockClient.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

/** Non-streamed chat, models, routing, auth and validation, over real loopback sockets. */
class MockProviderChatTest extends RunningMockTest {

    @Test
    void answersAChatCompletionWithUsage() throws Exception {
        HttpResponse<String> response = client.chat(CHAT);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(response.headers().firstValueAsLong("content-length")).hasValue(response.body().getBytes().length);
        JsonNode body = json(response.body());
        assertThat(body.path("id").asText()).isEqualTo("chatcmpl-1");
        assertThat(body.path("object").asText()).isEqualTo("chat.completion");
        assertThat(body.path("created").asLong()).isCloseTo(System.currentTimeMillis() / 1000, offset(60L));
        assertThat(body.path("model").asText()).isEqualTo("gpt-test");
        JsonNode choice = body.path("choices").path(0);
        assertThat(choice.path("index").asInt()).isZero();
        assertThat(choice.path("message").path("role").asText()).isEqualTo("assistant");
        assertThat(choice.path("message").path("content").asText().split(" ")).hasSize(16);
        assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
        JsonNode usage = body.path("usage");
        assertThat(usage.path("prompt_tokens").asLong()).isEqualTo(MESSAGES_PROMPT_TOKENS);
        assertThat(usage.path("completion_tokens").asLong()).isEqualTo(16);
        assertThat(usage.path("total_tokens").asLong()).isEqualTo(MESSAGES_PROMPT_TOKENS + 16);

        assertThat(mock.reportedUsages()).containsExactly(new MockProvider.Usage("chatcmpl-1", MESSAGES_PROMPT_TOKENS, 16));
        assertThat(mock.headsReceived()).isEqualTo(1);
        List<MockProvider.RecordedRequest> requests = mock.requests();
        assertThat(requests).hasSize(1);
        assertThat(requests.getFirst().method()).isEqualTo("POST");
        assertThat(requests.getFirst().uri()).isEqualTo("/v1/chat/completions");
        assertThat(requests.getFirst().headers().get("authorization")).isEqualTo("Bearer sk-test");
        assertThat(requests.getFirst().bodyUtf8()).isEqualTo(CHAT);
    }

    @ParameterizedTest(name = "{0} with {1} -> {2} tokens")
    @CsvSource(delimiter = '|', value = {
            "\"max_tokens\":3                              | 16 | 3",
            "\"max_completion_tokens\":5                   | 16 | 5",
            "\"max_tokens\":9,\"max_completion_tokens\":7  | 16 | 7",
            "\"max_tokens\":50                             | 4  | 4",
            "\"max_tokens\":50                             | 0  | 0",
    })
    void completionTokensAreTheSmallestOfTokensAndMaxTokens(String limit, String tokens, long expected) throws Exception {
        String body = "{\"model\":\"gpt-test\"," + limit + ",\"messages\":" + MESSAGES + "}";

        HttpResponse<String> response = client.chat(body, MockHeaders.TOKENS, tokens);

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode answer = json(response.body());
        assertThat(answer.path("usage").path("completion_tokens").asLong()).isEqualTo(expected);
        String content = answer.path("choices").path(0).path("message").path("content").asText();
        assertThat(content.isEmpty() ? 0 : content.split(" ").length).isEqualTo((int) expected);
    }

    @Test
    void countsPromptTokensFromTextContentAndTextParts() throws Exception {
        String body = """
                {"model":"m","messages":[
                  {"role":"user","content":[{"type":"text","text":"one two  three"},
                                            {"type":"image_url","image_url":{"url":"https://x/y.png"}}]},
                  {"role":"assistant","content":null,"tool_calls":[]},
                  {"role":"user","content":"  four\\nfive\\t"}]}""";

        HttpResponse<String> response = client.chat(body);

        assertThat(json(response.body()).path("usage").path("prompt_tokens").asLong()).isEqualTo((3 + 4) + 4 + (2 + 4));
    }

    @Test
    void servesAnyPathPrefix() throws Exception {
        for (String path : List.of("/chat/completions", "/v1/chat/completions", "/openai/v1/chat/completions?x=1")) {
            HttpResponse<String> response = client.send(client.request(path)
                    .header("Authorization", "Bearer k").POST(BodyPublishers.ofString(CHAT)).build());
            assertThat(response.statusCode()).as(path).isEqualTo(200);
        }
    }

    @Test
    void listsTheMockModel() throws Exception {
        HttpResponse<String> response = client.send(client.request("/v1/models").header("Authorization", "Bearer k").build());

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode body = json(response.body());
        assertThat(body.path("object").asText()).isEqualTo("list");
        assertThat(body.path("data")).hasSize(1);
        assertThat(body.path("data").path(0).path("id").asText()).isEqualTo("mock-model");
        assertThat(body.path("data").path(0).path("object").asText()).isEqualTo("model");
        assertThat(body.path("data").path(0).path("owned_by").asText()).isEqualTo("mock");
    }

    @Test
    void answersUnknownPathsAndMethods404() throws Exception {
        HttpResponse<String> unknown = client.send(client.request("/v1/nope").header("Authorization", "Bearer k").build());
        HttpResponse<String> wrongMethod = client.send(client.request("/v1/chat/completions").header("Authorization", "Bearer k").build());

        for (HttpResponse<String> response : List.of(unknown, wrongMethod)) {
            assertThat(response.statusCode()).isEqualTo(404);
            assertError(response.body(), "invalid_request_error", "unknown_url");
        }
        assertThat(json(unknown.body()).path("error").path("message").asText()).isEqualTo("Invalid URL (GET /v1/nope)");
    }

    @Test
    void checksTheApiKeyWhenOneIsExpected() throws Exception {
        mock.close();
        mock = MockProvider.start("127.0.0.1", 0,
                new MockProvider.Options(16, Duration.ZERO, Duration.ZERO, "sk-right-key-1234"));
        client = new MockClient(mock);

        HttpResponse<String> missing = client.send(client.request("/v1/chat/completions")
                .POST(BodyPublishers.ofString(CHAT)).build());
        HttpResponse<String> wrong = client.chat(CHAT); // Bearer sk-test
        HttpResponse<String> right = client.send(client.request("/v1/chat/completions")
                .header("Authorization", "Bearer sk-right-key-1234")
                .POST(BodyPublishers.ofString(CHAT)).build());

        assertThat(missing.statusCode()).isEqualTo(401);
        assertError(missing.body(), "invalid_request_error", "invalid_api_key");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertError(wrong.body(), "invalid_request_error", "invalid_api_key");
        assertThat(right.statusCode()).isEqualTo(200);
        assertThat(mock.reportedUsages()).hasSize(1);
        assertThat(mock.requests()).hasSize(3);
    }

    @Test
    void requiresABearerKeyEvenWhenAnyKeyIsAccepted() throws Exception {
        HttpResponse<String> response = client.send(client.request("/v1/models").header("Authorization", "Basic abc").build());

        assertThat(response.statusCode()).isEqualTo(401);
        assertError(response.body(), "invalid_request_error", "invalid_api_key");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "{not json                                                            | invalid_json               | ",
            "[1,2]                                                                | invalid_json               | ",
            "{\"model\":\"m\"} trailing                                           | invalid_json               | ",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}              | missing_required_parameter | model",
            "{\"model\":\"m\"}                                                    | missing_required_parameter | messages",
            "{\"model\":7,\"messages\":[]}                                        | invalid_type               | model",
            "{\"model\":\"m\",\"messages\":[]}                                    | empty_array                | messages",
            "{\"model\":\"m\",\"messages\":\"hi\"}                                | invalid_type               | messages",
            "{\"model\":\"m\",\"messages\":[{}],\"stream\":\"yes\"}               | invalid_type               | stream",
            "{\"model\":\"m\",\"messages\":[{}],\"max_tokens\":0}                 | integer_below_min_value    | max_tokens",
            "{\"model\":\"m\",\"messages\":[{}],\"stream_options\":{\"include_usage\":true}} | invalid_value    | stream_options",
    })
    void refusesInvalidRequestsLikeOpenAi(String body, String code, String param) throws Exception {
        HttpResponse<String> response = client.chat(body);

        assertThat(response.statusCode()).isEqualTo(400);
        JsonNode error = assertError(response.body(), "invalid_request_error", code);
        assertThat(error.path("param").isNull() ? null : error.path("param").asText()).isEqualTo(param);
        assertThat(mock.reportedUsages()).isEmpty();
        assertThat(mock.requests()).hasSize(1);
    }

    @ParameterizedTest(name = "x-mock-status {0}")
    @CsvSource({
            "500, server_error, server_error",
            "503, server_error, service_unavailable",
            "429, requests, rate_limit_exceeded",
            "400, invalid_request_error, invalid_request",
            "401, invalid_request_error, invalid_api_key",
    })
    void answersTheStatusAskedFor(int status, String type, String code) throws Exception {
        HttpResponse<String> response = client.chat(CHAT, MockHeaders.STATUS, Integer.toString(status));

        assertThat(response.statusCode()).isEqualTo(status);
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        assertError(response.body(), type, code);
        assertThat(mock.reportedUsages()).isEmpty();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({
            "x-mock-tokens, many",
            "x-mock-tokens, -1",
            "x-mock-chunk-delay-ms, 1.5",
            "x-mock-first-byte-delay-ms, soon",
            "x-mock-status, 200",
            "x-mock-status, 600",
            "x-mock-behavior, explode",
    })
    void refusesUnparsableMockHeaders(String header, String value) throws Exception {
        HttpResponse<String> response = client.chat(CHAT, header, value);

        assertThat(response.statusCode()).isEqualTo(400);
        assertError(response.body(), "invalid_request_error", "invalid_mock_header");
    }

    @Test
    void delaysTheHeadByTheFirstByteDelay() throws Exception {
        long started = System.nanoTime();

        HttpResponse<String> response = client.chat(CHAT, MockHeaders.FIRST_BYTE_DELAY_MS, "300");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    }

    @Test
    void numbersAnswersAndResetForgetsRecordsButNotIds() throws Exception {
        client.chat(CHAT);
        client.chat(CHAT);
        assertThat(mock.reportedUsages()).extracting(MockProvider.Usage::responseId).containsExactly("chatcmpl-1", "chatcmpl-2");

        mock.reset();

        assertThat(mock.requests()).isEmpty();
        assertThat(mock.reportedUsages()).isEmpty();
        assertThat(mock.headsReceived()).isZero();
        assertThat(json(client.chat(CHAT).body()).path("id").asText()).isEqualTo("chatcmpl-3");
        assertThat(mock.requests()).hasSize(1);
    }

    @Test
    void escapesTheModelNameItEchoes() throws Exception {
        String body = "{\"model\":\"we\\\"ird\\\\mo\\u00e9del\",\"messages\":" + MESSAGES + "}";

        HttpResponse<String> response = client.chat(body);

        assertThat(json(response.body()).path("model").asText()).isEqualTo("we\"ird\\moédel");
    }

    static JsonNode assertError(String body, String type, String code) {
        JsonNode error = json(body).path("error");
        assertThat(error.path("message").asText()).isNotBlank();
        assertThat(error.path("type").asText()).isEqualTo(type);
        assertThat(error.path("code").asText()).isEqualTo(code);
        return error;
    }
}
