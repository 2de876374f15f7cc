package io.tollgate.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.tollgate.schema.ApiKey;
import io.tollgate.schema.KeyStore;
import io.tollgate.schema.RateLimits;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** {@code /accounts/{id}/keys} and {@code /keys/{id}}. The plaintext key appears in the create answer only. */
final class KeyController {

    private static final Set<String> PATCHABLE_STATUSES = Set.of(ApiKey.ACTIVE, ApiKey.PAUSED);

    private final KeyService keys;

    KeyController(KeyService keys) {
        this.keys = keys;
    }

    void routes(Router router) {
        router.post(AdminApi.BASE + "/accounts/{id}/keys", this::create)
                .get(AdminApi.BASE + "/accounts/{id}/keys", this::list)
                .get(AdminApi.BASE + "/keys/{id}", this::get)
                .patch(AdminApi.BASE + "/keys/{id}", this::update)
                .delete(AdminApi.BASE + "/keys/{id}", this::revoke);
    }

    ApiResponse create(ApiRequest request) {
        JsonBody body = request.jsonBody();
        String name = body.maxLength("name", body.text("name"), AccountController.MAX_NAME);
        List<String> models = models(body);
        BigDecimal creditLimit = body.nonNegativeDecimal("credit_limit");
        Instant expiresAt = body.instant("expires_at");
        RateLimits rateLimits = rateLimits(body);
        KeyStore.Created created = keys.create(request.pathParam("id"), name, models, creditLimit, expiresAt, rateLimits);
        return ApiResponse.created(KeyView.of(created.key(), created.plaintext()));
    }

    ApiResponse list(ApiRequest request) {
        return ApiResponse.list(keys.list(request.pathParam("id")).stream().map(k -> KeyView.of(k, null)).toList());
    }

    ApiResponse get(ApiRequest request) {
        return ApiResponse.ok(KeyView.of(keys.get(request.pathParam("id")), null));
    }

    /** A field left out stays; {@code models}, {@code credit_limit}, {@code expires_at} and {@code rate_limits} may be set to null. */
    ApiResponse update(ApiRequest request) {
        JsonBody body = request.jsonBody().forbidNull("name", "status");
        String name = body.maxLength("name", body.text("name"), AccountController.MAX_NAME);
        String status = body.text("status");
        if (ApiKey.REVOKED.equals(status)) {
            throw body.invalid("status", "cannot be revoked here; DELETE /admin/v1/keys/{id} revokes a key");
        }
        status = body.oneOf("status", PATCHABLE_STATUSES);
        List<String> models = models(body);
        BigDecimal creditLimit = body.nonNegativeDecimal("credit_limit");
        Instant expiresAt = body.instant("expires_at");
        RateLimits rateLimits = body.has("rate_limits") ? rateLimits(body) : null;
        KeyStore.Patch patch = new KeyStore.Patch(name, status,
                models, body.has("models"),
                creditLimit, body.has("credit_limit"),
                expiresAt, body.has("expires_at"),
                rateLimits);
        return ApiResponse.ok(KeyView.of(keys.update(request.pathParam("id"), patch), null));
    }

    ApiResponse revoke(ApiRequest request) {
        keys.revoke(request.pathParam("id"));
        return ApiResponse.noContent();
    }

    /** The allowlist without duplicates, in the order given; null means every public model. */
    private static List<String> models(JsonBody body) {
        List<String> models = body.stringList("models");
        return models == null ? null : List.copyOf(new LinkedHashSet<>(models));
    }

    /** RPM overrides; null or absent clears them all, a field left out falls back to the account tier. */
    private static RateLimits rateLimits(JsonBody body) {
        JsonBody limits = body.object("rate_limits");
        if (limits == null) {
            return RateLimits.NONE;
        }
        return new RateLimits(limits.positiveInteger("general"), limits.positiveInteger("image_submit"),
                limits.positiveInteger("image_poll"));
    }

    record KeyView(String id, @JsonInclude(JsonInclude.Include.NON_NULL) String key, String prefix, String name,
                   String status, List<String> models, BigDecimal creditLimit, BigDecimal creditUsed, Instant expiresAt,
                   RateLimitsView rateLimits, Instant createdAt, String accountId) {

        /** @param plaintext the secret, given only when the key was just created */
        static KeyView of(ApiKey k, String plaintext) {
            return new KeyView(k.id(), plaintext, k.prefix(), k.name(), k.status(), k.models(), k.creditLimit(),
                    k.creditUsed(), k.expiresAt(), RateLimitsView.of(k.rateLimits()), k.createdAt(), k.accountId());
        }
    }

    record RateLimitsView(Integer general, Integer imageSubmit, Integer imagePoll) {
        static RateLimitsView of(RateLimits r) {
            return new RateLimitsView(r.general(), r.imageSubmit(), r.imagePoll());
        }
    }
}
