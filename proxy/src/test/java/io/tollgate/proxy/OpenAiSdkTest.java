package io.tollgate.proxy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import io.tollgate.proxy.mock.MockHeaders;
import io.tollgate.proxy.mock.MockProvider;
import io.tollgate.proxy.mock.NoLeaksExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The official OpenAI Java SDK against the gateway: what real clients of a relay site run. */
@ExtendWith(NoLeaksExtension.class)
class OpenAiSdkTest extends FundedGatewayTest {

    private static OpenAIOkHttpClient.Builder client(String key) {
        return OpenAIOkHttpClient.builder()
                .baseUrl("http://127.0.0.1:" + gw.proxy.port() + "/v1")
                .apiKey(key)
                .maxRetries(0)
                .timeout(Duration.ofSeconds(20));
    }

    private static ChatCompletionCreateParams.Builder params() {
        return ChatCompletionCreateParams.builder()
                .model(Gateway.MODEL)
                .addUserMessage("say hello to the gateway");
    }

    @Test
    void plainChatReturnsContentAndUsage() {
        OpenAIClient client = client(acct.key()).putHeader(MockHeaders.TOKENS, "5").build();
        try {
            ChatCompletion completion = client.chat().completions().create(params().build());

            assertThat(completion.choices()).hasSize(1);
            assertThat(completion.choices().get(0).message().content()).hasValueSatisfying(c -> assertThat(c).isNotBlank());
            CompletionUsage usage = completion.usage().orElseThrow();
            MockProvider.Usage reported = gw.mock.reportedUsages().get(0);
            assertThat(usage.promptTokens()).isEqualTo(reported.promptTokens());
            assertThat(usage.completionTokens()).isEqualTo(5);
        } finally {
            client.close();
        }
    }

    @Test
    void streamedChatArrivesChunkByChunkBeforeTheUpstreamHasFinished() {
        OpenAIClient client = client(acct.key())
                .putHeader(MockHeaders.CHUNK_DELAY_MS, "200")
                .putHeader(MockHeaders.TOKENS, "5")
                .build();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params().build())) {
            Iterator<ChatCompletionChunk> it = stream.stream().iterator();
            assertThat(it.hasNext()).isTrue();
            chunks.add(it.next());
            // The upstream records usage only when its answer ends: it has not ended yet.
            assertThat(gw.mock.reportedUsages()).isEmpty();
            it.forEachRemaining(chunks::add);
        } finally {
            client.close();
        }

        assertThat(chunks).hasSize(5);
        StringBuilder text = new StringBuilder();
        for (ChatCompletionChunk c : chunks) {
            c.choices().forEach(choice -> choice.delta().content().ifPresent(text::append));
            // The gateway asked the upstream for usage; this client did not, so it sees no usage chunk.
            assertThat(c.usage()).isEmpty();
        }
        assertThat(text.toString()).startsWith("Hello from the");
        await().atMost(Duration.ofSeconds(2)).until(() -> gw.mock.reportedUsages().size() == 1);
    }

    @Test
    void streamedChatWithIncludeUsageEndsWithTheUsageChunk() {
        OpenAIClient client = client(acct.key()).putHeader(MockHeaders.TOKENS, "3").build();
        List<ChatCompletionChunk> chunks;
        ChatCompletionCreateParams p = params()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(p)) {
            chunks = stream.stream().toList();
        } finally {
            client.close();
        }

        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertThat(last.choices()).isEmpty();
        assertThat(last.usage().orElseThrow().completionTokens()).isEqualTo(3);
    }

    @Test
    void aWrongKeyIsTheSdksUnauthorizedException() {
        OpenAIClient client = client("sk-not-a-key").build();
        try {
            assertThatThrownBy(() -> client.chat().completions().create(params().build()))
                    .isInstanceOfSatisfying(UnauthorizedException.class, e -> {
                        assertThat(e.statusCode()).isEqualTo(401);
                        assertThat(e.headers().values("x-request-id")).hasSize(1);
                    });
        } finally {
            client.close();
        }
        assertThat(gw.mock.headsReceived()).isZero();
    }
}
