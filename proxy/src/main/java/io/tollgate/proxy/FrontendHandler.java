package io.tollgate.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.proxy.billing.Prices;
import io.tollgate.proxy.catalog.Access;
import io.tollgate.proxy.catalog.KeyHashCache;
import io.tollgate.proxy.catalog.Catalog;
import io.tollgate.proxy.catalog.RoutePlan;
import io.tollgate.proxy.chat.ChatRequestInspector;
import io.tollgate.proxy.chat.InvalidRequestException;
import io.tollgate.proxy.chat.SseEventStream;
import io.tollgate.proxy.chat.Usage;
import io.tollgate.proxy.chat.UsageTap;
import io.tollgate.proxy.http.ApiError;
import io.tollgate.proxy.http.BodyLimitExceeded;
import io.tollgate.proxy.http.ClientTimeoutHandler;
import io.tollgate.proxy.http.ErrorResponses;
import io.tollgate.proxy.http.Headers;
import io.tollgate.proxy.limit.Decision;
import io.tollgate.proxy.limit.LimitClass;
import io.tollgate.proxy.limit.Limiters;
import io.tollgate.proxy.http.RequestIds;
import io.tollgate.proxy.upstream.BackendHandler;
import io.tollgate.proxy.upstream.UpstreamPool;
import io.tollgate.proxy.upstream.UpstreamTarget;
import io.tollgate.schema.Account;
import io.tollgate.schema.ApiKey;
import io.tollgate.schema.BillingStore;
import io.tollgate.schema.Model;
import io.tollgate.schema.Pricing;
import io.tollgate.schema.RequestLogEntry;
import io.tollgate.schema.Upstream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The client side of the gateway: one request at a time per connection (pipelined requests wait
 * in the decoder, so answers leave in order). For each request: route the path, check the key,
 * read the body through the {@link ChatRequestInspector}, route the model to a pooled upstream
 * connection on this same event loop, reserve credits, release the body's tail, relay the
 * answer, and record exactly one outcome for billing and the request log.
 */
