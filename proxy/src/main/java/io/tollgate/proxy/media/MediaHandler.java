package io.tollgate.proxy.media;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.proxy.ProxyServices;
import io.tollgate.proxy.catalog.KeyHashCache;
import io.netty.handler.timeout.IdleStateEvent;
import io.tollgate.proxy.http.BodyLimitExceeded;
import io.tollgate.proxy.http.ClientTimeoutHandler;
import io.tollgate.proxy.upstream.UpstreamPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * The image and video endpoints, in front of the chat frontend: a request head whose path is a
 * {@link MediaRoute} is taken here, with its body and its answer, as one {@link MediaExchange};
 * every other message passes through untouched.
 *
 * <p>It shares the connection with the frontend one request at a time. The frontend only asks
 * for a head when it has none in hand, so a media head always arrives while the frontend waits
 * for its next message; this handler then does its own reading until its exchange is over, keeps
 * the read-cycle events to itself meanwhile, and finally asks for the next message on the
 * frontend's behalf. Answers therefore leave in request order, as the frontend's do.
 */
public final class MediaHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(MediaHandler.class);
    private static final long LINGER_SECONDS = 2;

    private final ProxyServices services;
    private final MediaServices media;
    private ChannelHandlerContext ctx;
    private UpstreamPool pool;
    private ClientTimeoutHandler timeouts;
    private MediaExchange current;
    private boolean readPending;
    /** Our answer is out and our side shut; what the client still sends is read and dropped. */
    private boolean lingering;
    private KeyHashCache keyHashes;

    public MediaHandler(ProxyServices services, MediaServices media) {
        this.services = services;
        this.media = media;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        pool = services.pool(ctx.channel().eventLoop());
        timeouts = ctx.pipeline().get(ClientTimeoutHandler.class);
        keyHashes = KeyHashCache.of(ctx.channel());
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingering) {
            readPending = false;
            ReferenceCountUtil.release(msg);
            read();
            return;
        }
        MediaExchange e = current;
        if (e != null) {
            readPending = false;
            if (msg instanceof HttpContent content) {
                e.onContent(content);
            } else {
                // We never read past a body's end, so nothing else can come; should it, the
                // connection's framing is not to be trusted.
                ReferenceCountUtil.release(msg);
                ctx.close();
            }
            return;
        }
        MediaRoute route = msg instanceof HttpRequest head && !outputShut() ? routeOf(head) : null;
        if (route == null) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (timeouts != null) {
            timeouts.headReceived();
        }
        current = new MediaExchange(this, (HttpRequest) msg, route);
        current.start();
    }

    /** The media route of a head's path under {@code /v1} or {@code /api/v1}, or null. */
    static MediaRoute routeOf(HttpRequest head) {
        String uri = head.uri();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        String endpoint = path.startsWith("/v1/") ? path.substring(3)
                : path.startsWith("/api/v1/") ? path.substring(7) : null;
        return endpoint == null ? null : MediaRoute.match(endpoint);
    }

    /**
     * A read cycle may end without the message asked for; while an exchange is ours, ask again
     * ourselves (the frontend is not to see the cycle: it would read on its own).
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (current == null && !lingering) {
            ctx.fireChannelReadComplete();
        } else if (readPending && ctx.channel().isActive()) {
            ctx.read();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        boolean ours = evt instanceof BodyLimitExceeded || evt instanceof IdleStateEvent;
        if (ours && current != null) {
            current.onEvent(evt);
        } else if (!ours || !lingering) {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (current != null && ctx.channel().isWritable()) {
            current.clientWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        MediaExchange e = current;
        if (e != null) {
            current = null;
            e.clientGone();
        }
        ctx.fireChannelInactive();
    }

    // ---------------------------------------------------------------- for the exchange

    ProxyServices services() {
        return services;
    }

    MediaServices media() {
        return media;
    }

    ChannelHandlerContext ctx() {
        return ctx;
    }

    UpstreamPool pool() {
        return pool;
    }

    /** The connection's key hash cache, shared with the chat handler. */
    String hashOf(String secret) {
        return keyHashes.hashOf(secret);
    }

    /** The exchange wants the next piece of its body. */
    void read() {
        if (readPending) {
            return;
        }
        readPending = true;
        ctx.read();
    }

    /** The exchange is over, answer and body: the next head is the frontend's to ask for. */
    void next(MediaExchange e) {
        if (current != e) {
            return;
        }
        current = null;
        readPending = false;
        if (timeouts != null) {
            timeouts.awaitNextHead();
        }
        // The frontend's read() that brought the media head is still unanswered; answer it now.
        ctx.read();
    }

    /** The exchange is over and the connection must close after its answer. */
    void close(MediaExchange e, boolean bodyComplete) {
        if (current != e) {
            return;
        }
        current = null;
        if (bodyComplete) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        // Closing with unread bytes makes TCP reset the connection, which can destroy the answer
        // still on its way: send it, shut our side, and drain the client for a while.
        lingering = true;
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (!f.isSuccess() || !(ctx.channel() instanceof DuplexChannel duplex)) {
                ctx.close();
                return;
            }
            duplex.shutdownOutput();
            ctx.executor().schedule(() -> {
                ctx.close();
            }, LINGER_SECONDS, TimeUnit.SECONDS);
            readPending = false;
            read();
        });
    }

    private boolean outputShut() {
        return ctx.channel() instanceof DuplexChannel duplex && duplex.isOutputShutdown();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("client connection failed", cause);
        ctx.fireExceptionCaught(cause);
    }
}
