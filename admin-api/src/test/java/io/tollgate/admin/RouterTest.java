package io.tollgate.admin;

import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RouterTest {

    private static final Router.Handler ONE = r -> ApiResponse.ok("one");
    private static final Router.Handler MODEL = r -> ApiResponse.ok("model");
    private static final Router.Handler MODELS = r -> ApiResponse.ok("models");

    private final Router router = new Router()
            .get("/v1/accounts/{id}", ONE)
            .patch("/v1/accounts/{id}", ONE)
            .get("/v1/models", MODELS)
            .get("/v1/models/{id+}", MODEL)
            .put("/v1/models/{id+}", MODEL);

    @Test
    void matchesLiteralsAndOneSegmentParameters() {
        Router.Match m = router.route(HttpMethod.GET, "/v1/accounts/acct_1");

        assertThat(m.handler()).isSameAs(ONE);
        assertThat(m.params()).isEqualTo(Map.of("id", "acct_1"));
    }

    @Test
    void aRestParameterTakesEverySegmentLeft() {
        assertThat(router.route(HttpMethod.PUT, "/v1/models/openai/gpt-5").params()).containsEntry("id", "openai/gpt-5");
        assertThat(router.route(HttpMethod.GET, "/v1/models/a/b/c").params()).containsEntry("id", "a/b/c");
        assertThat(router.route(HttpMethod.GET, "/v1/models").handler()).isSameAs(MODELS);
    }

    @Test
    void segmentsArePercentDecodedButPlusStaysPlus() {
        assertThat(router.route(HttpMethod.GET, "/v1/models/a%2Fb").params()).containsEntry("id", "a/b");
        assertThat(router.route(HttpMethod.GET, "/v1/models/a+b").params()).containsEntry("id", "a+b");
        assertThat(router.route(HttpMethod.GET, "/v1/accounts/%61cct").params()).containsEntry("id", "acct");
        assertThatThrownBy(() -> router.route(HttpMethod.GET, "/v1/models/%zz"))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo("invalid_request"));
    }

    @Test
    void unknownPathsAre404() {
        for (String path : new String[]{"/v1/accounts", "/v1/accounts/", "/v1/accounts/a/b", "/v1/models/", "/v1/models/a//b",
                "/v2/models", "/", ""}) {
            assertThatThrownBy(() -> router.route(HttpMethod.GET, path)).as(path)
                    .isInstanceOfSatisfying(ApiException.class, e -> {
                        assertThat(e.status().code()).isEqualTo(404);
                        assertThat(e.code()).isEqualTo("not_found");
                    });
        }
    }

    @Test
    void aKnownPathWithAnotherMethodIs405WithAllow() {
        assertThatThrownBy(() -> router.route(HttpMethod.DELETE, "/v1/accounts/acct_1"))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status().code()).isEqualTo(405);
                    assertThat(e.code()).isEqualTo("method_not_allowed");
                    assertThat(e.headers()).containsEntry("Allow", "GET, PATCH");
                });
    }

    @Test
    void aRestParameterMustComeLast() {
        assertThatThrownBy(() -> new Router().get("/v1/{id+}/x", ONE)).isInstanceOf(IllegalArgumentException.class);
    }
}