public final class FrontendHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(FrontendHandler.class);
    /**
     * The upstream request's headers check their values but not their names: each name is one of
     * ours or one of the client's, which its head's decoder already checked (checking them again
     * was 0.6% of the event loop).
     */
    private static final HttpHeadersFactory UPSTREAM_HEADERS =
            DefaultHttpHeadersFactory.headersFactory().withNameValidation(false);
    private static final Headers.Dropped NOT_FORWARDED = Headers.dropping(
            HttpHeaderNames.HOST, HttpHeaderNames.AUTHORIZATION, Headers.X_API_KEY,
            HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderNames.EXPECT,
            Headers.X_REQUEST_ID);
    private static final Headers.Dropped NOT_RETURNED = Headers.dropping(Headers.X_REQUEST_ID);
    /** Upstream statuses that are the client's own doing and pass through untouched. */
    private static final Set<Integer> PASS_THROUGH = Set.of(400, 404, 409, 413, 422, 429);
    private static final String CHAT = "/chat/completions";
    private static final String MODELS = "/models";
    private static final String MOCK = "mock";
    private static final long LINGER_SECONDS = 2;
    /** Output tokens reserved for a model with no cap when the request sets no max_tokens. */
    private static final long DEFAULT_OUTPUT_BOUND = 4096;

    private enum Reservation { NONE, PENDING, HELD, REFUSED }

    private final ProxyServices services;
    private ChannelHandlerContext ctx;
    private UpstreamPool pool;
    private ClientTimeoutHandler timeouts;
    private Exchange current;
    /** A read() asked for that no message has answered yet; see {@link #channelReadComplete}. */
    private boolean readPending;
    /** The answer is out and our side shut; what the client still sends is read and dropped. */
    private boolean lingering;
    private KeyHashCache keyHashes;
    /**
     * The connection's one timer for its exchanges' upstream timeouts, moved rather than cancelled:
     * an exchange {@link #watch}es a time, the timer fires at the earliest time watched since it was
     * set and then asks the exchange in flight when it is due now. A schedule and a cancel a
     * timeout, two of each a request, were 2.4% of the event loop's CPU at saturation.
     */
    private ScheduledFuture<?> watch;
    private long watchAt;

    public FrontendHandler(ProxyServices services) {
        this.services = services;
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
        requestRead();
        ctx.fireChannelActive();
    }

    /**
     * Asks for the next message; the decoder hands on one per read(), so a second read()
     * before the first is answered would pull in the next pipelined request too early.
     */
    private void requestRead() {
        if (readPending) {
            return;
        }
        readPending = true;
        ctx.read();
    }

    /**
     * A read cycle may end without the message our read() asked for (a head and its body often
     * come in separate segments); the decoder counts that read as satisfied, so ask again.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (readPending && ctx.channel().isActive()) {
            ctx.read();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        readPending = false;
        if (msg instanceof HttpRequest request) {
            onHead(request);
        } else if (msg instanceof HttpContent content) {
            onBody(content);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        Exchange e = current;
        if (evt instanceof BodyLimitExceeded limit) {
            if (e != null && !e.answered) {
                e.closeAfterAnswer = true;
                e.fail(ApiError.REQUEST_TOO_LARGE, "request body is larger than " + limit.limit() + " bytes");
            } else {
                ctx.close();
            }
        } else if (evt instanceof IdleStateEvent) {
            if (e == null) {
                ctx.close();                                  // an idle keep-alive connection
            } else if (!e.bodyComplete && !e.answered) {
                e.closeAfterAnswer = true;
                e.fail(ApiError.REQUEST_TIMEOUT, "the request body was not received in time");
            }
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange e = current;
        if (ctx.channel().isWritable() && e != null && e.up != null && e.answered && !e.upstreamDone) {
            e.up.read();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Exchange e = current;
        if (e != null) {
            e.clientGone();
        }
        if (watch != null) {
            watch.cancel(false);
            watch = null;
        }
        ctx.fireChannelInactive();
    }

    /** Makes the connection's timer fire by {@code due} (System.nanoTime): moved earlier if need be, never later. */
    private void watch(long due) {
        if (!ctx.channel().isActive()) {
            return;                                          // closed: channelInactive has cancelled it for good
        }
        if (watch != null) {
            if (due - watchAt >= 0) {
                return;
            }
            watch.cancel(false);
        }
        watchAt = due;
        watch = ctx.executor().schedule(this::watchFired, Math.max(0, due - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void watchFired() {
        watch = null;
        Exchange e = current;
        if (e == null || !e.watched()) {
            return;                                          // what set it has ended: nothing to time now
        }
        long due = e.due();
        if (System.nanoTime() - due >= 0) {
            e.timedOut();
        } else {
            watch(due);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("client connection failed", cause);
        ctx.close();
    }

    // ---------------------------------------------------------------- request head

    private void onHead(HttpRequest request) {
        if (timeouts != null) {
            timeouts.headReceived();
        }
        Exchange e = new Exchange(request);
        current = e;
        String uri = request.uri();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        String endpoint = path.startsWith("/v1/") ? path.substring(3)
                : path.startsWith("/api/v1/") ? path.substring(7) : null;
        e.endpoint = endpoint == null ? path : endpoint;
        if (endpoint == null || !(endpoint.equals(CHAT) || endpoint.equals(MODELS))) {
            e.fail(ApiError.NOT_FOUND, "no such path: " + path);
            e.readMore();
            return;
        }
        HttpMethod expected = endpoint.equals(CHAT) ? HttpMethod.POST : HttpMethod.GET;
        if (!request.method().equals(expected)) {
            e.fail(ApiError.METHOD_NOT_ALLOWED, request.method() + " is not allowed on " + path);
            e.readMore();
            return;
        }
        if (!e.authenticate()) {
            e.readMore();
            return;
        }
        e.checkRateLimit(endpoint.equals(MODELS));
    }

    // ---------------------------------------------------------------- request body

    private void onBody(HttpContent content) {
        Exchange e = current;
        boolean last = content instanceof LastHttpContent;
        if (e == null) {
            content.release();
            if (lingering) {
                requestRead();                              // keep draining until the client closes
            }
            return;
        }
        try {
            if (last) {
                e.bodyComplete = true;
            }
            if (e.inspector == null || e.answered) {
                if (last && e.responseDone) {
                    e.next();
                }
                return;
            }
            e.inspector.feed(content.content());
            if (last) {
                e.inspector.finish();
                e.bodyParsed = true;
            }
            if (e.model == null && e.inspector.model() != null && e.limitPassed() && !e.route()) {
                return;
            }
            e.pushBody();
        } catch (InvalidRequestException ire) {
            e.fail(ire.error(), ire.getMessage());
        } finally {
            content.release();
            if (current == e) {
                e.readMore();
            }
        }
    }

    /**
     * Closing a socket with unread bytes makes TCP answer with a reset, which can destroy the
     * answer still on its way (a client mid-upload would never see its 413). So: send the answer,
     * shut our side, and read and discard what the client still sends for a short while.
     */
    private void lingeringClose() {
        lingering = true;
        ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (!f.isSuccess() || !(ctx.channel() instanceof DuplexChannel duplex)) {
                ctx.close();
                return;
            }
            duplex.shutdownOutput();
            ctx.executor().schedule(() -> {
                ctx.close();
            }, LINGER_SECONDS, TimeUnit.SECONDS);
            requestRead();
        });
    }

    static void onLoop(ChannelHandlerContext ctx, Runnable r) {
        if (ctx.executor().inEventLoop()) {
            r.run();
        } else {
            ctx.executor().execute(r);
        }
    }

    // ---------------------------------------------------------------- one exchange

    /** The state of one request, from head to the recorded outcome. Lives on the channel's loop. */
    private final class Exchange implements BackendHandler.Listener {
        final String requestId = RequestIds.next();
        final long startNanos = System.nanoTime();
        final Instant createdAt = Instant.now();
        final HttpRequest head;
        final boolean keepAlive;
        String endpoint;

        ApiKey key;
        Account account;
        ChatRequestInspector inspector;
        Model model;
        List<RoutePlan.Candidate> plan;  // the upstreams to try, best first
        int attempts;              // how many of them may be tried
        int attempt;               // the one being tried
        Upstream upstream;
        UpstreamTarget target;

        boolean bodyComplete;
        boolean bodyParsed;        // complete, valid, and its tail can be cut
        boolean answered;          // a response head went to the client
        boolean unflushed;         // answer bytes written but not flushed: upstreamReadComplete does it
        boolean responseDone;      // ... and its last byte
        boolean closeAfterAnswer;
        boolean continueSent;      // 100 Continue went out: the client will send the body
        boolean outcomeRecorded;
        boolean outcomePending;    // waiting for the reservation's answer to record the outcome
        int status;
        String errorCode;

        Decision limit;            // the rate limiter's answer, once in
        Reservation reservation = Reservation.NONE;
        BigDecimal reserved = BigDecimal.ZERO;
        long inputBound;           // the token counts the reservation was computed from
        long outputBound;

        Channel up;
        boolean headSent;
        boolean chunkedUp;
        boolean tailSent;
        ByteBuf heldTail;

        boolean upstreamOk;        // a 2xx answer is being relayed
        boolean upstreamDone;
        boolean upstreamKeepAlive;
        SseEventStream sse;
        UsageTap tap;
        long deliveredBytes;
        long ttfbNanos = -1;
        long lastUpstreamActivity;
        /** Until the answer's head: when the first byte is due. */
        boolean firstByteWatched;
        long firstByteDue;
        /** While the answer streams: cut after the idle timeout's silence. */
        boolean silenceWatched;

        Exchange(HttpRequest head) {
            this.head = head;
            this.keepAlive = HttpUtil.isKeepAlive(head);
        }

        // -- checks before any upstream byte

        boolean authenticate() {
            String secret = presentedKey(head.headers());
            // The head's arrival is "now" for the expiry check: the same instant the request is logged at
            // (another Instant.now() is a call into the VM, not an intrinsic).
            Access.KeyCheck check = Access.key(services.catalog(), secret == null ? null : keyHashes.hashOf(secret), createdAt);
            key = check.key();
            account = check.account();
            if (!check.allowed()) {
                fail(check.refusal().error(), check.refusal().message());
                return false;
            }
            return true;
        }

        boolean route() {
            String name = inspector.model();
            Catalog.Routing routing = services.catalog().routing();
            Access.Usable usable = Access.usable(routing, key, name, Model.TEXT);
            if (!usable.allowed()) {
                fail(usable.refusal().error(), usable.refusal().message());
                return false;
            }
            Model m = usable.model();
            plan = RoutePlan.of(routing, m, ThreadLocalRandom.current());
            if (plan.isEmpty()) {
                fail(ApiError.PROVIDER_NOT_CONFIGURED, "the model '" + name + "' has no enabled upstream");
                return false;
            }
            model = m;
            attempts = Math.min(plan.size(), services.config().maxUpstreamAttempts());
            if (attempts > 1) {
                inspector.keepForReplay(ctx.alloc(), services.config().replayBufferBytes());
            }
            use(plan.get(0));
            reserve();                                       // the upstream is called once it is held
            return true;
        }

        void use(RoutePlan.Candidate c) {
            upstream = c.upstream();
            target = c.target();
            inspector.rewriteModel(c.route().upstreamModel());
        }

        /**
         * After the current upstream failed before any answer byte reached the client: tries the
         * next one of the plan, sending it the body again. False when no attempt is left or the
         * body cannot be sent again (more of it went to the failed upstream than was kept).
         */
        boolean failover(String why) {
            if (attempt + 1 >= attempts) {
                if (attempts > 1) {
                    log.info("{}: upstream {} {}; that was the last of {} attempts", requestId, upstream.id(), why, attempts);
                }
                return false;
            }
            if (!inspector.replayable()) {
                log.info("{}: upstream {} {}; not retried: more of the body went to it than the replay buffer keeps",
                        requestId, upstream.id(), why);
                return false;
            }
            RoutePlan.Candidate next = plan.get(attempt + 1);
            log.info("{}: upstream {} {}; trying upstream {} (attempt {} of {})", requestId, upstream.id(), why,
                    next.upstream().id(), attempt + 2, attempts);
            closeUpstream();
            if (heldTail != null) {
                heldTail.release();                          // the replay has these bytes too
                heldTail = null;
            }
            headSent = false;
            chunkedUp = false;
            tailSent = false;
            upstreamKeepAlive = false;
            ttfbNanos = -1;
            attempt++;
            use(next);
            connect();
            return true;
        }

        // -- rate limit, between the key check and routing

        /**
         * Asks the limiter for this key's general budget. The body keeps streaming into the
         * inspector meanwhile; nothing is routed, reserved or sent upstream before the answer.
         */
        void checkRateLimit(boolean models) {
            Limiters limiters = services.limiters();
            int perMinute = Limiters.limitFor(account.tier(), key.rateLimits(), LimitClass.GENERAL, limiters.config());
            if (!models) {
                inspector = new ChatRequestInspector(ctx.alloc(), services.config().contentLimits());
            }
            limiters.rateLimiter().acquire(key.id(), LimitClass.GENERAL, perMinute)
                    .whenComplete((d, err) -> onLoop(ctx, () -> onRateLimit(
                            err == null ? d : Decision.unavailable(perMinute), models)));
            if (!models && !HttpUtil.is100ContinueExpected(head)) {
                readMore();
            }
        }

        void onRateLimit(Decision d, boolean models) {
            limit = d;
            if (current != this || answered) {
                return;
            }
            if (d.limited()) {
                fail(ApiError.RATE_LIMIT_EXCEEDED, "rate limit of " + d.limit() + " requests per minute reached; retry in "
                        + d.retryAfterSeconds() + " s");
                readMore();
                return;
            }
            if (d.unavailable()) {
                fail(ApiError.SERVICE_UNAVAILABLE, "rate limiting is unavailable, try again shortly");
                readMore();
                return;
            }
            if (models) {
                answerModels();
                readMore();
                return;
            }
            if (HttpUtil.is100ContinueExpected(head)
                    && HttpUtil.getContentLength(head, -1L) <= services.config().maxBodyBytes()) {
                continueSent = true;
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
            }
            if (model == null && inspector.model() != null) {
                if (!route()) {
                    readMore();
                    return;
                }
                pushBody();
            }
            readMore();
        }

        boolean limitPassed() {
            return limit != null && limit.allowed();
        }

        /** X-RateLimit-* (and Retry-After on a refusal) on every answer of a limited endpoint. */
        void addLimitHeaders(HttpHeaders h) {
            if (limit != null && !limit.unavailable()) {
                limit.addTo(h);
            }
        }

        boolean keyAllows(String modelId) {
            return Access.keyAllows(key, modelId);
        }

        // -- upstream request

        void connect() {
            Channel pooled = pool.pollIdle(target);
            if (pooled != null) {
                connected(pooled);                       // most requests: no future, no listener
                return;
            }
            pool.connect(target).addListener(f -> {
                Channel ch = (Channel) f.getNow();
                if (current != this || answered) {
                    if (ch != null) {
                        pool.release(target, ch);        // fresh and untouched: fine to pool
                    }
                    return;
                }
                if (!f.isSuccess()) {
                    boolean timeout = f.cause() instanceof ConnectTimeoutException;
                    if (failover(timeout ? "did not accept the connection in time" : "is unreachable: " + f.cause())) {
                        return;
                    }
                    fail(timeout ? ApiError.UPSTREAM_TIMEOUT : ApiError.UPSTREAM_ERROR,
                            timeout ? "connecting to the upstream timed out" : "the upstream is unreachable");
                    return;
                }
                connected(ch);
            });
        }

        void connected(Channel ch) {
            up = ch;
            ch.pipeline().get(BackendHandler.class).attach(this);
            if (log.isDebugEnabled()) {
                log.debug("{}: attempt {} of {} on upstream {}", requestId, attempt + 1, attempts, upstream.id());
            }
            sendHead();
            pushBody();
            readMore();
        }

        void sendHead() {
            DefaultHttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, target.basePath() + endpoint,
                    UPSTREAM_HEADERS);
            HttpHeaders h = r.headers();
            Headers.copyEndToEnd(head.headers(), h, NOT_FORWARDED);
            // add, not set: NOT_FORWARDED left these out, and set() first looks for the name to remove.
            h.add(HttpHeaderNames.HOST, target.hostHeader());
            String upstreamKey = upstream.apiKey().isEmpty() && MOCK.equals(upstream.provider())
                    ? MOCK : upstream.apiKey();               // the built-in mock wants some key, any
            if (!upstreamKey.isEmpty()) {
                h.add(HttpHeaderNames.AUTHORIZATION, "Bearer " + upstreamKey);
            }
            h.add(Headers.X_REQUEST_ID, requestId);
            ByteBuf again = inspector.replay(ctx.alloc());      // what a failed attempt was sent; empty on the first
            ByteBuf ready = inspector.drainReady(ctx.alloc());
            if (bodyParsed) {
                heldTail = inspector.tailDrained() ? io.netty.buffer.Unpooled.EMPTY_BUFFER : inspector.drainTail(ctx.alloc());
                h.add(HttpHeaderNames.CONTENT_LENGTH, again.readableBytes() + ready.readableBytes() + heldTail.readableBytes());
            } else {
                HttpUtil.setTransferEncodingChunked(r, true);
                chunkedUp = true;
            }
            up.write(r, up.voidPromise());
            if (again.isReadable()) {
                up.write(new DefaultHttpContent(again), up.voidPromise());
            } else {
                again.release();
            }
            if (ready.isReadable()) {
                up.write(new DefaultHttpContent(ready), up.voidPromise());
            } else {
                ready.release();
            }
            headSent = true;
            trySendTail();                                   // a body already whole goes in the same write
            up.flush();
        }

        /** Sends what the inspector lets go; the tail waits for the reservation. */
        void pushBody() {
            if (up == null || !headSent || tailSent || !chunkedUp) {
                return;
            }
            ByteBuf ready = inspector.drainReady(ctx.alloc());
            if (ready.isReadable()) {
                up.writeAndFlush(new DefaultHttpContent(ready), up.voidPromise());
            } else {
                ready.release();
            }
            if (bodyParsed && heldTail == null) {
                heldTail = inspector.drainTail(ctx.alloc());
                trySendTail();
            }
        }

        void trySendTail() {
            if (up == null || heldTail == null || reservation != Reservation.HELD || tailSent) {
                return;
            }
            ByteBuf tail = heldTail;
            heldTail = null;
            tailSent = true;
            up.writeAndFlush(new DefaultLastHttpContent(tail), up.voidPromise());
            lastUpstreamActivity = System.nanoTime();
            firstByteDue = lastUpstreamActivity + services.config().upstreamFirstByteTimeout().toNanos();
            firstByteWatched = true;
            watch(firstByteDue);
            up.read();
        }

        void readMore() {
            if (bodyComplete || current != this) {
                return;
            }
            if (up != null && headSent && !answered && !up.isWritable()) {
                return;                                     // resumed by upstreamWritabilityChanged
            }
            requestRead();
        }

        // -- credits

        /**
         * Reserves the most this request can cost, as soon as its model is known and before any
         * upstream byte: input is bounded by the body's size (a token is at least one byte; the
         * declared length, or the body limit while a chunked body is still arriving), output by
         * max_tokens when already parsed, else by the model's cap.
         */
        void reserve() {
            Pricing pricing = model.pricing();
            Integer cap = model.maxOutputTokens();
            long outputBound = inspector.maxTokens() != null ? inspector.maxTokens()
                    : cap != null ? cap : DEFAULT_OUTPUT_BOUND;
            if (cap != null) {
                outputBound = Math.min(outputBound, cap);
            }
            long inputBound = bodyParsed ? inspector.bodyBytes()
                    : HttpUtil.getContentLength(head, (long) services.config().maxBodyBytes());
            reserved = Prices.tokens(pricing, inputBound, outputBound);
            this.inputBound = inputBound;
            this.outputBound = outputBound;
            reservation = Reservation.PENDING;
            services.billing().reserve(account.id(), key.id(), reserved)
                    .whenComplete((result, err) -> onLoop(ctx, () -> onReserved(result, err)));
        }

        void onReserved(BillingStore.Reserve result, Throwable err) {
            if (err != null) {
                log.warn("reservation of {} failed: {}", requestId, err.toString());
                reservation = Reservation.NONE;
            } else {
                reservation = result == BillingStore.Reserve.RESERVED ? Reservation.HELD : Reservation.REFUSED;
            }
            if (outcomePending) {
                outcomePending = false;
                recordOutcome();
                return;
            }
            if (current != this || answered) {
                return;
            }
            if (err != null) {
                fail(ApiError.SERVICE_UNAVAILABLE, "billing is unavailable, try again shortly");
            } else if (result == BillingStore.Reserve.INSUFFICIENT_CREDITS) {
                fail(ApiError.INSUFFICIENT_CREDITS, "the account balance cannot cover this request");
            } else if (result == BillingStore.Reserve.KEY_CREDIT_LIMIT) {
                fail(ApiError.API_KEY_CREDIT_LIMIT_EXCEEDED, "this API key's credit limit is used up");
            } else {
                connect();
            }
        }

        // -- upstream answer

        @Override
        public void upstreamRead(HttpObject msg) {
            lastUpstreamActivity = System.nanoTime();
            if (msg instanceof HttpResponse response) {
                int tried = attempt;
                onUpstreamHead(response);
                if (attempt != tried) {
                    ReferenceCountUtil.release(msg);         // failed over: the rest of that answer is dropped
                    return;
                }
            }
            if (msg instanceof HttpContent content) {
                onUpstreamContent(content);
            } else if (up != null && !upstreamDone) {
                up.read();
            }
        }

        void onUpstreamHead(HttpResponse response) {
            int code = response.status().code();
            if (code >= 100 && code < 200) {
                return;                                     // 100 Continue and friends: the real head follows
            }
            firstByteWatched = false;
            ttfbNanos = System.nanoTime() - startNanos;
            if (current != this || answered) {
                return;
            }
            upstreamKeepAlive = HttpUtil.isKeepAlive(response);
            boolean ok = code >= 200 && code < 300;
            if (!ok && !PASS_THROUGH.contains(code)) {
                if (!failover("answered " + response.status())) {
                    fail(ApiError.UPSTREAM_ERROR, "the upstream answered " + response.status());
                }
                return;
            }
            inspector.dropReplay();                          // this answer is the one: no more attempts
            // The decoder's head is ours: passed on in place, as a relay does, not copied header by
            // header. A full message (the decoder makes one only of an invalid answer) would take
            // its content along, which goes out on its own below: that one is copied.
            HttpResponse out = response instanceof HttpContent
                    ? new DefaultHttpResponse(HttpVersion.HTTP_1_1, response.status(), response.headers().copy())
                    : response;
            out.setProtocolVersion(HttpVersion.HTTP_1_1);
            HttpHeaders h = out.headers();
            Headers.removeHopByHop(h, NOT_RETURNED);
            h.add(Headers.X_REQUEST_ID, requestId);             // removed just above: add, no second look
            addLimitHeaders(h);
            String contentType = h.get(HttpHeaderNames.CONTENT_TYPE, "");
            if (ok && contentType.startsWith("text/event-stream")) {
                h.remove(HttpHeaderNames.CONTENT_LENGTH);
                HttpUtil.setTransferEncodingChunked(out, true);
                sse = new SseEventStream(inspector.stream() && !inspector.clientIncludeUsage());
            } else {
                if (ok) {
                    tap = new UsageTap();
                }
                if (!h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
                    HttpUtil.setTransferEncodingChunked(out, true);
                }
            }
            if (!keepAlive) {
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            upstreamOk = ok;
            status = code;
            if (!ok) {
                errorCode = "upstream_" + code;
            }
            answered = true;
            ctx.write(out, ctx.voidPromise());
            unflushed = true;
            silenceWatched = true;
            watch(due());
        }

        void onUpstreamContent(HttpContent content) {
            boolean last = content instanceof LastHttpContent;
            if (current != this || !answered || responseDone) {
                content.release();
                if (last) {
                    upstreamDone = true;
                    closeUpstream();
                }
                return;
            }
            deliveredBytes += content.content().readableBytes();
            if (sse != null) {
                ByteBuf events = sse.process(content.content(), ctx.alloc());
                content.release();
                if (last) {
                    ByteBuf rest = sse.finish();
                    ctx.write(new DefaultHttpContent(events), ctx.voidPromise());
                    ctx.write(new DefaultLastHttpContent(rest), ctx.voidPromise());
                } else if (events.isReadable()) {
                    ctx.write(new DefaultHttpContent(events), ctx.voidPromise());
                } else {
                    events.release();
                }
            } else {
                if (tap != null) {
                    tap.feed(content.content());
                }
                ctx.write(content, ctx.voidPromise());
            }
            if (last) {
                // Flushed now: the connection goes back to the pool below, its read's end not ours.
                unflushed = false;
                ctx.flush();
                upstreamDone = true;
                if (tap != null) {
                    tap.end();
                }
                unwatch();
                Channel ch = up;
                up = null;
                if (upstreamKeepAlive && tailSent) {
                    pool.release(target, ch);
                } else {
                    ch.pipeline().get(BackendHandler.class).attach(null);
                    ch.close();
                }
                responseEnded();
                return;
            }
            unflushed = true;
            if (ctx.channel().isWritable()) {
                up.read();
            }
        }

        /** One flush per upstream read, for the head and every event that read brought. */
        @Override
        public void upstreamReadComplete() {
            if (unflushed) {
                unflushed = false;
                ctx.flush();
            }
        }

        @Override
        public void upstreamWritabilityChanged(boolean writable) {
            if (writable && current == this && !bodyComplete && !answered) {
                requestRead();
            }
        }

        @Override
        public void upstreamClosed(Throwable cause) {
            up = null;
            if (upstreamDone || current != this) {
                return;
            }
            if (!answered) {
                if (!failover(cause == null ? "closed the connection before answering"
                        : "failed before answering: " + cause)) {
                    fail(ApiError.UPSTREAM_ERROR, "the upstream closed the connection before answering");
                }
            } else {
                abort();
            }
        }

        // -- timeouts, on the connection's timer (see FrontendHandler#watch)

        boolean watched() {
            return firstByteWatched || (silenceWatched && !upstreamDone);
        }

        /** When the timeout watched is due: the first byte's, else the silence's from the last upstream read. */
        long due() {
            return firstByteWatched ? firstByteDue
                    : lastUpstreamActivity + services.config().upstreamIdleTimeout().toNanos();
        }

        void timedOut() {
            if (firstByteWatched) {
                firstByteWatched = false;
                if (!answered) {
                    fail(ApiError.UPSTREAM_TIMEOUT, "the upstream did not answer in time");
                }
            } else {
                silenceWatched = false;
                log.info("{}: upstream silent for {} ms, aborting", requestId,
                        services.config().upstreamIdleTimeout().toMillis());
                abort();
            }
        }

        void unwatch() {
            firstByteWatched = false;
            silenceWatched = false;
        }

        // -- endings

        /** Answers with an error, if no answer has started; otherwise cuts the connection. */
        void fail(ApiError error, String message) {
            if (answered) {
                abort();
                return;
            }
            closeUpstream();
            releaseBuffers();
            answered = true;
            status = error.status().code();
            errorCode = error.code();
            if (!continueSent && !bodyComplete && HttpUtil.is100ContinueExpected(head)) {
                // Refused without 100 Continue, the client need not send the body (RFC 9110
                // 10.1.1), so where its next request starts is unknowable: close rather than guess.
                closeAfterAnswer = true;
            }
            FullHttpResponse response = ErrorResponses.of(ctx.alloc(), error, message, requestId);
            addLimitHeaders(response.headers());
            boolean close = !keepAlive || closeAfterAnswer;
            if (close) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            ctx.writeAndFlush(response, ctx.voidPromise());
            responseEnded();
        }

        /** Mid-answer failure: the client sees a cut connection, never a forged ending. */
        void abort() {
            closeAfterAnswer = true;
            status = status == 0 ? 502 : status;
            errorCode = errorCode == null ? "upstream_aborted" : errorCode;
            closeUpstream();
            releaseBuffers();
            responseEnded();
        }

        void clientGone() {
            if (outcomeRecorded || outcomePending) {
                return;
            }
            closeAfterAnswer = true;
            if (!answered) {
                status = 499;
                errorCode = "client_closed";
            } else if (!responseDone) {
                errorCode = "client_closed";
            }
            closeUpstream();
            releaseBuffers();
            responseDone = true;
            recordOutcome();
            if (current == this) {
                current = null;
            }
        }

        void responseEnded() {
            responseDone = true;
            unwatch();
            recordOutcome();
            if (closeAfterAnswer || !keepAlive) {
                current = null;
                if (bodyComplete) {
                    ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                } else {
                    lingeringClose();
                }
                return;
            }
            if (bodyComplete) {
                next();
            }
        }

        /** Ready for the client's next request on this connection. */
        void next() {
            if (current != this) {
                return;
            }
            current = null;
            if (timeouts != null) {
                timeouts.awaitNextHead();
            }
            requestRead();
        }

        void closeUpstream() {
            unwatch();
            Channel ch = up;
            up = null;
            if (ch != null) {
                ch.pipeline().get(BackendHandler.class).attach(null);
                ch.close();                                  // mid-exchange: never pooled
            }
        }

        void releaseBuffers() {
            if (inspector != null) {
                inspector.close();
            }
            if (heldTail != null) {
                heldTail.release();
                heldTail = null;
            }
            if (sse != null) {
                sse.close();
            }
        }

        // -- the one outcome

        void recordOutcome() {
            if (outcomeRecorded) {
                return;
            }
            if (reservation == Reservation.PENDING) {
                outcomePending = true;                       // recorded when the reservation answers
                return;
            }
            outcomeRecorded = true;
            Usage usage = sse != null ? sse.usage() : tap != null ? tap.usage() : null;
            BigDecimal cost = BigDecimal.ZERO;
            if (reservation == Reservation.HELD && upstreamOk) {
                if (usage == null && deliveredBytes > 0) {
                    // No usage reported (a stream cut short, or an upstream that never says):
                    // meter what was delivered, one token per event or per 4 bytes.
                    long out = sse != null ? sse.dataEvents() : deliveredBytes / 4;
                    usage = new Usage(inspector == null ? 0 : inspector.bodyBytes() / 4, out);
                }
                if (usage != null) {
                    usage = clamped(usage);
                    cost = Prices.tokens(model.pricing(), usage.inputTokens(), usage.outputTokens()).min(reserved);
                }
            }
            if (inspector != null) {
                inspector.close();
            }
            long now = System.nanoTime();
            RequestLogEntry entry = new RequestLogEntry(
                    requestId,
                    account == null ? null : account.id(),
                    key == null ? null : key.id(),
                    model != null ? model.id() : inspector != null ? inspector.model() : null,
                    endpoint,
                    status,
                    errorCode,
                    (int) TimeUnit.NANOSECONDS.toMillis(now - startNanos),
                    ttfbNanos < 0 ? null : (int) TimeUnit.NANOSECONDS.toMillis(ttfbNanos),
                    usage == null ? null : usage.inputTokens(),
                    usage == null ? null : usage.outputTokens(),
                    cost,
                    upstream == null ? null : upstream.id(),
                    createdAt);
            services.billing().finish(key == null ? null : key.id(), reservation == Reservation.HELD ? reserved : null, cost, entry);
        }

        /** Upstream usage is not trusted blindly: it is held to what the reservation was made for. */
        Usage clamped(Usage reported) {
            long in = Math.min(Math.max(reported.inputTokens(), 0), inputBound);
            long out = Math.min(Math.max(reported.outputTokens(), 0), outputBound);
            if (in != reported.inputTokens() || out != reported.outputTokens()) {
                log.warn("{}: upstream {} reported usage {}/{} outside 0..{}/{}; billing {}/{}", requestId,
                        upstream.id(), reported.inputTokens(), reported.outputTokens(), inputBound, outputBound, in, out);
                return new Usage(in, out);
            }
            return reported;
        }

        // -- GET /models

        void answerModels() {
            ByteBuf body = ModelList.render(ctx.alloc(), services.catalog().models(), this::keyAllows);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                    .set(Headers.X_REQUEST_ID, requestId);
            addLimitHeaders(response.headers());
            if (!keepAlive) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            answered = true;
            status = 200;
            ctx.writeAndFlush(response);
            responseEnded();
        }
    }

    /** The key from {@code Authorization: Bearer …} or {@code x-api-key}, or null. */
    static String presentedKey(HttpHeaders headers) {
        return Headers.presentedKey(headers);
    }
}
