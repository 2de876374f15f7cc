package io.tollgate.proxy.media;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.tollgate.proxy.http.ApiError;
import io.tollgate.proxy.http.Headers;
import io.tollgate.proxy.upstream.BackendHandler;
import io.tollgate.proxy.upstream.UpstreamPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A synchronous image generation, relayed: the rewritten request goes to the upstream on a pooled
 * connection of the client's own event loop, and the answer streams back to the client as it
 * comes (a {@code b64_json} answer can be megabytes), read from the upstream only while the client
 * can take more, with {@link ImageCounter} counting the images on the way.
 */
final class ImageRelay implements BackendHandler.Listener {

    private static final Logger log = LoggerFactory.getLogger(ImageRelay.class);

    private final MediaExchange x;
    private final UpstreamPool pool;
    private Channel up;
    private boolean headRelayed;
    private boolean upstreamDone;
    private boolean upstreamKeepAlive;
    private ImageCounter counter;
    private ScheduledFuture<?> timer;
    private long lastActivity;
    private boolean closed;

    ImageRelay(MediaExchange x) {
        this.x = x;
        this.pool = x.conn.pool();
    }

    void start() {
        pool.acquire(x.target).addListener(f -> {
            Channel ch = (Channel) f.getNow();
            if (closed) {
                if (ch != null) {
                    pool.release(x.target, ch);              // fresh and untouched: fine to pool
                }
                return;
            }
            if (!f.isSuccess()) {
                boolean timeout = f.cause() instanceof ConnectTimeoutException;
                x.fail(timeout ? ApiError.UPSTREAM_TIMEOUT : ApiError.UPSTREAM_ERROR,
                        timeout ? "connecting to the upstream timed out" : "the upstream is unreachable");
                return;
            }
            up = ch;
            ch.pipeline().get(BackendHandler.class).attach(this);
            ch.writeAndFlush(request());
            lastActivity = System.nanoTime();
            timer = x.ctx.executor().schedule(this::firstByteTimedOut,
                    x.services.config().upstreamFirstByteTimeout().toNanos(), TimeUnit.NANOSECONDS);
            ch.read();
        });
    }

    private FullHttpRequest request() {
        byte[] body = x.request.upstreamBody(x.upstreamModel);
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
                x.target.basePath() + MediaRoute.IMAGES, Unpooled.wrappedBuffer(body));
        UpstreamRequests.headers(x.head.headers(), r.headers(), x.upstream, x.target, x.requestId);
        HttpUtil.setContentLength(r, body.length);
        return r;
    }

    @Override
    public void upstreamRead(HttpObject msg) {
        lastActivity = System.nanoTime();
        if (msg instanceof HttpResponse response) {
            onHead(response);
        }
        if (msg instanceof HttpContent content) {
            onContent(content);
        } else if (up != null && !upstreamDone) {
            up.read();
        }
    }

    private void onHead(HttpResponse response) {
        int code = response.status().code();
        if (code >= 100 && code < 200) {
            return;                                          // 100 Continue and friends: the real head follows
        }
        cancelTimer();
        x.ttfbNanos = System.nanoTime() - x.startNanos;
        if (closed) {
            return;
        }
        upstreamKeepAlive = HttpUtil.isKeepAlive(response);
        boolean ok = code >= 200 && code < 300;
        if (!ok && !UpstreamRequests.PASS_THROUGH.contains(code)) {
            x.fail(ApiError.UPSTREAM_ERROR, "the upstream answered " + response.status());
            return;
        }
        HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, response.status());
        HttpHeaders h = out.headers();
        Headers.copyEndToEnd(response.headers(), h, UpstreamRequests.NOT_RETURNED);
        if (!h.contains(io.netty.handler.codec.http.HttpHeaderNames.CONTENT_LENGTH)) {
            HttpUtil.setTransferEncodingChunked(out, true);
        }
        if (ok) {
            counter = new ImageCounter();
        }
        headRelayed = true;
        x.writeHead(out);
        scheduleIdleCheck();
    }

    private void onContent(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (closed) {
            content.release();
            if (last) {
                upstreamDone = true;
                closeUpstream();
            }
            return;
        }
        if (counter != null) {
            counter.feed(content.content());
        }
        x.write(content, true);
        if (!last) {
            if (x.clientWritableNow()) {
                up.read();
            }
            return;
        }
        upstreamDone = true;
        cancelTimer();
        Channel ch = up;
        up = null;
        if (upstreamKeepAlive) {
            pool.release(x.target, ch);
        } else {
            ch.pipeline().get(BackendHandler.class).attach(null);
            ch.close();
        }
        closed = true;
        x.responseEnded();
    }

    /** Images relayed so far (complete elements of {@code data}); -1 when the upstream did not answer 2xx. */
    long images() {
        return counter == null ? -1 : counter.completed();
    }

    /** The client can take more: read on. */
    void clientWritable() {
        if (headRelayed && up != null && !upstreamDone && !closed) {
            up.read();
        }
    }

    @Override
    public void upstreamWritabilityChanged(boolean writable) {
        // The request is written whole at once; nothing waits for the upstream to drain.
    }

    @Override
    public void upstreamClosed(Throwable cause) {
        up = null;
        if (upstreamDone || closed) {
            return;
        }
        if (!headRelayed) {
            x.fail(ApiError.UPSTREAM_ERROR, "the upstream closed the connection before answering");
        } else {
            log.info("{}: upstream {} closed mid-answer", x.requestId, x.upstream.id());
            x.abort();
        }
    }

    private void firstByteTimedOut() {
        timer = null;
        if (!headRelayed && !closed) {
            x.fail(ApiError.UPSTREAM_TIMEOUT, "the upstream did not answer in time");
        }
    }

    private void scheduleIdleCheck() {
        long idle = x.services.config().upstreamIdleTimeout().toNanos();
        long wait = Math.max(1, idle - (System.nanoTime() - lastActivity));
        timer = x.ctx.executor().schedule(() -> {
            timer = null;
            if (closed || upstreamDone) {
                return;
            }
            if (System.nanoTime() - lastActivity >= idle) {
                log.info("{}: upstream silent for {} ms, aborting", x.requestId, idle / 1_000_000);
                x.abort();
            } else {
                scheduleIdleCheck();
            }
        }, wait, TimeUnit.NANOSECONDS);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** The exchange ended early (an error, the client left): a connection mid-exchange is closed, never pooled. */
    void close() {
        closed = true;
        closeUpstream();
    }

    private void closeUpstream() {
        cancelTimer();
        Channel ch = up;
        up = null;
        if (ch != null) {
            ch.pipeline().get(BackendHandler.class).attach(null);
            ch.close();
        }
    }
}
