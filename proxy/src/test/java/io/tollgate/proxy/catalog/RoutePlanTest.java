package io.tollgate.proxy.catalog;

import io.tollgate.proxy.upstream.UpstreamTarget;
import io.tollgate.schema.Model;
import io.tollgate.schema.Route;
import io.tollgate.schema.Upstream;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;

class RoutePlanTest {

    private final Map<String, Upstream> upstreams = new HashMap<>();
    private final Map<String, UpstreamTarget> targets = new HashMap<>();

    private void upstream(String id, int weight, int priority, boolean enabled) {
        upstreams.put(id, new Upstream(id, id, "openai", "http://" + id + "/v1", "k", weight, priority, enabled, Instant.EPOCH));
        targets.put(id, UpstreamTarget.parse("http://" + id + "/v1"));
    }

    private List<String> plan(RandomGenerator random, String... routeTo) {
        List<Route> routes = java.util.Arrays.stream(routeTo).map(id -> new Route(id, id + "-model")).toList();
        Model m = new Model("m", "m", "text", List.of("chat"), routes, null, null, true, true, null, Instant.EPOCH, Instant.EPOCH);
        return RoutePlan.of(new Catalog.Routing(Map.of("m", m), upstreams, targets), m, random).stream()
                .map(c -> c.upstream().id()).toList();
    }

    @Test
    void higherPriorityFirstThenLowerAndUnusableRoutesLeftOut() {
        upstream("low", 1, 0, true);
        upstream("high", 1, 5, true);
        upstream("off", 1, 9, false);
        upstream("mid", 1, 2, true);
        upstreams.put("no-address", new Upstream("no-address", "x", "openai", "x", "k", 1, 9, true, Instant.EPOCH));

        assertThat(plan(new SplittableRandom(1), "low", "high", "off", "gone", "no-address", "mid"))
                .containsExactly("high", "mid", "low");
    }

    @Test
    void aSingleRouteDrawsNothing() {
        upstream("a", 3, 0, true);
        RandomGenerator noDraws = () -> {
            throw new AssertionError("a single route needs no random number");
        };
        assertThat(plan(noDraws, "a")).containsExactly("a");
        assertThat(plan(noDraws)).isEmpty();
    }

    @Test
    void theFirstChoiceFollowsTheWeightsAndEveryRouteOfThePriorityFollows() {
        upstream("heavy", 3, 1, true);
        upstream("light", 1, 1, true);
        upstream("backup", 1, 0, true);
        SplittableRandom random = new SplittableRandom(42);
        int heavyFirst = 0;
        for (int i = 0; i < 10_000; i++) {
            List<String> plan = plan(random, "light", "heavy", "backup");
            assertThat(plan).hasSize(3).endsWith("backup").contains("heavy", "light");
            if (plan.get(0).equals("heavy")) {
                heavyFirst++;
            }
        }
        assertThat(heavyFirst).isBetween(7_200, 7_800);          // 3:1 is 7,500 of 10,000
    }

    @Test
    void weightZeroIsNeverTriedBesideAPositiveWeightButIsWhenAllOfItsPriorityWeighZero() {
        upstream("drained", 0, 1, true);
        upstream("serving", 1, 1, true);
        upstream("zero-a", 0, 0, true);
        upstream("zero-b", 0, 0, true);
        SplittableRandom random = new SplittableRandom(7);
        int aFirst = 0;
        for (int i = 0; i < 1_000; i++) {
            List<String> plan = plan(random, "drained", "serving", "zero-a", "zero-b");
            assertThat(plan).hasSize(3).startsWith("serving").contains("zero-a", "zero-b");
            if (plan.get(1).equals("zero-a")) {
                aFirst++;
            }
        }
        assertThat(aFirst).isBetween(400, 600);                  // all zero: as if equal
    }
}
