package io.tollgate.admin;

import io.tollgate.schema.RequestLogEntry;
import io.tollgate.schema.RequestLogStore;

import java.math.BigDecimal;
import java.time.Instant;

/** {@code GET /requests}: the request log, newest first, optionally for one account or key. */
final class RequestLogController {

    private final RequestLogStore log;

    RequestLogController(RequestLogStore log) {
        this.log = log;
    }

    void routes(Router router) {
        router.get(AdminApi.BASE + "/requests", this::list);
    }

    ApiResponse list(ApiRequest request) {
        int limit = request.limit(AdminApi.DEFAULT_LIMIT, AdminApi.MAX_LIMIT);
        String accountId = emptyToNull(request.queryParam("account_id"));
        String keyId = emptyToNull(request.queryParam("key_id"));
        return ApiResponse.list(log.list(accountId, keyId, limit).stream().map(RequestLogView::of).toList());
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    record RequestLogView(String requestId, String accountId, String keyId, String model, String endpoint, int status,
                          String errorCode, Integer latencyMs, Integer ttfbMs, Long inputTokens, Long outputTokens,
                          BigDecimal credits, String upstreamId, Instant createdAt) {
        static RequestLogView of(RequestLogEntry e) {
            return new RequestLogView(e.requestId(), e.accountId(), e.keyId(), e.model(), e.endpoint(), e.status(),
                    e.errorCode(), e.latencyMs(), e.ttfbMs(), e.inputTokens(), e.outputTokens(), e.credits(),
                    e.upstreamId(), e.createdAt());
        }
    }
}
