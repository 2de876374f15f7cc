package io.tollgate.proxy.mock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpHeaders;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The mock's image and video generators. Images answer at once, like OpenAI's
 * {@code POST /images/generations}: {@code {created, data:[{url}|{b64_json}]}}, {@code n} of them.
 * Videos are tasks, like the relay sites' video APIs: {@code POST /videos/generations} answers a
 * task {@code {id, object:"video.generation.task", status:"queued"}}, and
 * {@code GET /videos/generations/{id}} reports it {@code queued}, then {@code running}, then
 * {@code succeeded} (with {@code video_url}, {@code data:[{video_url}]} and {@code seconds}) or
 * {@code failed}, on a timeline the submit's {@link MockHeaders} choose. Thread-safe: one instance
 * serves every connection.
 */
final class MockMedia {

    /** A 1×1 transparent PNG: what every {@code b64_json} image is, unless asked to be bigger. */
    static final String PNG_1X1 =
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    static final String MEDIA_HOST = "https://mock.tollgate.invalid";
    /** Seconds a video lasts when the request names none. */
    static final BigDecimal DEFAULT_VIDEO_SECONDS = BigDecimal.valueOf(5);
    static final long DEFAULT_QUEUED_MS = 500;
    static final long DEFAULT_RUNNING_MS = 1500;
    /** Tasks kept; the oldest are forgotten beyond this, so a long benchmark does not grow the heap. */
    static final int TASK_LIMIT = 10_000;

    private final ObjectMapper json;
    private final AtomicLong ids = new AtomicLong();
    private final Map<String, VideoTask> tasks = new ConcurrentHashMap<>();

    /** One video task: its whole timeline is fixed when it is submitted. */
    private record VideoTask(String id, String model, long createdAtSeconds, long startNanos, long queuedMs,
                             long runningMs, boolean fails, BigDecimal seconds) {

        String status(long now) {
            long elapsedMs = (now - startNanos) / 1_000_000;
            if (elapsedMs < queuedMs) {
                return "queued";
            }
            if (elapsedMs < queuedMs + runningMs) {
                return "running";
            }
            return fails ? "failed" : "succeeded";
        }
    }

    MockMedia(ObjectMapper json) {
        this.json = json;
    }

    // ---------------------------------------------------------------- images

    /** The answer to {@code POST …/images/generations}, validated the way OpenAI validates it. */
    byte[] images(byte[] body, HttpHeaders headers) throws MockException {
        JsonNode root = object(body);
        text(root, "model");
        text(root, "prompt");
        int n = 1;
        JsonNode nNode = root.get("n");
        if (nNode != null && !nNode.isNull()) {
            if (!nNode.isIntegralNumber() || !nNode.canConvertToInt()) {
                throw invalidType("n", "an integer");
            }
            n = nNode.intValue();
            if (n < 1 || n > 10) {
                throw new MockException(OpenAiError.invalidRequest("invalid_value", "n",
                        "Invalid 'n': expected a value from 1 to 10, but got " + n + " instead."));
            }
        }
        JsonNode format = root.get("response_format");
        boolean b64 = format != null && "b64_json".equals(format.asText());
        int count = (int) MockOverrides.number(headers, MockHeaders.IMAGES, n, 1_000);
        long imageChars = MockOverrides.number(headers, MockHeaders.IMAGE_BYTES, -1, 64L * 1024 * 1024);
        String base64 = imageChars < 0 ? PNG_1X1 : "A".repeat((int) imageChars);
        long answer = ids.incrementAndGet();
        StringBuilder out = new StringBuilder(64 + count * (b64 ? base64.length() + 20 : 80))
                .append("{\"created\":").append(System.currentTimeMillis() / 1000).append(",\"data\":[");
        for (int i = 0; i < count; i++) {
            if (i > 0) {
                out.append(',');
            }
            if (b64) {
                out.append("{\"b64_json\":\"").append(base64).append("\"}");
            } else {
                out.append("{\"url\":\"").append(MEDIA_HOST).append("/images/img-").append(answer).append('-').append(i)
                        .append(".png\"}");
            }
        }
        return out.append("]}").toString().getBytes(StandardCharsets.US_ASCII);
    }

    // ---------------------------------------------------------------- videos

