package io.tollgate.admin;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.tollgate.schema.Model;
import io.tollgate.schema.Pricing;
import io.tollgate.schema.Route;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** {@code /models}. A model id may contain '/': the rest of the path after {@code /models/} is the id. */
final class ModelController {

    private static final Set<String> CATEGORIES = Set.of("text", "image", "video");
    private static final int MAX_ID = 200;

    private final ModelService models;

    ModelController(ModelService models) {
        this.models = models;
    }

    void routes(Router router) {
        router.get(AdminApi.BASE + "/models", this::list)
                .put(AdminApi.BASE + "/models/{id+}", this::put)
                .get(AdminApi.BASE + "/models/{id+}", this::get)
                .delete(AdminApi.BASE + "/models/{id+}", this::delete);
    }

    /**
     * Creates or replaces the whole model. {@code category}, {@code routes} and {@code pricing} are required
     * ({@code pricing: {}} is an explicit "free"); the rest defaults: display_name to the id, capabilities to [],
     * enabled and public to true.
     */
    ApiResponse put(ApiRequest request) {
        String id = modelId(request.pathParam("id"));
        JsonBody body = request.jsonBody();
        String displayName = body.maxLength("display_name", body.nonBlankText("display_name"), AccountController.MAX_NAME);
        String category = body.requiredOneOf("category", CATEGORIES);
        List<String> capabilities = body.stringList("capabilities");
        List<Route> routes = new ArrayList<>();
        for (JsonBody route : body.requiredObjectList("routes")) {
            routes.add(new Route(route.requiredText("upstream_id"), route.requiredText("upstream_model")));
        }
        JsonBody price = body.requiredObject("pricing");
        Pricing pricing = new Pricing(
                price.nonNegativeDecimal("per_request"),
                price.nonNegativeDecimal("input_per_1m"),
                price.nonNegativeDecimal("output_per_1m"),
                price.nonNegativeDecimal("per_image"),
                price.nonNegativeDecimal("per_second"));
        Integer maxOutputTokens = body.positiveInteger("max_output_tokens");
        Boolean enabled = body.bool("enabled");
        Boolean isPublic = body.bool("public");
        List<String> videoResolutions = body.stringList("video_resolutions");

        Model model = new Model(id, displayName == null ? id : displayName, category,
                capabilities == null ? List.of() : capabilities, routes, pricing, maxOutputTokens,
                enabled == null || enabled, isPublic == null || isPublic, videoResolutions, null, null);
        ModelService.Put put = models.put(model);
        return new ApiResponse(put.created() ? HttpResponseStatus.CREATED : HttpResponseStatus.OK, ModelView.of(put.model()));
    }

    ApiResponse list(ApiRequest request) {
        return ApiResponse.list(models.list().stream().map(ModelView::of).toList());
    }

    ApiResponse get(ApiRequest request) {
        return ApiResponse.ok(ModelView.of(models.get(request.pathParam("id"))));
    }

    ApiResponse delete(ApiRequest request) {
        models.delete(request.pathParam("id"));
        return ApiResponse.noContent();
    }

    /** Ids are what clients send as {@code model}: printable, no spaces, at most 200 characters. */
    private static String modelId(String id) {
        if (id.length() > MAX_ID) {
            throw ApiException.invalidRequest("model id must be at most " + MAX_ID + " characters");
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (Character.isWhitespace(c) || Character.isISOControl(c)) {
                throw ApiException.invalidRequest("model id must not contain spaces or control characters");
            }
        }
        return id;
    }

    record ModelView(String id, String object, String displayName, String category, List<String> capabilities,
                     List<RouteView> routes, PricingView pricing, Integer maxOutputTokens, boolean enabled,
                     @JsonProperty("public") boolean isPublic, List<String> videoResolutions, Instant createdAt,
                     Instant updatedAt) {
        static ModelView of(Model m) {
            return new ModelView(m.id(), "model", m.displayName(), m.category(), m.capabilities(),
                    m.routes().stream().map(r -> new RouteView(r.upstreamId(), r.upstreamModel())).toList(),
                    PricingView.of(m.pricing()), m.maxOutputTokens(), m.enabled(), m.isPublic(), m.videoResolutions(),
                    m.createdAt(), m.updatedAt());
        }
    }

    record RouteView(String upstreamId, String upstreamModel) {
    }

    /** Explicit names: snake_case alone would write {@code input_per1m}. */
    record PricingView(@JsonProperty("per_request") BigDecimal perRequest,
                       @JsonProperty("input_per_1m") BigDecimal inputPer1m,
                       @JsonProperty("output_per_1m") BigDecimal outputPer1m,
                       @JsonProperty("per_image") BigDecimal perImage,
                       @JsonProperty("per_second") BigDecimal perSecond) {
        static PricingView of(Pricing p) {
            return new PricingView(p.perRequest(), p.inputPer1m(), p.outputPer1m(), p.perImage(), p.perSecond());
        }
    }
}
