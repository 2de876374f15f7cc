package io.tollgate.proxy.media;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.tollgate.proxy.ProxyServices;
import io.tollgate.proxy.billing.Prices;
import io.tollgate.proxy.catalog.Access;
import io.tollgate.proxy.chat.InvalidRequestException;
import io.tollgate.proxy.http.ApiError;
import io.tollgate.proxy.http.BodyLimitExceeded;
import io.tollgate.proxy.http.ErrorResponses;
import io.tollgate.proxy.http.Headers;
import io.tollgate.proxy.http.RequestIds;
import io.tollgate.proxy.limit.Decision;
import io.tollgate.proxy.limit.LimitClass;
import io.tollgate.proxy.limit.Limiters;
import io.tollgate.proxy.upstream.UpstreamTarget;
import io.tollgate.schema.Account;
import io.tollgate.schema.ApiKey;
import io.tollgate.schema.BillingStore;
import io.tollgate.schema.Model;
import io.tollgate.schema.RequestLogEntry;
import io.tollgate.schema.Upstream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * One image or video request, from its head to its one recorded outcome. Lives on the client
 * channel's event loop; every asynchronous answer (the limiter, a reservation, the database, the
 * upstream) comes back to that loop before it touches anything here.
 *
 * <p>The order of checks: path and method, key, then the body is read whole (it is small) and
 * parsed (400 for malformed JSON or a missing {@code model} / {@code prompt}), then the rate limit
 * of the request's class, then the model (known, enabled, public, allowed, of the endpoint's
 * category, routed), then credits are reserved, and only then is the upstream called.
 */
final class MediaExchange {

    private static final Logger log = LoggerFactory.getLogger(MediaExchange.class);

    final MediaHandler conn;
    final ChannelHandlerContext ctx;
    final ProxyServices services;
    final String requestId = RequestIds.next();
    final long startNanos = System.nanoTime();
    final Instant createdAt = Instant.now();
    final HttpRequest head;
    final boolean keepAlive;
    final MediaRoute route;

    ApiKey key;
    Account account;
    private Decision limit;
    private CompositeByteBuf body;
    private boolean bodyComplete;
    private boolean answered;
    private boolean responseDone;
    private boolean closeAfterAnswer;
    private boolean continueSent;
    private boolean outcomeRecorded;
    /** The outcome waits for a money operation in flight (a reservation) to answer first. */
    private boolean outcomePending;
    private boolean moneyInFlight;
    private boolean gone;
    private int status;
    private String errorCode;
    long ttfbNanos = -1;

    MediaRequest request;
    Model model;
    String modelName;
    Upstream upstream;
    /** The upstream of a polled task, for the log. */
    String upstreamId;
    UpstreamTarget target;
    String upstreamModel;
    /** Credits held in this proxy's lease for the request, or null. */
    private BigDecimal reserved;
    private BigDecimal cost = BigDecimal.ZERO;
    private ImageRelay relay;

    MediaExchange(MediaHandler conn, HttpRequest head, MediaRoute route) {
        this.conn = conn;
        this.ctx = conn.ctx();
        this.services = conn.services();
        this.head = head;
        this.keepAlive = HttpUtil.isKeepAlive(head);
        this.route = route;
    }

    // ---------------------------------------------------------------- head

    void start() {
        if (!head.method().equals(route.method())) {
            fail(ApiError.METHOD_NOT_ALLOWED, head.method() + " is not allowed on " + head.uri());
            readOn();
            return;
        }
        String secret = Headers.presentedKey(head.headers());
        Access.KeyCheck check = Access.key(services.catalog(), secret == null ? null : conn.hashOf(secret), Instant.now());
        key = check.key();
        account = check.account();
        if (!check.allowed()) {
            fail(check.refusal().error(), check.refusal().message());
            readOn();
            return;
        }
        if (route.submit()) {
            body = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
            if (HttpUtil.is100ContinueExpected(head)
                    && HttpUtil.getContentLength(head, -1L) <= services.config().maxBodyBytes()) {
                continueSent = true;
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
            }
        } else {
            checkRateLimit(route.video() ? LimitClass.GENERAL : LimitClass.IMAGE_POLL);
        }
        readOn();
    }

