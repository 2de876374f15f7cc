package io.tollgate.proxy.media;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tollgate.proxy.chat.InvalidRequestException;
import io.tollgate.proxy.http.ApiError;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * An image or video generation request, read whole (it is small: a prompt and a few options,
 * within the 512 KB body limit) and checked before anything is reserved or sent.
 *
 * @param body        the request as sent, rewritten for the upstream by {@link #upstreamBody}
 * @param n           images asked for ({@code n}, default 1); 1 for a video
 * @param async       {@code "async": true} on an image request: answer with a task
 * @param seconds     the video duration reserved: {@code duration} or {@code seconds} (the larger if
 *                    both), else the configured default; null for images
 * @param resolutions the {@code resolution} and {@code size} a video request names, to be checked
 *                    against the model's {@code video_resolutions}
 */
public record MediaRequest(ObjectNode body, String model, String prompt, int n, boolean async, BigDecimal seconds,
                           List<String> resolutions) {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /**
     * Reads the body of {@code kind} ({@link MediaRoute.Kind#IMAGE_GENERATION} or
     * {@link MediaRoute.Kind#VIDEO_GENERATION}).
     *
     * @throws InvalidRequestException 400 {@code invalid_request} for anything malformed,
     *                                 {@code model_required} / {@code prompt_required} for a missing field
     */
    public static MediaRequest parse(byte[] bytes, MediaRoute.Kind kind, MediaConfig config) throws InvalidRequestException {
        JsonNode root;
        try {
            root = bytes.length == 0 ? null : JSON.readTree(bytes);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw invalid("request body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw invalid("request body could not be read");
        }
        if (root == null || !root.isObject()) {
            throw invalid("request body must be a JSON object");
        }
        String model = requiredText(root, "model", ApiError.MODEL_REQUIRED);
        String prompt = requiredText(root, "prompt", ApiError.PROMPT_REQUIRED);
        boolean video = kind == MediaRoute.Kind.VIDEO_GENERATION;
        int n = 1;
        boolean async = false;
        BigDecimal seconds = null;
        List<String> resolutions = List.of();
        if (video) {
            seconds = seconds(root, config);
            resolutions = resolutions(root);
        } else {
            n = count(root);
            JsonNode a = root.get("async");
            if (a != null && !a.isNull()) {
                if (!a.isBoolean()) {
                    throw invalid("'async' must be a boolean");
                }
                async = a.booleanValue();
            }
        }
        return new MediaRequest((ObjectNode) root, model, prompt, n, async, seconds, resolutions);
    }

    /** The body for the upstream: its own model name, and without our {@code async} (OpenAI refuses unknown fields). */
    public byte[] upstreamBody(String upstreamModel) {
        ObjectNode copy = body.deepCopy();
        copy.put("model", upstreamModel);
        copy.remove("async");
        try {
            return JSON.writeValueAsBytes(copy);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String requiredText(JsonNode root, String field, ApiError missing) throws InvalidRequestException {
        JsonNode node = root.get(field);
        if (node == null || node.isNull() || (node.isTextual() && node.textValue().isEmpty())) {
            throw new InvalidRequestException(missing, "you must provide a " + field + " parameter");
        }
        if (!node.isTextual()) {
            throw invalid("'" + field + "' must be a string");
        }
        return node.textValue();
    }

    private static int count(JsonNode root) throws InvalidRequestException {
        JsonNode node = root.get("n");
        if (node == null || node.isNull()) {
            return 1;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() < 1) {
            throw invalid("'n' must be a whole number of at least 1");
        }
        return node.intValue();
    }

    /** The larger of {@code duration} and {@code seconds}; each a positive number or a string holding one. */
    private static BigDecimal seconds(JsonNode root, MediaConfig config) throws InvalidRequestException {
        BigDecimal seconds = null;
        for (String field : new String[] {"duration", "seconds"}) {
            JsonNode node = root.get(field);
            if (node == null || node.isNull()) {
                continue;
            }
            BigDecimal s = null;
            try {
                s = node.isNumber() ? node.decimalValue() : node.isTextual() ? new BigDecimal(node.textValue().trim()) : null;
            } catch (NumberFormatException e) {
                // refused below
            }
            if (s == null || s.signum() <= 0 || s.compareTo(config.maxVideoSeconds()) > 0) {
                throw invalid("'" + field + "' must be a number of seconds above 0 and at most "
                        + config.maxVideoSeconds().toPlainString());
            }
            seconds = seconds == null ? s : seconds.max(s);
        }
        return seconds == null ? config.defaultVideoSeconds() : seconds;
    }

    private static List<String> resolutions(JsonNode root) throws InvalidRequestException {
        List<String> out = new ArrayList<>(2);
        for (String field : new String[] {"resolution", "size"}) {
            JsonNode node = root.get(field);
            if (node == null || node.isNull()) {
                continue;
            }
            if (!node.isTextual()) {
                throw invalid("'" + field + "' must be a string");
            }
            out.add(node.textValue());
        }
        return List.copyOf(out);
    }

    private static InvalidRequestException invalid(String message) {
        return new InvalidRequestException(ApiError.INVALID_REQUEST, message);
    }
}
