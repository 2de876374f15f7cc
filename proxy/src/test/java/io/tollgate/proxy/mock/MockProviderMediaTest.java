package io.tollgate.proxy.mock;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static io.tollgate.proxy.mock.MockClient.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The mock's image generations and video tasks, as the gateway's media tests rely on them. */
class MockProviderMediaTest extends RunningMockTest {

    private HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = client.request(path)
                .header("Authorization", "Bearer " + MockClient.KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(client.request(path).header("Authorization", "Bearer " + MockClient.KEY).GET().build());
    }

    @Test
    void imagesAnswerNUrlsLikeOpenAi() throws Exception {
        HttpResponse<String> r = post("/v1/images/generations", "{\"model\":\"img\",\"prompt\":\"a cat\",\"n\":3}");

        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = json(r.body());
        assertThat(body.get("created").isIntegralNumber()).isTrue();
        assertThat(body.get("data")).hasSize(3);
        assertThat(body.get("data").get(0).get("url").asText()).startsWith("https://").endsWith(".png");
    }

    @Test
    void imagesAnswerBase64WhenAskedAndAsManyAsTheHeaderSays() throws Exception {
        HttpResponse<String> r = post("/v1/images/generations",
                "{\"model\":\"img\",\"prompt\":\"a cat\",\"n\":4,\"response_format\":\"b64_json\"}",
                MockHeaders.IMAGES, "2", MockHeaders.IMAGE_BYTES, "1000");

        JsonNode data = json(r.body()).get("data");
        assertThat(data).hasSize(2);
        assertThat(data.get(1).get("b64_json").asText()).hasSize(1000);
        assertThat(json(post("/v1/images/generations", "{\"model\":\"img\",\"prompt\":\"x\"}").body()).get("data")).hasSize(1);
    }

    @Test
    void imagesRefuseAMissingPromptAndABadN() throws Exception {
        HttpResponse<String> noPrompt = post("/v1/images/generations", "{\"model\":\"img\"}");
        assertThat(noPrompt.statusCode()).isEqualTo(400);
        assertThat(json(noPrompt.body()).at("/error/param").asText()).isEqualTo("prompt");

        HttpResponse<String> badN = post("/v1/images/generations", "{\"model\":\"img\",\"prompt\":\"x\",\"n\":0}");
        assertThat(badN.statusCode()).isEqualTo(400);
        assertThat(json(badN.body()).at("/error/param").asText()).isEqualTo("n");
    }

    @Test
    void imagesHonourTheFailureHeaders() throws Exception {
        String body = "{\"model\":\"img\",\"prompt\":\"x\"}";
        assertThat(post("/v1/images/generations", body, MockHeaders.STATUS, "500").statusCode()).isEqualTo(500);
        assertThatThrownBy(() -> post("/v1/images/generations", body, MockHeaders.BEHAVIOR, MockHeaders.BEHAVIOR_CLOSE_MID_STREAM))
                .isInstanceOf(IOException.class);
    }

    @Test
    void aVideoTaskIsQueuedThenRunningThenSucceeded() throws Exception {
        HttpResponse<String> submitted = post("/v1/videos/generations",
                "{\"model\":\"vid\",\"prompt\":\"a wave\",\"duration\":8}",
                MockHeaders.TASK_QUEUED_MS, "300", MockHeaders.TASK_RUNNING_MS, "300");

        assertThat(submitted.statusCode()).isEqualTo(200);
        JsonNode task = json(submitted.body());
        assertThat(task.get("object").asText()).isEqualTo("video.generation.task");
        assertThat(task.get("status").asText()).isEqualTo("queued");
        String id = task.get("id").asText();

        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                .until(() -> json(get("/v1/videos/generations/" + id).body()).get("status").asText().equals("running"));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                .until(() -> json(get("/v1/videos/generations/" + id).body()).get("status").asText().equals("succeeded"));
        JsonNode done = json(get("/v1/videos/generations/" + id).body());
        assertThat(done.get("seconds").decimalValue()).isEqualByComparingTo("8");
        assertThat(done.get("video_url").asText()).endsWith(".mp4");
        assertThat(done.at("/data/0/video_url").asText()).isEqualTo(done.get("video_url").asText());
    }

    @Test
    void aVideoTaskFailsOrReportsAnotherDurationWhenAsked() throws Exception {
        String failed = json(post("/v1/videos/generations", "{\"model\":\"vid\",\"prompt\":\"x\",\"seconds\":\"4\"}",
                MockHeaders.TASK_QUEUED_MS, "0", MockHeaders.TASK_RUNNING_MS, "0", MockHeaders.TASK_OUTCOME, "failed").body())
                .get("id").asText();
        JsonNode f = json(get("/v1/videos/generations/" + failed).body());
        assertThat(f.get("status").asText()).isEqualTo("failed");
        assertThat(f.at("/error/message").asText()).isNotBlank();

        String shorter = json(post("/v1/videos/generations", "{\"model\":\"vid\",\"prompt\":\"x\",\"seconds\":\"4\"}",
                MockHeaders.TASK_QUEUED_MS, "0", MockHeaders.TASK_RUNNING_MS, "0", MockHeaders.VIDEO_SECONDS, "2.5").body())
                .get("id").asText();
        assertThat(json(get("/v1/videos/generations/" + shorter).body()).get("seconds").decimalValue()).isEqualByComparingTo("2.5");
    }

    @Test
    void anUnknownVideoTaskIs404() throws Exception {
        HttpResponse<String> r = get("/v1/videos/generations/nope");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(json(r.body()).at("/error/code").asText()).isEqualTo("task_not_found");
    }
}