    // ---------------------------------------------------------------- body

    void onContent(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        try {
            if (body != null && !answered && content.content().isReadable()) {
                body.addComponent(true, content.content().retain());
            }
        } finally {
            content.release();
        }
        if (!last) {
            readOn();
            return;
        }
        bodyComplete = true;
        if (responseDone) {
            ended();
        } else if (body != null && !answered) {
            bodyArrived();
        }
    }

    void onEvent(Object evt) {
        if (evt instanceof BodyLimitExceeded limitExceeded) {
            closeAfterAnswer = true;
            if (!answered) {
                fail(ApiError.REQUEST_TOO_LARGE, "request body is larger than " + limitExceeded.limit() + " bytes");
            } else {
                ctx.close();
            }
        } else if (evt instanceof IdleStateEvent && !bodyComplete && !answered) {
            closeAfterAnswer = true;
            fail(ApiError.REQUEST_TIMEOUT, "the request body was not received in time");
        }
    }

    private void readOn() {
        if (!bodyComplete && !gone) {
            conn.read();
        }
    }

    private void bodyArrived() {
        byte[] bytes = ByteBufUtil.getBytes(body);
        releaseBody();
        try {
            request = MediaRequest.parse(bytes, route.kind(), conn.media().config());
        } catch (InvalidRequestException e) {
            fail(e.error(), e.getMessage());
            return;
        }
        modelName = request.model();
        checkRateLimit(request.async() ? LimitClass.IMAGE_SUBMIT : LimitClass.GENERAL);
    }

    // ---------------------------------------------------------------- rate limit

    private void checkRateLimit(LimitClass cls) {
        Limiters limiters = services.limiters();
        int perMinute = Limiters.limitFor(account.tier(), key.rateLimits(), cls, limiters.config());
        limiters.rateLimiter().acquire(key.id(), cls, perMinute)
                .whenComplete((d, err) -> onLoop(() -> onRateLimit(err == null ? d : Decision.unavailable(perMinute))));
    }

    private void onRateLimit(Decision d) {
        limit = d;
        if (gone || answered) {
            return;
        }
        if (d.limited()) {
            fail(ApiError.RATE_LIMIT_EXCEEDED, "rate limit of " + d.limit() + " requests per minute reached; retry in "
                    + d.retryAfterSeconds() + " s");
        } else if (d.unavailable()) {
            fail(ApiError.SERVICE_UNAVAILABLE, "rate limiting is unavailable, try again shortly");
        } else if (route.submit()) {
            submit();
        } else {
            conn.media().tasks().poll(this);
        }
    }

    // ---------------------------------------------------------------- submit

    private void submit() {
        Access.ModelCheck check = Access.model(services.catalog().routing(), key, request.model(), route.category());
        if (!check.allowed()) {
            fail(check.refusal().error(), check.refusal().message());
            return;
        }
        model = check.model();
        upstream = check.upstream();
        target = check.target();
        upstreamModel = check.route().upstreamModel();
        if (route.video() && model.videoResolutions() != null && !model.videoResolutions().isEmpty()) {
            for (String r : request.resolutions()) {
                if (!model.videoResolutions().contains(r)) {
                    fail(ApiError.UNSUPPORTED_VIDEO_RESOLUTION, "the model '" + model.id() + "' does not offer the resolution '"
                            + r + "'; it offers " + String.join(", ", model.videoResolutions()));
                    return;
                }
            }
        }
        BigDecimal amount = route.video() ? Prices.video(model.pricing(), request.seconds())
                : Prices.images(model.pricing(), request.n());
        reserve(amount);
    }

