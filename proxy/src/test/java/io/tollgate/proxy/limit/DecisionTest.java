package io.tollgate.proxy.limit;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DecisionTest {

    @Test
    void anAllowedRequestCarriesTheBudgetHeaders() {
        Decision d = Decision.fromGcra(true, 30, 0, 1_500, 0);
        assertThat(d).isEqualTo(new Decision(Outcome.ALLOWED, 30, 0, 2, 0));
        assertThat(d.headers()).containsExactly(
                Map.entry("X-RateLimit-Limit", "30"), Map.entry("X-RateLimit-Remaining", "0"), Map.entry("X-RateLimit-Reset", "2"));
    }

    @Test
    void aRefusalAddsRetryAfterRoundedUpToAtLeastOneSecond() {
        Decision d = Decision.fromGcra(false, 30, 0, 1, 1);
        assertThat(d.retryAfterSeconds()).isEqualTo(1);
        assertThat(d.headers()).containsEntry("Retry-After", "1").containsEntry("X-RateLimit-Reset", "1");
        assertThat(Decision.fromGcra(false, 5, 5, 0, -1).retryAfterSeconds()).as("never fits").isEqualTo(60);
    }

    @Test
    void unavailableOnlyTellsWhenToRetry() {
        Decision d = Decision.unavailable(30);
        assertThat(d.unavailable()).isTrue();
        assertThat(d.allowed()).isFalse();
        assertThat(d.headers()).containsExactly(Map.entry("Retry-After", "1"));
    }

    @Test
    void aRefusalWithoutRetryAfterCannotBeBuilt() {
        assertThatThrownBy(() -> new Decision(Outcome.LIMITED, 30, 0, 0, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void addToSetsExactlyTheHeadersOfEachKindOfDecision() {
        for (Decision d : new Decision[]{Decision.fromGcra(true, 30, 29, 2000, 0),
                Decision.fromGcra(false, 30, 0, 2000, 1500), Decision.unavailable(30)}) {
            HttpHeaders h = new DefaultHttpHeaders();
            d.addTo(h);
            Map<String, String> set = new java.util.LinkedHashMap<>();
            h.forEach(e -> set.put(e.getKey(), e.getValue()));
            assertThat(set).as("%s", d).containsExactlyInAnyOrderEntriesOf(d.headers());
        }
    }
}
