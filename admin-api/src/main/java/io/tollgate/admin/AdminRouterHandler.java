package io.tollgate.admin;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.tollgate.schema.Ids;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.TimeUnit;

/**
 * Routes one authenticated request to its controller and writes the answer. Controllers call JDBC,
 * so this handler runs on the blocking executor group, never on the I/O loop.
 */
@ChannelHandler.Sharable
final class AdminRouterHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LoggerFactory.getLogger(AdminRouterHandler.class);

    private final Router router;
    private final Json json;

    AdminRouterHandler(Router router, Json json) {
        this.router = router;
        this.json = json;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        long started = System.nanoTime();
        String requestId = Ids.newId("req");
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        String method = request.method().name();
        String path = uri.rawPath();
        FullHttpResponse response;
        try {
            Router.Match match = router.route(request.method(), path);
            ApiRequest apiRequest = new ApiRequest(requestId, method, path, match.params(), uri.parameters(),
                    ByteBufUtil.getBytes(request.content()), json);
            ApiResponse answer = match.handler().handle(apiRequest);
            response = HttpResponses.json(answer.status(),
                    answer.body() == null ? null : json.write(answer.body()), requestId);
        } catch (ApiException e) {
            response = HttpResponses.error(json, e, requestId);
        } catch (RuntimeException e) {
            response = HttpResponses.error(json, unexpected(e, method, path, requestId), requestId);
        }
        int status = response.status().code();
        HttpResponses.send(ctx, response, false);
        if (log.isDebugEnabled()) {
            log.debug("{} {} {} {}ms {}", method, path, status,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), requestId);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("admin connection failed, closing it: {}", cause.toString());
        ctx.close();
    }

    /**
     * Logs a failure the API did not expect. Driver messages can quote row values (an upstream's key
     * among them), so a database failure is logged by our own message and SQLState only.
     */
    private static ApiException unexpected(RuntimeException e, String method, String path, String requestId) {
        SQLException sql = findSqlException(e);
        if (sql == null) {
            log.error("{} {} failed, request {}", method, path, requestId, e);
            return ApiException.internal();
        }
        log.error("{} {} failed, request {}: {} (SQLState {})", method, path, requestId, e.getMessage(), sql.getSQLState());
        return sql instanceof SQLTransientConnectionException ? ApiException.databaseUnavailable() : ApiException.internal();
    }

    private static SQLException findSqlException(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s) {
                return s;
            }
        }
        return null;
    }
}
