package io.tollgate.admin;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.schema.Ids;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Lets a request through only with {@code Authorization: Bearer <admin token>}. A request the codec
 * could not parse is refused here too, before anything trusts its headers.
 */
@ChannelHandler.Sharable
final class AdminAuthHandler extends ChannelInboundHandlerAdapter {

    private static final String BEARER = "Bearer ";

    private final byte[] tokenDigest;
    private final Json json;

    AdminAuthHandler(String adminToken, Json json) {
        this.tokenDigest = sha256(adminToken);
        this.json = json;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (request.decoderResult().isFailure()) {
            ReferenceCountUtil.release(request);
            HttpResponses.send(ctx, HttpResponses.error(json,
                    ApiException.invalidRequest("malformed HTTP request"), Ids.newId("req")), true);
            return;
        }
        if (!authorized(request.headers().get(HttpHeaderNames.AUTHORIZATION))) {
            ReferenceCountUtil.release(request);
            HttpResponses.send(ctx, HttpResponses.error(json, ApiException.invalidAdminToken(), Ids.newId("req")), false);
            return;
        }
        ctx.fireChannelRead(request);
    }

    /** Compares digests in constant time, so neither the token's content nor its length leaks through timing. */
    boolean authorized(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return false;
        }
        String token = authorization.substring(BEARER.length()).trim();
        return !token.isEmpty() && MessageDigest.isEqual(tokenDigest, sha256(token));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
