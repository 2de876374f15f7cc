package io.tollgate.schema;

import java.math.BigDecimal;
import java.time.Instant;

public record Account(
        String id,
        String name,
        String tier,
        String status,
        BigDecimal balance,
        BigDecimal reserved,
        Instant createdAt) {

    public boolean active() {
        return "active".equals(status);
    }
}