    /** Holds {@code amount} in this proxy's credit lease, as chat does; then the upstream is called. */
    private void reserve(BigDecimal amount) {
        moneyInFlight = true;
        services.billing().reserve(account.id(), key.id(), amount)
                .whenComplete((result, err) -> onLoop(() -> onReserved(amount, result, err)));
    }

    private void onReserved(BigDecimal amount, BillingStore.Reserve result, Throwable err) {
        moneyInFlight = false;
        if (err == null && result == BillingStore.Reserve.RESERVED) {
            reserved = amount;
        }
        if (outcomePending) {
            recordOutcome();                                 // the client left meanwhile: release it
            return;
        }
        if (answered) {
            return;
        }
        if (err != null) {
            log.warn("reservation of {} failed: {}", requestId, err.toString());
            fail(ApiError.SERVICE_UNAVAILABLE, "billing is unavailable, try again shortly");
        } else if (result == BillingStore.Reserve.INSUFFICIENT_CREDITS) {
            fail(ApiError.INSUFFICIENT_CREDITS, "the account balance cannot cover this request");
        } else if (result == BillingStore.Reserve.KEY_CREDIT_LIMIT) {
            fail(ApiError.API_KEY_CREDIT_LIMIT_EXCEEDED, "this API key's credit limit is used up");
        } else if (route.video() || request.async()) {
            conn.media().tasks().submit(this);
        } else {
            relay = new ImageRelay(this);
            relay.start();
        }
    }

    /** The reservation made for this request; null once none is held here. */
    BigDecimal reserved() {
        return reserved;
    }

    /** The lease's reservation now belongs to a task in the database (or was released with it). */
    void reservationHandedOver() {
        reserved = null;
    }

    /** What a sync image answer costs: the images it delivered (whole or cut short), at most n. */
    private BigDecimal imageCost(long images) {
        long billed = Math.min(images, request.n());
        if (billed < images) {
            log.warn("{}: upstream {} returned {} images for n={}; billing {}", requestId, upstream.id(), images,
                    request.n(), billed);
        }
        return Prices.images(model.pricing(), billed).min(reserved);
    }

    // ---------------------------------------------------------------- answers

