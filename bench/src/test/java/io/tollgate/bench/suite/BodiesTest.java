package io.tollgate.bench.suite;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class BodiesTest {

    final ObjectMapper json = new ObjectMapper();

    @Test
    void theUploadIsExactlyTheLimitValidJsonAndModelFirst() throws Exception {
        byte[] body = Bodies.upload("bench-chat", Settings.UPLOAD_BYTES);

        assertThat(body).hasSize(524_288);
        assertThat(new String(body, 0, 22, StandardCharsets.US_ASCII)).isEqualTo("{\"model\":\"bench-chat\",");
        JsonNode root = json.readTree(body);
        String url = root.at("/messages/0/content/1/image_url/url").asText();
        assertThat(url).startsWith("data:image/png;base64,").hasSizeGreaterThan(520_000);
        assertThat(Bodies.upload("bench-chat", Settings.UPLOAD_BYTES)).isEqualTo(body);      // the same bytes every run
    }

    @Test
    void theChatRequestIsSmallAndValid() throws Exception {
        String chat = Bodies.chat("bench-chat", true, 256);

        assertThat(chat).startsWith("{\"model\":\"bench-chat\"").hasSizeLessThan(300);
        JsonNode root = json.readTree(chat);
        assertThat(root.get("stream").asBoolean()).isTrue();
        assertThat(root.get("max_tokens").asInt()).isEqualTo(256);
    }
}
