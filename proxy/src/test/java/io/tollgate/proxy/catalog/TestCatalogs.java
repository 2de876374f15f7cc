package io.tollgate.proxy.catalog;

import io.tollgate.schema.Account;
import io.tollgate.schema.ApiKey;
import io.tollgate.schema.Model;

import java.util.Map;

/** Fills a {@link Catalog} directly, for handler tests that need no database behind it. */
public final class TestCatalogs {

    private TestCatalogs() {
    }

    public static Catalog of(Account account, ApiKey key, Model... models) {
        Catalog c = new Catalog();
        c.putAccount(account);
        c.putKey(key);
        Map<String, Model> byId = new java.util.HashMap<>();
        for (Model m : models) {
            byId.put(m.id(), m);
        }
        c.setRouting(new Catalog.Routing(Map.copyOf(byId), Map.of(), Map.of()));
        return c;
    }
}
