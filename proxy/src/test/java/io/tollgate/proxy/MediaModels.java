package io.tollgate.proxy;

import io.tollgate.schema.Model;
import io.tollgate.schema.Pricing;
import io.tollgate.schema.Route;

import java.math.BigDecimal;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;

/** Image and video models on a {@link Gateway}'s mock upstream, and the requests the media tests send. */
final class MediaModels {

    static final String IMAGE_MODEL = "test-image";
    static final String VIDEO_MODEL = "test-video";
    /** 0.01 per request plus 0.04 per image. */
    static final Pricing IMAGE_PRICING = new Pricing(new BigDecimal("0.01"), null, null, new BigDecimal("0.04"), null);
    /** 0.5 per second of video. */
    static final Pricing VIDEO_PRICING = new Pricing(null, null, null, null, new BigDecimal("0.5"));
    static final List<String> RESOLUTIONS = List.of("720p", "1080p", "1280x720");

    private MediaModels() {
    }

    /** Puts the image and video models (upstream names mock-image, mock-video) and waits for the proxy to know them. */
    static void put(Gateway gw) {
        put(gw, IMAGE_MODEL, "image", "mock-image", IMAGE_PRICING, null);
        put(gw, VIDEO_MODEL, "video", "mock-video", VIDEO_PRICING, RESOLUTIONS);
        gw.awaitModels(IMAGE_MODEL, VIDEO_MODEL, Gateway.MODEL);
    }

    static void put(Gateway gw, String id, String category, String upstreamModel, Pricing pricing, List<String> resolutions) {
        Instant now = Instant.now();
        gw.models.put(new Model(id, id, category, List.of(), List.of(new Route(gw.upstream.id(), upstreamModel)),
                pricing, null, true, true, resolutions, now, now));
    }

    static HttpResponse<String> post(Gateway gw, String path, String key, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(gw.uri(path))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .header("content-type", "application/json");
        if (key != null) {
            b.header("authorization", "Bearer " + key);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return gw.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(Gateway gw, String path, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(gw.uri(path)).GET();
        if (key != null) {
            b.header("authorization", "Bearer " + key);
        }
        return gw.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String imageBody(String model, int n) {
        return "{\"model\":\"" + model + "\",\"prompt\":\"a lighthouse at dusk\",\"n\":" + n + "}";
    }
}
