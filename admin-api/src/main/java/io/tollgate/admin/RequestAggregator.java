package io.tollgate.admin;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.tollgate.schema.Ids;

/** Aggregates a request into one message; an oversized one is answered 413 in the API's error format. */
final class RequestAggregator extends HttpObjectAggregator {

    private final Json json;
    private final int maxContentLength;

    RequestAggregator(int maxContentLength, Json json) {
        super(maxContentLength);
        this.maxContentLength = maxContentLength;
        this.json = json;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
        if (!(oversized instanceof HttpRequest)) {
            super.handleOversizedMessage(ctx, oversized);
            return;
        }
        // The rest of the body may still be on its way: answer, then close rather than drain it.
        HttpResponses.send(ctx,
                HttpResponses.error(json, ApiException.requestTooLarge(maxContentLength), Ids.newId("req")), true);
    }
}
