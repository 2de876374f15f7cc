package io.tollgate.proxy.media;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.tollgate.schema.MediaTask;

import java.io.IOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.Locale;

/**
 * The JSON of tasks: what clients see of ours (SPEC §2), and what we read of the upstream's. The
 * upstream side is read leniently, since relay-style video APIs differ in names: the task id in
 * {@code id} or {@code task_id}, the status in {@code status} or {@code task_status} under many
 * spellings, the duration in {@code seconds} or {@code duration}, the video in {@code video_url},
 * {@code data[0].video_url}, {@code data[0].url} or {@code url}.
 */
final class TaskJson {

    static final String VIDEO_OBJECT = "video.generation.task";
    static final String IMAGE_OBJECT = "image.task";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What an upstream says about a task; any field may be null when it did not say. */
    record UpstreamTask(String id, String status, BigDecimal seconds, String videoUrl, String error) {
    }

    private TaskJson() {
    }

    // ---------------------------------------------------------------- ours

    /** A task as a poll (or the submit) answers it. */
    static ByteBuf render(ByteBufAllocator alloc, MediaTask t) {
        boolean video = MediaTask.VIDEO.equals(t.kind());
        ObjectNode out = JSON.createObjectNode()
                .put("id", t.id())
                .put("object", video ? VIDEO_OBJECT : IMAGE_OBJECT)
                .put("model", t.model())
                .put("status", MediaTask.SUBMITTING.equals(t.status()) ? MediaTask.QUEUED : t.status())
                .put("created_at", (t.createdAt() == null ? Instant.now() : t.createdAt()).getEpochSecond());
        if (MediaTask.SUCCEEDED.equals(t.status()) && t.resultJson() != null) {
            JsonNode result = read(t.resultJson());
            if (video) {
                String url = result.path("video_url").isTextual() ? result.get("video_url").textValue() : null;
                out.put("video_url", url);
                out.putArray("data").addObject().put("video_url", url);
                if (t.billedUnits() != null) {
                    out.put("seconds", t.billedUnits().stripTrailingZeros());
                }
            } else {
                out.set("data", result.path("data").isArray() ? result.get("data") : JSON.createArrayNode());
            }
        } else if (MediaTask.FAILED.equals(t.status())) {
            out.putObject("error")
                    .put("code", "task_failed")
                    .put("message", t.error() == null ? "the task failed" : t.error());
        }
        return write(alloc, out);
    }

    /** What a succeeded video task keeps for its polls. */
    static String videoResult(String videoUrl) {
        ObjectNode result = JSON.createObjectNode().put("video_url", videoUrl);
        return result.toString();
    }

    /** What a succeeded image task keeps for its polls: the images of the upstream's answer. */
    static String imageResult(JsonNode data) {
        ObjectNode result = JSON.createObjectNode();
        result.set("data", data == null || !data.isArray() ? JSON.createArrayNode() : data);
        return result.toString();
    }

    // ---------------------------------------------------------------- theirs

    /** The upstream's task, or null when the body is not a JSON object. */
    static UpstreamTask upstream(byte[] body) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
        if (root == null || !root.isObject()) {
            return null;
        }
        return new UpstreamTask(
                text(root, "id", "task_id"),
                status(text(root, "status", "task_status")),
                seconds(root),
                videoUrl(root),
                error(root));
    }

    /** One of queued, running, succeeded, failed; null for a status we do not know. */
    static String status(String upstream) {
        if (upstream == null) {
            return null;
        }
        return switch (upstream.trim().toLowerCase(Locale.ROOT)) {
            case "queued", "pending", "submitted", "created", "waiting", "not_start" -> MediaTask.QUEUED;
            case "running", "processing", "in_progress", "started" -> MediaTask.RUNNING;
            case "succeeded", "success", "completed", "complete", "done", "finished" -> MediaTask.SUCCEEDED;
            case "failed", "failure", "error", "cancelled", "canceled", "expired" -> MediaTask.FAILED;
            default -> null;
        };
    }

    private static BigDecimal seconds(JsonNode root) {
        for (String field : new String[] {"seconds", "duration"}) {
            JsonNode n = root.get(field);
            try {
                if (n != null && n.isNumber()) {
                    return n.decimalValue();
                }
                if (n != null && n.isTextual()) {
                    return new BigDecimal(n.textValue().trim());
                }
            } catch (NumberFormatException e) {
                // not a duration: look further
            }
        }
        return null;
    }

    private static String videoUrl(JsonNode root) {
        String url = text(root, "video_url");
        JsonNode first = root.path("data").path(0);
        if (url == null && first.isObject()) {
            url = text(first, "video_url", "url");
        }
        return url != null ? url : text(root, "url");
    }

    private static String error(JsonNode root) {
        JsonNode e = root.get("error");
        if (e != null && e.isObject()) {
            return text(e, "message", "code");
        }
        if (e != null && e.isTextual()) {
            return e.textValue();
        }
        return text(root, "fail_reason", "message");
    }

    private static String text(JsonNode node, String... fields) {
        for (String f : fields) {
            JsonNode v = node.get(f);
            if (v != null && (v.isTextual() || v.isNumber()) && !v.asText().isEmpty()) {
                return v.asText();
            }
        }
        return null;
    }

    static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }

    static JsonNode read(byte[] json) {
        try {
            JsonNode n = JSON.readTree(json);
            return n == null ? JSON.createObjectNode() : n;
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }

    private static ByteBuf write(ByteBufAllocator alloc, JsonNode node) {
        try {
            byte[] bytes = JSON.writeValueAsBytes(node);
            return alloc.buffer(bytes.length).writeBytes(bytes);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
