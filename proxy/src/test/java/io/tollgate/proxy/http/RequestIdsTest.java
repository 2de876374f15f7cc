package io.tollgate.proxy.http;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class RequestIdsTest {

    @Test
    void idsAreReqAnd32HexDigitsAndUnique() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id = RequestIds.next();
            assertThat(id).matches("req_[0-9a-f]{32}");
            assertThat(seen.add(id)).as("duplicate %s", id).isTrue();
        }
    }

    @Test
    void idsSortByTheirMillisecond() {
        String earlier = RequestIds.next(1_764_000_000_000L);
        String later = RequestIds.next(1_764_000_000_001L);
        assertThat(earlier).startsWith("req_019ab697e800").isLessThan(later);
        assertThat(later).startsWith("req_019ab697e801");
    }
}
