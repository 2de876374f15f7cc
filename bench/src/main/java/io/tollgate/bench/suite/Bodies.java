package io.tollgate.bench.suite;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/** The request bodies of the scenarios: what real clients of a gateway send, model first. */
public final class Bodies {

    private Bodies() {
    }

    /** A small chat request (about 200 bytes), streamed or not. */
    public static String chat(String model, boolean stream, int maxTokens) {
        return "{\"model\":\"" + model + "\",\"messages\":["
                + "{\"role\":\"system\",\"content\":\"You are a helpful assistant. Answer briefly.\"},"
                + "{\"role\":\"user\",\"content\":\"Write one sentence about toll roads and why they exist.\"}],"
                + "\"max_tokens\":" + maxTokens + (stream ? ",\"stream\":true" : "") + "}";
    }

    /**
     * A vision request of exactly {@code size} bytes: the routing fields first, then one message
     * whose image is a base64 data URL, as clients send screenshots and scans. The image is one
     * JSON string of almost the whole size: a proxy that only forwards complete JSON tokens holds
     * all of it.
     */
    public static byte[] upload(String model, int size) {
        String before = "{\"model\":\"" + model + "\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":["
                + "{\"type\":\"text\",\"text\":\"What is written on this toll booth sign?\"},"
                + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,";
        String after = "\"}}]}]}";
        int data = size - before.length() - after.length();
        if (data < 4) {
            throw new IllegalArgumentException("an upload needs at least " + (before.length() + after.length() + 4) + " bytes");
        }
        byte[] out = new byte[size];
        byte[] b = before.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, out, 0, b.length);
        // Deterministic base64 digits, so every run uploads the same bytes.
        byte[] alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".getBytes(StandardCharsets.US_ASCII);
        Random random = new Random(512);
        for (int i = 0; i < data; i++) {
            out[b.length + i] = alphabet[random.nextInt(64)];
        }
        byte[] a = after.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(a, 0, out, size - a.length, a.length);
        return out;
    }
}