    /** {@code POST …/videos/generations}: a new task, queued. */
    byte[] submitVideo(byte[] body, HttpHeaders headers) throws MockException {
        JsonNode root = object(body);
        String model = text(root, "model");
        text(root, "prompt");
        BigDecimal asked = seconds(root);
        BigDecimal reported = asked;
        String override = headers.get(MockHeaders.VIDEO_SECONDS);
        if (override != null) {
            try {
                reported = new BigDecimal(override.trim());
            } catch (NumberFormatException e) {
                throw MockOverrides.invalid(MockHeaders.VIDEO_SECONDS, "a decimal number");
            }
        }
        String outcome = headers.get(MockHeaders.TASK_OUTCOME);
        boolean fails = false;
        if (outcome != null) {
            switch (outcome.trim().toLowerCase(Locale.ROOT)) {
                case "succeeded" -> fails = false;
                case "failed" -> fails = true;
                default -> throw MockOverrides.invalid(MockHeaders.TASK_OUTCOME, "succeeded or failed");
            }
        }
        VideoTask task = new VideoTask("vtask-mock-" + ids.incrementAndGet(), model, System.currentTimeMillis() / 1000,
                System.nanoTime(), MockOverrides.number(headers, MockHeaders.TASK_QUEUED_MS, DEFAULT_QUEUED_MS, Long.MAX_VALUE),
                MockOverrides.number(headers, MockHeaders.TASK_RUNNING_MS, DEFAULT_RUNNING_MS, Long.MAX_VALUE), fails, reported);
        if (tasks.size() >= TASK_LIMIT) {
            forgetOldest();
        }
        tasks.put(task.id(), task);
        return render(task, "queued");
    }

    /** {@code GET …/videos/generations/{id}}: where the task is on its timeline. */
    byte[] pollVideo(String id) throws MockException {
        VideoTask task = tasks.get(id);
        if (task == null) {
            throw new MockException(new OpenAiError(io.netty.handler.codec.http.HttpResponseStatus.NOT_FOUND,
                    OpenAiError.INVALID_REQUEST, "task_not_found", null, "No video generation task with id '" + id + "'."));
        }
        return render(task, task.status(System.nanoTime()));
    }

    private byte[] render(VideoTask task, String status) {
        ObjectNode out = json.createObjectNode()
                .put("id", task.id())
                .put("object", "video.generation.task")
                .put("model", task.model())
                .put("status", status)
                .put("created_at", task.createdAtSeconds());
        switch (status) {
            case "queued" -> out.put("progress", 0);
            case "running" -> out.put("progress", 50);
            case "succeeded" -> {
                String url = MEDIA_HOST + "/videos/" + task.id() + ".mp4";
                out.put("progress", 100).put("video_url", url).put("seconds", task.seconds());
                ArrayNode data = out.putArray("data");
                data.addObject().put("video_url", url);
            }
            default -> out.putObject("error").put("code", "generation_failed")
                    .put("message", "The mock provider failed this task because " + MockHeaders.TASK_OUTCOME + " asked it to.");
        }
        try {
            return json.writeValueAsBytes(out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void forgetOldest() {
        Iterator<VideoTask> it = tasks.values().stream()
                .sorted((a, b) -> Long.compare(a.startNanos(), b.startNanos())).limit(TASK_LIMIT / 10).iterator();
        while (it.hasNext()) {
            tasks.remove(it.next().id());
        }
    }

    /** {@code duration} or {@code seconds}: a positive number, or a string holding one (OpenAI sends "8"). */
    private static BigDecimal seconds(JsonNode root) throws MockException {
        for (String field : new String[] {"duration", "seconds"}) {
            JsonNode node = root.get(field);
            if (node == null || node.isNull()) {
                continue;
            }
            try {
                BigDecimal s = node.isNumber() ? node.decimalValue() : node.isTextual() ? new BigDecimal(node.textValue().trim()) : null;
                if (s != null && s.signum() > 0) {
                    return s;
                }
            } catch (NumberFormatException e) {
                // answered below
            }
            throw new MockException(OpenAiError.invalidRequest("invalid_value", field,
                    "Invalid '" + field + "': expected a positive number of seconds."));
        }
        return DEFAULT_VIDEO_SECONDS;
    }

    // ---------------------------------------------------------------- shared

    private JsonNode object(byte[] body) throws MockException {
        JsonNode root;
        try {
            root = json.readTree(body);
        } catch (IOException e) {
            root = null;
        }
        if (root == null || !root.isObject()) {
            throw new MockException(OpenAiError.invalidRequest("invalid_json", null,
                    "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload."));
        }
        return root;
    }

    private static String text(JsonNode root, String field) throws MockException {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            throw new MockException(OpenAiError.invalidRequest("missing_required_parameter", field,
                    "Missing required parameter: '" + field + "'."));
        }
        if (!node.isTextual()) {
            throw invalidType(field, "a string");
        }
        return node.textValue();
    }

    private static MockException invalidType(String field, String expected) {
        return new MockException(OpenAiError.invalidRequest("invalid_type", field,
                "Invalid type for '" + field + "': expected " + expected + "."));
    }
}