    /** Answers a JSON body with status 200, or the given one. */
    void respond(HttpResponseStatus status, ByteBuf json) {
        if (answered || gone) {
            json.release();
            return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, json);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, json.readableBytes());
        send(response);
    }

    /** Sends an answer made elsewhere (an upstream error passed through): our id and headers are added. */
    void send(FullHttpResponse response) {
        if (answered || gone) {
            response.release();
            return;
        }
        addHeaders(response.headers());
        answered = true;
        this.status = response.status().code();
        if (status >= 400 && errorCode == null) {
            errorCode = "upstream_" + status;
        }
        ctx.writeAndFlush(response);
        responseEnded();
    }

    /** The head of a relayed answer; its body follows through {@link #write}. */
    void writeHead(io.netty.handler.codec.http.HttpResponse response) {
        addHeaders(response.headers());
        answered = true;
        status = response.status().code();
        if (status >= 400) {
            errorCode = "upstream_" + status;
        }
        ctx.writeAndFlush(response);
    }

    void write(HttpContent content, boolean flush) {
        if (flush) {
            ctx.writeAndFlush(content);
        } else {
            ctx.write(content);
        }
    }

    boolean clientWritableNow() {
        return ctx.channel().isWritable();
    }

    void addHeaders(HttpHeaders h) {
        h.set(Headers.X_REQUEST_ID, requestId);
        if (limit != null && !limit.unavailable()) {
            limit.headers().forEach(h::set);
        }
        if (!keepAlive || closeAfterAnswer) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
    }

    /** Answers with an error, if no answer has started; otherwise cuts the connection. */
    void fail(ApiError error, String message) {
        if (gone) {
            return;
        }
        if (answered) {
            abort();
            return;
        }
        if (relay != null) {
            relay.close();
        }
        releaseBody();
        answered = true;
        status = error.status().code();
        errorCode = error.code();
        if (!continueSent && !bodyComplete && HttpUtil.is100ContinueExpected(head)) {
            closeAfterAnswer = true;                         // the client may never send the body: close rather than guess
        }
        FullHttpResponse response = ErrorResponses.of(ctx.alloc(), error, message, requestId);
        addHeaders(response.headers());
        if (error == ApiError.TOO_MANY_VIDEO_TASKS) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, MediaServices.TASK_RETRY_AFTER_SECONDS);
        }
        ctx.writeAndFlush(response);
        responseEnded();
    }

    /** A failure after the answer started: the client sees a cut connection, never a forged ending. */
    void abort() {
        closeAfterAnswer = true;
        status = status == 0 ? 502 : status;
        errorCode = errorCode == null ? "upstream_aborted" : errorCode;
        if (relay != null) {
            relay.close();
        }
        responseEnded();
    }

    void responseEnded() {
        responseDone = true;
        recordOutcome();
        if (closeAfterAnswer || !keepAlive) {
            conn.close(this, bodyComplete);
        } else if (bodyComplete) {
            ended();
        } else {
            readOn();                                        // the body's rest is read and dropped
        }
    }

    private void ended() {
        if (closeAfterAnswer || !keepAlive) {
            conn.close(this, true);
        } else {
            conn.next(this);
        }
    }

    void clientGone() {
        if (gone || outcomeRecorded) {
            return;
        }
        gone = true;
        closeAfterAnswer = true;
        if (!answered) {
            status = 499;
            errorCode = "client_closed";
        } else if (!responseDone) {
            errorCode = "client_closed";
        }
        if (relay != null) {
            relay.close();
        }
        releaseBody();
        responseDone = true;
        recordOutcome();
    }

    boolean gone() {
        return gone;
    }

    boolean answered() {
        return answered;
    }

    void clientWritable() {
        if (relay != null) {
            relay.clientWritable();
        }
    }

    private void releaseBody() {
        if (body != null) {
            body.release();
            body = null;
        }
    }

    // ---------------------------------------------------------------- the one outcome

    /** Task code that holds money in flight keeps the outcome waiting until it is done. */
    void holdOutcome(boolean hold) {
        moneyInFlight = hold;
        if (!hold && outcomePending) {
            recordOutcome();
        }
    }

    void recordOutcome() {
        if (outcomeRecorded) {
            return;
        }
        if (moneyInFlight) {
            outcomePending = true;
            return;
        }
        outcomePending = false;
        outcomeRecorded = true;
        releaseBody();
        if (relay != null && reserved != null && relay.images() >= 0) {
            cost = imageCost(relay.images());
        }
        services.billing().finish(key == null ? null : key.id(), reserved, cost, logEntry(status, errorCode, cost));
    }

    /** This request's request-log row, as it stands. */
    RequestLogEntry logEntry(int status, String errorCode, BigDecimal credits) {
        long now = System.nanoTime();
        return new RequestLogEntry(
                requestId,
                account == null ? null : account.id(),
                key == null ? null : key.id(),
                model != null ? model.id() : modelName,
                route.endpoint(),
                status,
                errorCode,
                (int) TimeUnit.NANOSECONDS.toMillis(now - startNanos),
                ttfbNanos < 0 ? null : (int) TimeUnit.NANOSECONDS.toMillis(ttfbNanos),
                null,
                null,
                credits,
                upstream != null ? upstream.id() : upstreamId,
                createdAt);
    }

    /** The outcome was written with the task (its request-log row in the same transaction). */
    void outcomeWrittenWithTask() {
        outcomeRecorded = true;
    }

    void onLoop(Runnable r) {
        if (ctx.executor().inEventLoop()) {
            r.run();
        } else {
            ctx.executor().execute(r);
        }
    }
}
