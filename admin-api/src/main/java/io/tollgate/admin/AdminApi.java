package io.tollgate.admin;

import io.tollgate.schema.AccountStore;
import io.tollgate.schema.KeyStore;
import io.tollgate.schema.LedgerStore;
import io.tollgate.schema.ModelStore;
import io.tollgate.schema.RequestLogStore;
import io.tollgate.schema.UpstreamStore;
import io.tollgate.schema.UsageStore;

import javax.sql.DataSource;
import java.time.Clock;

/** Wires stores, services and controllers into the router of {@code /admin/v1}. */
final class AdminApi {

    static final String BASE = "/admin/v1";
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;

    private AdminApi() {
    }

    static Router router(AdminServer.Config config, DataSource ds) {
        AccountService accounts = new AccountService(new AccountStore(ds), new LedgerStore(ds));
        KeyService keys = new KeyService(new KeyStore(ds), accounts, config.maxActiveKeys());
        Router router = new Router();
        new AccountController(accounts, config.tiers()).routes(router);
        new KeyController(keys).routes(router);
        new UpstreamController(new UpstreamService(new UpstreamStore(ds))).routes(router);
        new ModelController(new ModelService(new ModelStore(ds))).routes(router);
        new RequestLogController(new RequestLogStore(ds)).routes(router);
        new UsageController(accounts, new UsageStore(ds), Clock.systemUTC()).routes(router);
        return router;
    }
}
