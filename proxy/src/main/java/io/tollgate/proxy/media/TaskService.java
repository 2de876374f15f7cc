package io.tollgate.proxy.media;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.Unpooled;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.tollgate.proxy.ProxyServices;
import io.tollgate.proxy.billing.Billing;
import io.tollgate.proxy.billing.Prices;
import io.tollgate.proxy.catalog.Catalog;
import io.tollgate.proxy.http.ApiError;
import io.tollgate.proxy.http.Headers;
import io.tollgate.proxy.upstream.UpstreamTarget;
import io.tollgate.schema.Ids;
import io.tollgate.schema.MediaTask;
import io.tollgate.schema.Pricing;
import io.tollgate.schema.RequestLogEntry;
import io.tollgate.schema.TaskStore;
import io.tollgate.schema.Upstream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Media tasks: submitted, polled, driven to their end and settled exactly once.
 *
 * <p><b>Money.</b> A submit reserves in this proxy's credit lease like any request (so 402 comes
 * before any upstream call, decided exactly as for chat), then hands the reservation over to the
 * task's row in the same transaction that opens it ({@code tollgate_task_open}), where it stays
 * while the task runs: a proxy's lease lives a minute without renewal and its in-memory count
 * dies with the process, a task may run for an hour. The transition that ends a task settles it
 * ({@code tollgate_task_finish}): guarded by the task's status, so only one caller, on whichever
 * proxy, charges it; the ledger's unique settlement per request id stands behind that.
 *
 * <p><b>Who asks the upstream.</b> A client's poll does: it reads the task and, in the same
 * statement, claims asking its upstream unless someone asked within
 * {@link MediaConfig#upstreamPollInterval()}; the claimer asks and applies the answer before the
 * poll is answered. For tasks nobody polls, every proxy sweeps every
 * {@link MediaConfig#sweepInterval()}: it claims the accepted tasks nobody asked about for that
 * long and asks for them, and fails (releasing their credits) the tasks past their timeout.
 *
 * <p>JDBC runs on this service's own small pool, never on an event loop; upstream calls run on an
 * event loop's pool, the client's own for requests.
 */
public final class TaskService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TaskService.class);
    private static final int SWEEP_BATCH = 32;
    /** A task still submitting this long after its upstream call would have timed out was left by a dead proxy. */
    private static final Duration SUBMIT_GRACE = Duration.ofMinutes(1);

    private final ProxyServices services;
    private final MediaConfig config;
    private final TaskStore store;
    private final ExecutorService db;
    private final ScheduledExecutorService sweeper;
    private final List<EventLoop> loops;
    private final AtomicInteger nextLoop = new AtomicInteger();

    public TaskService(ProxyServices services, MediaConfig config, TaskStore store) {
        this.services = services;
        this.config = config;
        this.store = store;
        AtomicInteger n = new AtomicInteger();
        this.db = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "tollgate-tasks-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tollgate-task-sweeper");
            t.setDaemon(true);
            t.setPriority(io.tollgate.proxy.billing.Billing.BACKGROUND_PRIORITY);
            return t;
        });
        this.loops = new ArrayList<>(services.pools().keySet());
    }

    /** Starts sweeping. */
    public TaskService start() {
        long every = config.sweepInterval().toMillis();
        sweeper.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
        return this;
    }

    // ---------------------------------------------------------------- submit

    /**
     * Opens the task the exchange asks for, its reservation (held in the lease) handed over to it;
     * then the upstream is asked to start it. The client's answer is the task, or why not.
     */
    void submit(MediaExchange x) {
        boolean video = x.route.video();
        Pricing p = x.model.pricing();
        TaskStore.NewTask task = new TaskStore.NewTask(Ids.newId("task"), video ? MediaTask.VIDEO : MediaTask.IMAGE,
                x.requestId, x.account.id(), x.key.id(), x.model.id(), x.upstream.id(), x.upstreamModel,
                video ? x.request.seconds() : BigDecimal.valueOf(x.request.n()),
                p.perRequest(), video ? p.perSecond() : p.perImage(), x.reserved());
        Integer maxActive = video ? config.maxVideoTasks() : null;
        x.holdOutcome(true);
        services.billing().handOver(x.key.id(), x.reserved(), holder -> store.open(task, holder, maxActive),
                        r -> r == TaskStore.Open.OPENED)
                .whenComplete((r, err) -> x.onLoop(() -> opened(x, task, r, err)));
    }

    private void opened(MediaExchange x, TaskStore.NewTask task, TaskStore.Open r, Throwable err) {
        if (err != null || r != TaskStore.Open.OPENED) {
            // Nothing moved: the reservation is still in the lease, and the outcome releases it.
            if (err != null) {
                log.warn("{}: opening a task failed: {}", x.requestId, unwrap(err).toString());
                x.fail(ApiError.SERVICE_UNAVAILABLE, "billing is unavailable, try again shortly");
            } else if (r == TaskStore.Open.TOO_MANY_TASKS) {
                x.fail(ApiError.TOO_MANY_VIDEO_TASKS, "this account already runs " + config.maxVideoTasks()
                        + " video tasks; wait for one to finish");
            } else if (r == TaskStore.Open.KEY_CREDIT_LIMIT) {
                x.fail(ApiError.API_KEY_CREDIT_LIMIT_EXCEEDED, "this API key's credit limit is used up");
            } else {
                x.fail(ApiError.INSUFFICIENT_CREDITS, "the account balance cannot cover this request");
            }
            x.holdOutcome(false);
            return;
        }
        x.reservationHandedOver();
        if (x.gone()) {
            end(x, task.id(), "the client left before the task was submitted");
            return;
        }
        if (MediaTask.VIDEO.equals(task.kind())) {
            callUpstream(x, task);
        } else {
            // The gateway runs an image task itself: no image upstream offers tasks of its own.
            accept(x, task, null, MediaTask.RUNNING);
        }
    }

    private void callUpstream(MediaExchange x, TaskStore.NewTask task) {
        byte[] body = x.request.upstreamBody(x.upstreamModel);
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
                x.target.basePath() + MediaRoute.VIDEOS, Unpooled.wrappedBuffer(body));
        UpstreamRequests.headers(x.head.headers(), request.headers(), x.upstream, x.target, x.requestId);
        HttpUtil.setContentLength(request, body.length);
        UpstreamCall.send(x.conn.pool(), x.ctx.channel().eventLoop(), x.target, request,
                        services.config().upstreamFirstByteTimeout(), services.config().upstreamIdleTimeout(),
                        config.maxTaskAnswerBytes())
                .whenComplete((a, err) -> x.onLoop(() -> submitted(x, task, a, err)));
    }

    private void submitted(MediaExchange x, TaskStore.NewTask task, UpstreamCall.Answer a, Throwable err) {
        x.ttfbNanos = System.nanoTime() - x.startNanos;
        if (err != null) {
            Throwable cause = unwrap(err);
            boolean timeout = cause instanceof ConnectTimeoutException || cause instanceof UpstreamCall.Timeout;
            failThen(x, task.id(), "the upstream did not take the task: " + cause.getMessage(), () -> x.fail(
                    timeout ? ApiError.UPSTREAM_TIMEOUT : ApiError.UPSTREAM_ERROR,
                    timeout ? "the upstream did not answer in time" : "the upstream is unreachable or closed the connection"));
            return;
        }
        if (!a.ok()) {
            failThen(x, task.id(), "the upstream refused the task with " + a.status(), () -> passOn(x, a));
            return;
        }
        TaskJson.UpstreamTask answer = TaskJson.upstream(a.body());
        if (answer == null || answer.id() == null) {
            failThen(x, task.id(), "the upstream answered no task id", () -> x.fail(ApiError.UPSTREAM_ERROR,
                    "the upstream answered without a task id"));
            return;
        }
        if (x.gone()) {
            end(x, task.id(), "the client left before the task id was answered");
            return;
        }
        String status = MediaTask.RUNNING.equals(answer.status()) ? MediaTask.RUNNING : MediaTask.QUEUED;
        accept(x, task, answer.id(), status);
    }

    /** Records the upstream's acceptance (and the submit's log row, with it), then answers the task. */
    void accept(MediaExchange x, TaskStore.NewTask task, String upstreamTaskId, String status) {
        Instant now = Instant.now();
        RequestLogEntry row = x.logEntry(200, null, BigDecimal.ZERO);
        CompletableFuture.supplyAsync(() -> {
            try {
                return store.accepted(task.id(), upstreamTaskId, status, row);
            } catch (SQLException e) {
                throw new CompletionException(e);
            }
        }, db).whenComplete((accepted, err) -> x.onLoop(() -> {
            if (err != null || !accepted) {
                log.warn("{}: recording task {} as accepted failed: {}", x.requestId, task.id(),
                        err == null ? "it timed out meanwhile" : unwrap(err).toString());
                failThen(x, task.id(), "the gateway could not record the task",
                        () -> x.fail(ApiError.SERVICE_UNAVAILABLE, "the task could not be recorded, try again shortly"));
                return;
            }
            x.outcomeWrittenWithTask();
            x.holdOutcome(false);
            if (x.gone()) {
                // The client never learns the id: it must not pay for what it cannot fetch.
                CompletableFuture.runAsync(() -> failQuietly(task.id(), "the client left before the task id was answered"), db);
                return;
            }
            x.respond(HttpResponseStatus.OK, TaskJson.render(x.ctx.alloc(), new MediaTask(task.id(), task.kind(),
                    task.requestId(), task.accountId(), task.keyId(), task.model(), task.upstreamId(), task.upstreamModel(),
                    upstreamTaskId, status, task.units(), task.pricePerRequest(), task.pricePerUnit(), task.reserved(),
                    null, null, null, null, now, now, null)));
            if (MediaTask.IMAGE.equals(task.kind())) {
                generateImages(x, task);
            }
        }));
    }

    /**
     * Runs an async image task: the upstream's synchronous image generation, called in the
     * background on the client's event loop (whether or not the client stays), its answer kept
     * whole for the polls (at most {@link MediaConfig#maxTaskAnswerBytes()}) and the task settled
     * on the images it returned, at most n. Should this proxy die meanwhile, the task times out.
     */
    private void generateImages(MediaExchange x, TaskStore.NewTask task) {
        byte[] body = x.request.upstreamBody(x.upstreamModel);
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
                x.target.basePath() + MediaRoute.IMAGES, Unpooled.wrappedBuffer(body));
        UpstreamRequests.headers(x.head.headers(), request.headers(), x.upstream, x.target, x.requestId);
        HttpUtil.setContentLength(request, body.length);
        UpstreamCall.send(x.conn.pool(), x.ctx.channel().eventLoop(), x.target, request,
                        services.config().upstreamFirstByteTimeout(), services.config().upstreamIdleTimeout(),
                        config.maxTaskAnswerBytes())
                .whenCompleteAsync((a, err) -> {
                    try {
                        imagesGenerated(task, a, err);
                    } catch (SQLException | RuntimeException e) {
                        log.warn("task {}: recording its images failed; it will time out: {}", task.id(), e.toString());
                    }
                }, db);
    }

    private void imagesGenerated(TaskStore.NewTask task, UpstreamCall.Answer a, Throwable err) throws SQLException {
        if (err != null) {
            store.finish(task.id(), false, null, null, null, "the upstream failed: " + unwrap(err).getMessage());
            return;
        }
        JsonNode answer = TaskJson.read(a.body());
        if (!a.ok()) {
            String why = answer.path("error").path("message").asText("");
            store.finish(task.id(), false, null, null, null, "the upstream answered " + a.status()
                    + (why.isEmpty() ? "" : ": " + why));
            return;
        }
        JsonNode data = answer.path("data");
        long returned = data.isArray() ? data.size() : 0;
        long n = task.units().longValue();
        long billed = Math.min(returned, n);
        if (billed < returned) {
            log.warn("task {}: upstream {} returned {} images for n={}; billing {}", task.id(), task.upstreamId(),
                    returned, n, billed);
        }
        BigDecimal cost = Prices.images(new Pricing(task.pricePerRequest(), null, null, task.pricePerUnit(), null), billed);
        store.finish(task.id(), true, cost, BigDecimal.valueOf(billed), TaskJson.imageResult(data.isArray() ? data : null), null);
    }

    /** The upstream's own refusal, passed through when it is the client's doing (as chat does), else 502. */
    private static void passOn(MediaExchange x, UpstreamCall.Answer a) {
        if (!UpstreamRequests.PASS_THROUGH.contains(a.status())) {
            x.fail(ApiError.UPSTREAM_ERROR, "the upstream answered " + a.status());
            return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(a.status()), Unpooled.wrappedBuffer(a.body()));
        Headers.copyEndToEnd(a.headers(), response.headers(), UpstreamRequests.NOT_RETURNED);
        HttpUtil.setContentLength(response, a.body().length);
        x.send(response);
    }

    /** Fails the task (releasing its credits), then answers the client with {@code answer}. */
    void failThen(MediaExchange x, String taskId, String error, Runnable answer) {
        CompletableFuture.runAsync(() -> failQuietly(taskId, error), db)
                .whenComplete((v, e) -> x.onLoop(() -> {
                    answer.run();
                    x.holdOutcome(false);
                }));
    }

    /** The client left mid-submit: the task is failed and the submit logged as the client's leaving. */
    private void end(MediaExchange x, String taskId, String error) {
        CompletableFuture.runAsync(() -> failQuietly(taskId, error), db)
                .whenComplete((v, e) -> x.onLoop(() -> x.holdOutcome(false)));
    }

    /** Ends a task as failed; should the database be away, the sweeper fails it once it is back. */
    void failQuietly(String taskId, String error) {
        try {
            store.finish(taskId, false, null, null, null, error);
        } catch (SQLException | RuntimeException e) {
            log.warn("failing task {} ({}) failed; the sweeper will: {}", taskId, error, e.toString());
        }
    }

    // ---------------------------------------------------------------- poll

    /** Answers a poll: the task as the database has it, after asking its upstream if it is this poll's turn. */
    void poll(MediaExchange x) {
        String kind = x.route.video() ? MediaTask.VIDEO : MediaTask.IMAGE;
        CompletableFuture.supplyAsync(() -> {
            try {
                return store.claim(x.route.taskId(), kind, x.account.id(), config.upstreamPollInterval());
            } catch (SQLException e) {
                throw new CompletionException(e);
            }
        }, db).whenComplete((claim, err) -> x.onLoop(() -> {
            if (err != null) {
                log.warn("{}: reading task {} failed: {}", x.requestId, x.route.taskId(), unwrap(err).toString());
                x.fail(ApiError.SERVICE_UNAVAILABLE, "tasks are unavailable, try again shortly");
                return;
            }
            if (claim == null) {
                // Unknown, another account's, or of the other kind: the same 404 for all.
                x.fail(ApiError.NOT_FOUND, "no such task: " + x.route.taskId());
                return;
            }
            x.modelName = claim.task().model();
            x.upstreamId = claim.task().upstreamId();
            if (!claim.claimed()) {
                x.respond(HttpResponseStatus.OK, TaskJson.render(x.ctx.alloc(), claim.task()));
                return;
            }
            refresh(claim.task(), x.ctx.channel().eventLoop(), x.requestId)
                    .whenComplete((t, e) -> x.onLoop(() -> x.respond(HttpResponseStatus.OK,
                            TaskJson.render(x.ctx.alloc(), t != null ? t : claim.task()))));
        }));
    }

    /**
     * Asks the task's upstream where it is and applies the answer: a finished task is ended and
     * settled (once, whoever else tries), a running one marked so. Completes with the task as it
     * is afterwards; an upstream that cannot be asked leaves it as it was.
     */
    CompletableFuture<MediaTask> refresh(MediaTask t, EventLoop loop, String requestId) {
        Catalog.Routing routing = services.catalog().routing();
        Upstream upstream = routing.upstreams().get(t.upstreamId());
        UpstreamTarget target = routing.targets().get(t.upstreamId());
        if (upstream == null || target == null) {
            log.warn("task {}: its upstream {} is gone; it will time out", t.id(), t.upstreamId());
            return CompletableFuture.completedFuture(t);
        }
        CompletableFuture<MediaTask> out = new CompletableFuture<>();
        loop.execute(() -> {
            FullHttpRequest get = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
                    target.basePath() + MediaRoute.VIDEOS + "/" + URLEncoder.encode(t.upstreamTaskId(), StandardCharsets.UTF_8)
                            .replace("+", "%20"), Unpooled.EMPTY_BUFFER);
            UpstreamRequests.headers(null, get.headers(), upstream, target, requestId);
            HttpUtil.setContentLength(get, 0);
            UpstreamCall.send(services.pool(loop), loop, target, get, services.config().upstreamFirstByteTimeout(),
                            services.config().upstreamIdleTimeout(), config.maxTaskAnswerBytes())
                    .whenCompleteAsync((a, err) -> {
                        try {
                            out.complete(apply(t, a, err));
                        } catch (SQLException | RuntimeException e) {
                            log.warn("task {}: applying the upstream's answer failed: {}", t.id(), e.toString());
                            out.complete(t);
                        }
                    }, db);
        });
        return out;
    }

    private MediaTask apply(MediaTask t, UpstreamCall.Answer a, Throwable err) throws SQLException {
        if (err != null) {
            log.info("task {}: asking upstream {} failed: {}", t.id(), t.upstreamId(), unwrap(err).toString());
            return t;
        }
        if (a.status() == 404) {
            store.finish(t.id(), false, null, null, null, "the upstream no longer knows this task");
            return store.get(t.id());
        }
        TaskJson.UpstreamTask answer = a.ok() ? TaskJson.upstream(a.body()) : null;
        if (answer == null || answer.status() == null) {
            log.info("task {}: upstream {} answered {} without a status we know", t.id(), t.upstreamId(), a.status());
            return t;
        }
        switch (answer.status()) {
            case MediaTask.SUCCEEDED -> {
                BigDecimal seconds = billedSeconds(t, answer.seconds());
                BigDecimal cost = Prices.video(new Pricing(t.pricePerRequest(), null, null, null, t.pricePerUnit()), seconds);
                if (store.finish(t.id(), true, cost, seconds, TaskJson.videoResult(answer.videoUrl()), null)) {
                    log.debug("task {} succeeded: {} s for {}", t.id(), seconds, cost);
                }
            }
            case MediaTask.FAILED -> store.finish(t.id(), false, null, null, null,
                    answer.error() == null ? "the upstream reports the task failed" : answer.error());
            default -> {
                if (!answer.status().equals(t.status())) {
                    store.progressed(t.id(), answer.status());
                }
            }
        }
        return store.get(t.id());
    }

    /** The duration the upstream reports, held to what was reserved (none reported: what was reserved). */
    private static BigDecimal billedSeconds(MediaTask t, BigDecimal reported) {
        if (reported == null) {
            return t.units();
        }
        BigDecimal billed = reported.max(BigDecimal.ZERO).min(t.units());
        if (billed.compareTo(reported) != 0) {
            log.warn("task {}: upstream {} reported {} s for {} s reserved; billing {} s", t.id(), t.upstreamId(),
                    reported.toPlainString(), t.units().toPlainString(), billed.toPlainString());
        }
        return billed;
    }

    // ---------------------------------------------------------------- sweep

    /** Fails the tasks past their timeout; asks the upstream about those nobody polled lately. */
    void sweep() {
        try {
            Duration submit = services.config().upstreamConnectTimeout()
                    .plus(services.config().upstreamFirstByteTimeout()).plus(SUBMIT_GRACE);
            for (MediaTask t : store.overdue(config.videoTaskTimeout(), config.imageTaskTimeout(), submit, 100)) {
                if (store.finish(t.id(), false, null, null, null, "the task did not finish in time")) {
                    log.warn("task {} ({}, {}) timed out in state {}; its {} credits are released", t.id(), t.kind(),
                            t.model(), t.status(), t.reserved().toPlainString());
                }
            }
            for (MediaTask t : store.claimStale(config.sweepInterval(), SWEEP_BATCH)) {
                EventLoop loop = loops.get(Math.floorMod(nextLoop.getAndIncrement(), loops.size()));
                refresh(t, loop, t.requestId());
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("sweeping media tasks failed: {}", e.toString());
        }
    }

    static Throwable unwrap(Throwable e) {
        while ((e instanceof CompletionException || e instanceof java.util.concurrent.ExecutionException
                || e instanceof Billing.BillingUnavailableException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        db.shutdown();
        try {
            db.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
