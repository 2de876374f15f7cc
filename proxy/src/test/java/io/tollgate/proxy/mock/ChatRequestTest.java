package io.tollgate.proxy.mock;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ChatRequestTest {

    private final ObjectMapper json = new ObjectMapper();

    @ParameterizedTest(name = "\"{0}\" has {1} words")
    @CsvSource(delimiter = '|', value = {
            "''               | 0",
            "'   '            | 0",
            "one              | 1",
            "' one  two '     | 2",
            "'a\tb\nc'        | 3",
    })
    void countsWhitespaceSeparatedWords(String text, int words) {
        assertThat(ChatRequest.words(text.replace("\\t", "\t").replace("\\n", "\n"))).isEqualTo(words);
    }

    @Test
    void promptTokensAreWordsPlusFourPerMessage() throws Exception {
        ChatRequest request = parse("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a b c\"},"
                + "{\"role\":\"user\",\"content\":\"\"}]}");

        assertThat(request.promptTokens()).isEqualTo(3 + 4 + 4);
        assertThat(request.stream()).isFalse();
        assertThat(request.includeUsage()).isFalse();
        assertThat(request.maxTokens()).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void readsStreamOptionsAndTheSmallerTokenLimit() throws Exception {
        ChatRequest request = parse("{\"model\":\"m\",\"messages\":[{}],\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true},\"max_tokens\":30,\"max_completion_tokens\":20}");

        assertThat(request.stream()).isTrue();
        assertThat(request.includeUsage()).isTrue();
        assertThat(request.maxTokens()).isEqualTo(20);
        assertThat(request.promptTokens()).isEqualTo(4);
    }

    @Test
    void acceptsNullForOptionalFields() throws Exception {
        ChatRequest request = parse("{\"model\":\"m\",\"messages\":[{}],\"stream\":null,\"stream_options\":null,"
                + "\"max_tokens\":null}");

        assertThat(request.stream()).isFalse();
        assertThat(request.maxTokens()).isEqualTo(Integer.MAX_VALUE);
    }

    private ChatRequest parse(String body) throws MockException {
        return ChatRequest.parse(json, body.getBytes(StandardCharsets.UTF_8));
    }
}
