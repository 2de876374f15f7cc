package io.tollgate.proxy.media;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.tollgate.proxy.upstream.BackendHandler;
import io.tollgate.proxy.upstream.UpstreamPool;
import io.tollgate.proxy.upstream.UpstreamTarget;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One small upstream exchange, answered whole: a task submit or a task poll (a few hundred bytes
 * of JSON), or an image generation run for an async task. On a pooled connection of one event
 * loop; the future completes on that loop. A connection goes back to the pool only after a
 * complete keep-alive exchange.
 */
final class UpstreamCall implements BackendHandler.Listener {

    /** The upstream's answer: its status, headers and whole body. */
    record Answer(int status, HttpHeaders headers, byte[] body) {

        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    /** The upstream did not answer in time: the client is told 504. */
    static final class Timeout extends TimeoutException {
        Timeout(String message) {
            super(message);
        }
    }

    private final UpstreamPool pool;
    private final EventLoop loop;
    private final UpstreamTarget target;
    private final long firstByteNanos;
    private final long idleNanos;
    private final int maxBytes;
    private final CompletableFuture<Answer> result = new CompletableFuture<>();
    private Channel up;
    private HttpResponse head;
    private CompositeByteBuf body;
    private ScheduledFuture<?> timer;
    private long lastActivity;

    private UpstreamCall(UpstreamPool pool, EventLoop loop, UpstreamTarget target, Duration firstByte, Duration idle,
                         int maxBytes) {
        this.pool = pool;
        this.loop = loop;
        this.target = target;
        this.firstByteNanos = firstByte.toNanos();
        this.idleNanos = idle.toNanos();
        this.maxBytes = maxBytes;
    }

    /**
     * Sends {@code request} (released here) to {@code target}; must be called on {@code loop}, the
     * loop of {@code pool}. Fails with {@link io.netty.channel.ConnectTimeoutException} or
     * {@link Timeout} when too slow, and with an {@link IOException} when the connection fails or
     * the answer is larger than {@code maxBytes}.
     */
    static CompletableFuture<Answer> send(UpstreamPool pool, EventLoop loop, UpstreamTarget target,
                                          FullHttpRequest request, Duration firstByte, Duration idle, int maxBytes) {
        UpstreamCall call = new UpstreamCall(pool, loop, target, firstByte, idle, maxBytes);
        call.start(request);
        return call.result;
    }

    private void start(FullHttpRequest request) {
        pool.acquire(target).addListener(f -> {
            if (!f.isSuccess()) {
                request.release();
                result.completeExceptionally(f.cause());
                return;
            }
            up = (Channel) f.getNow();
            up.pipeline().get(BackendHandler.class).attach(this);
            up.writeAndFlush(request);
            lastActivity = System.nanoTime();
            schedule(firstByteNanos);
            up.read();
        });
    }

    private void schedule(long delay) {
        timer = loop.schedule(this::checkTime, delay, TimeUnit.NANOSECONDS);
    }

    private void checkTime() {
        timer = null;
        if (result.isDone()) {
            return;
        }
        long silent = System.nanoTime() - lastActivity;
        long limit = head == null ? firstByteNanos : idleNanos;
        if (silent >= limit) {
            fail(new Timeout(head == null ? "the upstream did not answer in time" : "the upstream went silent"));
        } else {
            schedule(limit - silent);
        }
    }

    @Override
    public void upstreamRead(HttpObject msg) {
        lastActivity = System.nanoTime();
        if (result.isDone()) {
            io.netty.util.ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse response) {
            int code = response.status().code();
            if (code >= 200 || code < 100) {
                head = response;
                body = up.alloc().compositeBuffer(Integer.MAX_VALUE);
                if (timer != null) {
                    timer.cancel(false);
                }
                schedule(idleNanos);
            }
        }
        if (msg instanceof HttpContent content) {
            if (head == null) {
                content.release();                          // the body of a 100 Continue: none, really
            } else if (content.content().readableBytes() > maxBytes - body.readableBytes()) {
                content.release();
                fail(new IOException("the upstream answer is larger than " + maxBytes + " bytes"));
                return;
            } else {
                body.addComponent(true, content.content().retain());
                content.release();
            }
            if (content instanceof LastHttpContent && head != null) {
                done();
                return;
            }
        }
        up.read();
    }

    private void done() {
        cancelTimer();
        byte[] bytes = ByteBufUtil.getBytes(body);
        body.release();
        body = null;
        Channel ch = up;
        up = null;
        if (HttpUtil.isKeepAlive(head)) {
            pool.release(target, ch);
        } else {
            ch.pipeline().get(BackendHandler.class).attach(null);
            ch.close();
        }
        result.complete(new Answer(head.status().code(), head.headers(), bytes));
    }

    private void fail(Throwable cause) {
        cancelTimer();
        if (body != null) {
            body.release();
            body = null;
        }
        Channel ch = up;
        up = null;
        if (ch != null) {
            ch.pipeline().get(BackendHandler.class).attach(null);
            ch.close();                                      // mid-exchange: never pooled
        }
        result.completeExceptionally(cause);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void upstreamWritabilityChanged(boolean writable) {
        // The request is small and written whole.
    }

    @Override
    public void upstreamClosed(Throwable cause) {
        up = null;
        if (!result.isDone()) {
            fail(new IOException(head == null ? "the upstream closed the connection before answering"
                    : "the upstream closed the connection mid-answer", cause));
        }
    }
}
