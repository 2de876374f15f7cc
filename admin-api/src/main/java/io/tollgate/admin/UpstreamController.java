package io.tollgate.admin;

import io.tollgate.schema.Upstream;
import io.tollgate.schema.UpstreamStore;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.util.Set;

/** {@code /upstreams}. An upstream's {@code api_key} goes in and never comes out, only its last 4 characters. */
final class UpstreamController {

    static final String MOCK = "mock";
    private static final Set<String> PROVIDERS = Set.of("openai", "anthropic", MOCK);
    private static final int MAX_BASE_URL = 2000;
    private static final int MAX_API_KEY = 4000;

    private final UpstreamService upstreams;

    UpstreamController(UpstreamService upstreams) {
        this.upstreams = upstreams;
    }

    void routes(Router router) {
        router.post(AdminApi.BASE + "/upstreams", this::create)
                .get(AdminApi.BASE + "/upstreams", this::list)
                .get(AdminApi.BASE + "/upstreams/{id}", this::get)
                .patch(AdminApi.BASE + "/upstreams/{id}", this::update)
                .delete(AdminApi.BASE + "/upstreams/{id}", this::delete);
    }

    ApiResponse create(ApiRequest request) {
        JsonBody body = request.jsonBody();
        String name = body.maxLength("name", body.requiredText("name"), AccountController.MAX_NAME);
        String provider = body.requiredOneOf("provider", PROVIDERS);
        String baseUrl = baseUrl(body, body.requiredText("base_url"));
        String apiKey = body.maxLength("api_key", body.text("api_key"), MAX_API_KEY);
        // The mock provider needs no credentials; a real one without a key could only fail.
        if (!MOCK.equals(provider) && (apiKey == null || apiKey.isBlank())) {
            throw body.invalid("api_key", "is required for provider " + provider);
        }
        Integer weight = body.nonNegativeInteger("weight");
        Integer priority = body.integer("priority");
        Boolean enabled = body.bool("enabled");
        Upstream created = upstreams.create(name, provider, baseUrl, apiKey == null ? "" : apiKey,
                weight == null ? 1 : weight, priority == null ? 0 : priority, enabled == null || enabled);
        return ApiResponse.created(UpstreamView.of(created));
    }

    ApiResponse list(ApiRequest request) {
        return ApiResponse.list(upstreams.list().stream().map(UpstreamView::of).toList());
    }

    ApiResponse get(ApiRequest request) {
        return ApiResponse.ok(UpstreamView.of(upstreams.get(request.pathParam("id"))));
    }

    ApiResponse update(ApiRequest request) {
        JsonBody body = request.jsonBody()
                .forbidNull("name", "provider", "base_url", "api_key", "weight", "priority", "enabled");
        String name = body.maxLength("name", body.nonBlankText("name"), AccountController.MAX_NAME);
        String provider = body.oneOf("provider", PROVIDERS);
        String rawBaseUrl = body.text("base_url");
        String baseUrl = rawBaseUrl == null ? null : baseUrl(body, rawBaseUrl);
        String apiKey = body.maxLength("api_key", body.text("api_key"), MAX_API_KEY);
        UpstreamStore.Patch patch = new UpstreamStore.Patch(name, provider, baseUrl, apiKey,
                body.nonNegativeInteger("weight"), body.integer("priority"), body.bool("enabled"));
        return ApiResponse.ok(UpstreamView.of(upstreams.update(request.pathParam("id"), patch)));
    }

    ApiResponse delete(ApiRequest request) {
        upstreams.delete(request.pathParam("id"));
        return ApiResponse.noContent();
    }

    /**
     * An absolute http(s) URL with a host and no query, fragment or credentials, without trailing
     * slashes: the proxy appends {@code /chat/completions} to it.
     */
    private static String baseUrl(JsonBody body, String raw) {
        body.maxLength("base_url", raw, MAX_BASE_URL);
        try {
            URI uri = new URI(raw.trim());
            String scheme = uri.getScheme();
            if (scheme != null && (scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                    && uri.getHost() != null && uri.getRawUserInfo() == null
                    && uri.getRawQuery() == null && uri.getRawFragment() == null) {
                String url = uri.toString();
                while (url.endsWith("/")) {
                    url = url.substring(0, url.length() - 1);
                }
                return url;
            }
        } catch (URISyntaxException e) {
            // answered below
        }
        throw body.invalid("base_url", "must be an http(s) URL without query or credentials, such as https://api.openai.com/v1");
    }

    record UpstreamView(String id, String name, String provider, String baseUrl, String apiKeyLast4, int weight,
                        int priority, boolean enabled, Instant createdAt) {
        static UpstreamView of(Upstream u) {
            return new UpstreamView(u.id(), u.name(), u.provider(), u.baseUrl(), u.apiKeyLast4(), u.weight(),
                    u.priority(), u.enabled(), u.createdAt());
        }
    }
}
