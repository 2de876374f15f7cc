package io.tollgate.proxy.mock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;

/**
 * What the mock needs from a chat completion request, validated the way OpenAI validates it.
 *
 * @param maxTokens the smaller of {@code max_tokens} and {@code max_completion_tokens};
 *                  {@link Integer#MAX_VALUE} when neither is set
 */
record ChatRequest(String model, boolean stream, boolean includeUsage, long promptTokens, int maxTokens) {

    /** Tokens a message costs besides its words, as OpenAI's chat format roughly does. */
    static final int TOKENS_PER_MESSAGE = 4;

    static ChatRequest parse(ObjectMapper json, byte[] body) throws MockException {
        JsonNode root;
        try {
            root = json.readTree(body);
        } catch (IOException e) {
            throw invalidJson();
        }
        if (root == null || !root.isObject()) {
            throw invalidJson();
        }

        JsonNode model = root.get("model");
        if (model == null || model.isNull()) {
            throw new MockException(OpenAiError.invalidRequest("missing_required_parameter", "model",
                    "You must provide a model parameter."));
        }
        if (!model.isTextual()) {
            throw invalidType("model", "a string");
        }

        JsonNode messages = root.get("messages");
        if (messages == null || messages.isNull()) {
            throw new MockException(OpenAiError.invalidRequest("missing_required_parameter", "messages",
                    "Missing required parameter: 'messages'."));
        }
        if (!messages.isArray()) {
            throw invalidType("messages", "an array");
        }
        if (messages.isEmpty()) {
            throw new MockException(OpenAiError.invalidRequest("empty_array", "messages",
                    "Invalid 'messages': empty array. Expected an array with minimum length 1."));
        }

        boolean stream = bool(root, "stream");
        boolean includeUsage = false;
        JsonNode streamOptions = root.get("stream_options");
        if (streamOptions != null && !streamOptions.isNull()) {
            if (!stream) {
                throw new MockException(OpenAiError.invalidRequest("invalid_value", "stream_options",
                        "The 'stream_options' parameter is only allowed when 'stream' is enabled."));
            }
            if (!streamOptions.isObject()) {
                throw invalidType("stream_options", "an object");
            }
            includeUsage = bool(streamOptions, "include_usage");
        }

        int maxTokens = Math.min(positiveInt(root, "max_tokens"), positiveInt(root, "max_completion_tokens"));
        return new ChatRequest(model.textValue(), stream, includeUsage, promptTokens(messages), maxTokens);
    }

    private static long promptTokens(JsonNode messages) throws MockException {
        long tokens = 0;
        for (JsonNode message : messages) {
            if (!message.isObject()) {
                throw invalidType("messages", "an array of objects");
            }
            tokens += TOKENS_PER_MESSAGE + words(message.get("content"));
        }
        return Math.max(1, tokens);
    }

    /** Words of a string content, or of the text parts of an array content; other parts count nothing. */
    private static long words(JsonNode content) {
        if (content == null) {
            return 0;
        }
        if (content.isTextual()) {
            return words(content.textValue());
        }
        long n = 0;
        if (content.isArray()) {
            for (JsonNode part : content) {
                JsonNode text = part.get("text");
                if (text != null && text.isTextual()) {
                    n += words(text.textValue());
                }
            }
        }
        return n;
    }

    static int words(String text) {
        int n = 0;
        boolean inWord = false;
        for (int i = 0; i < text.length(); i++) {
            boolean space = Character.isWhitespace(text.charAt(i));
            if (!space && !inWord) {
                n++;
            }
            inWord = !space;
        }
        return n;
    }

    private static boolean bool(JsonNode parent, String field) throws MockException {
        JsonNode node = parent.get(field);
        if (node == null || node.isNull()) {
            return false;
        }
        if (!node.isBoolean()) {
            throw invalidType(field, "a boolean");
        }
        return node.booleanValue();
    }

    private static int positiveInt(JsonNode parent, String field) throws MockException {
        JsonNode node = parent.get(field);
        if (node == null || node.isNull()) {
            return Integer.MAX_VALUE;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw invalidType(field, "an integer");
        }
        if (node.intValue() < 1) {
            throw new MockException(OpenAiError.invalidRequest("integer_below_min_value", field,
                    "Invalid '" + field + "': integer below minimum value. Expected a value >= 1, but got "
                            + node.intValue() + " instead."));
        }
        return node.intValue();
    }

    private static MockException invalidJson() {
        return new MockException(OpenAiError.invalidRequest("invalid_json", null,
                "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload."));
    }

    private static MockException invalidType(String field, String expected) {
        return new MockException(OpenAiError.invalidRequest("invalid_type", field,
                "Invalid type for '" + field + "': expected " + expected + "."));
    }
}
