package io.tollgate.bench.jmh;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/** Realistic request and answer bodies for the benchmarks, the same bytes on every run. */
final class Samples {

    private static final String[] WORDS = ("the a toll gateway request model stream token credit answer upstream key "
            + "limit billing account reserve settle latency proxy chunk event usage json body client server route "
            + "please explain why how what when summary list table code example function return value error retry "
            + "database index cache memory thread loop buffer socket connection header status").split(" ");

    private Samples() {
    }

    /** One word of the samples' vocabulary. */
    static String word(Random random) {
        return WORDS[random.nextInt(WORDS.length)];
    }

    /** A chat request of about {@code size} bytes: model first, then a conversation, then the options. */
    static byte[] chatRequest(int size) {
        Random random = new Random(size);
        StringBuilder sb = new StringBuilder(size + 256);
        sb.append("{\"model\":\"gpt-4o-mini\",\"messages\":[")
                .append("{\"role\":\"system\",\"content\":\"You are a helpful assistant. Answer in the user's language, ")
                .append("be concise, and use markdown tables when comparing things.\"}");
        boolean user = true;
        String tail = "],\"temperature\":0.7,\"top_p\":1,\"max_tokens\":512,\"stream\":true,\"user\":\"user-4711\"}";
        while (sb.length() + tail.length() < size) {
            int room = size - sb.length() - tail.length() - 40;
            int words = Math.max(1, Math.min(40 + random.nextInt(120), room / 7));
            sb.append(",{\"role\":\"").append(user ? "user" : "assistant").append("\",\"content\":\"");
            for (int i = 0; i < words; i++) {
                sb.append(i == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
                if (random.nextInt(12) == 0) {
                    sb.append(random.nextBoolean() ? ".\\n" : ", \\\"quoted\\\"");
                }
            }
            sb.append("\"}");
            user = !user;
        }
        return sb.append(tail).toString().getBytes(StandardCharsets.UTF_8);
    }

    /** One SSE event of an OpenAI chat stream, as an upstream writes it. */
    static String chunkEvent(int i, boolean last) {
        return "data: {\"id\":\"chatcmpl-9xYzAbCdEf\",\"object\":\"chat.completion.chunk\",\"created\":1731000000,"
                + "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_0ba0d124f1\",\"choices\":[{\"index\":0,"
                + "\"delta\":{" + (i == 0 ? "\"role\":\"assistant\"," : "") + "\"content\":\" " + WORDS[i % WORDS.length]
                + "\"},\"logprobs\":null,\"finish_reason\":" + (last ? "\"stop\"" : "null") + "}],\"usage\":null}\n\n";
    }

    /** The usage-only chunk a stream ends with when {@code include_usage} is on. */
    static String usageEvent(int completionTokens) {
        return "data: {\"id\":\"chatcmpl-9xYzAbCdEf\",\"object\":\"chat.completion.chunk\",\"created\":1731000000,"
                + "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_0ba0d124f1\",\"choices\":[],"
                + "\"usage\":{\"prompt_tokens\":812,\"completion_tokens\":" + completionTokens + ",\"total_tokens\":"
                + (812 + completionTokens) + ",\"prompt_tokens_details\":{\"cached_tokens\":0},"
                + "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n";
    }

    /** A whole non-streamed chat.completion of about 1 KB, usage last as OpenAI writes it. */
    static byte[] completion() {
        StringBuilder content = new StringBuilder();
        for (int i = 0; i < 120; i++) {
            content.append(i == 0 ? "" : " ").append(WORDS[i % WORDS.length]);
        }
        return ("{\"id\":\"chatcmpl-9xYzAbCdEf\",\"object\":\"chat.completion\",\"created\":1731000000,"
                + "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                + "\"content\":\"" + content + "\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":812,\"completion_tokens\":120,\"total_tokens\":932,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
                + "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0}},"
                + "\"system_fingerprint\":\"fp_0ba0d124f1\"}").getBytes(StandardCharsets.UTF_8);
    }
}
