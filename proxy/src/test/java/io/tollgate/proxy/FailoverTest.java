package io.tollgate.proxy;

import io.tollgate.proxy.billing.Prices;
import io.tollgate.proxy.mock.MockProvider;
import io.tollgate.proxy.mock.NoLeaksExtension;
import io.tollgate.proxy.mock.RawHttp;
import io.tollgate.schema.LedgerEntry;
import io.tollgate.schema.LedgerStore;
import io.tollgate.schema.Model;
import io.tollgate.schema.RequestLogEntry;
import io.tollgate.schema.RequestLogStore;
import io.tollgate.schema.Route;
import io.tollgate.schema.Upstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Routing with failover, over real sockets: a model routed to failing upstreams first and the
 * mock provider last. A request that fails before any answer byte reached the client is tried
 * on the next route, keeps its one request id and its one reservation, and is charged once, for
 * the answer it got.
 */
@ExtendWith(NoLeaksExtension.class)
class FailoverTest {

    private static final String FAILING_MODEL = "failing-model";
    private static final String GOOD_MODEL = "mock-second";
    private static final AtomicInteger names = new AtomicInteger();

    static Gateway gw;

    @BeforeAll
    static void start() {
        gw = new Gateway();
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @BeforeEach
    void resetMock() {
        gw.mock.reset();
    }

    private static String closedPortUrl() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return "http://127.0.0.1:" + s.getLocalPort() + "/v1";
        }
    }

    private static Upstream upstream(String baseUrl, int weight, int priority) {
        return gw.upstreams.create("u" + names.incrementAndGet(), "openai", baseUrl, Gateway.UPSTREAM_KEY,
                weight, priority, true);
    }

    /** A model with these routes: the gateway's mock provider by {@link #GOOD_MODEL}, any other by {@link #FAILING_MODEL}. */
    private static String model(Upstream... via) {
        String id = "fo-" + names.incrementAndGet();
        List<Route> routes = new ArrayList<>();
        for (Upstream u : via) {
            routes.add(new Route(u.id(), u.id().equals(gw.upstream.id()) ? GOOD_MODEL : FAILING_MODEL));
        }
        Instant now = Instant.now();
        gw.models.put(new Model(id, id, "text", List.of("chat"), routes, Gateway.PRICING, 1000, true, true, null, now, now));
        gw.awaitModels(id);
        return id;
    }

    /** The failing route first (priority 1), the mock provider after it (its priority 0). */
    private static String failingThenMock(String failingUrl) {
        return model(upstream(failingUrl, 1, 1), gw.upstream);
    }

    private static String requestId(HttpResponse<?> r) {
        return r.headers().firstValue("x-request-id").orElseThrow();
    }

    private static List<LedgerEntry> settlements(String accountId) {
        return new LedgerStore(gw.db.database().dataSource()).list(accountId, 1000).stream()
                .filter(e -> e.kind().equals("settlement")).toList();
    }

    private static RequestLogEntry logRow(Gateway.Funded f, String requestId) {
        return new RequestLogStore(gw.db.database().dataSource()).list(f.accountId(), f.keyId(), 1000).stream()
                .filter(e -> e.requestId().equals(requestId)).findFirst().orElseThrow();
    }

    /**
     * One settlement, for this request id, of exactly what the mock provider reported, and the
     * balance down by exactly that; every reservation released, so the lease goes back whole.
     */
    private static void assertChargedOnceForTheAnswer(Gateway.Funded f, String requestId) throws Exception {
        gw.awaitSettled();
        MockProvider.Usage usage = gw.mock.reportedUsages().get(0);
        BigDecimal cost = Prices.tokens(Gateway.PRICING, usage.promptTokens(), usage.completionTokens());
        assertThat(cost).isPositive();
        List<LedgerEntry> paid = settlements(f.accountId());
        assertThat(paid).hasSize(1);
        assertThat(paid.get(0).requestId()).isEqualTo(requestId);
        assertThat(paid.get(0).amount()).isEqualByComparingTo(cost.negate());
        assertThat(logRow(f, requestId).upstreamId()).isEqualTo(gw.upstream.id());
        assertNothingHeld(f, new BigDecimal("100").subtract(cost));
    }

    private static void assertNothingHeld(Gateway.Funded f, BigDecimal balance) {
        gw.proxy.returnLeases();
        assertThat(gw.accounts.find(f.accountId()).orElseThrow().reserved()).isZero();
        assertThat(gw.accounts.find(f.accountId()).orElseThrow().balance()).isEqualByComparingTo(balance);
    }

    @Test
    void aRefusedConnectionFailsOverToTheNextRoute() throws Exception {
        String model = failingThenMock(closedPortUrl());
        Gateway.Funded f = gw.fund("100");

        HttpResponse<String> r = gw.chat(f.key(), Gateway.chatBody(model, false));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"chat.completion\"");
        assertThat(gw.mock.requests()).singleElement()
                .satisfies(seen -> assertThat(seen.bodyUtf8()).contains("\"model\":\"" + GOOD_MODEL + "\""));
        assertChargedOnceForTheAnswer(f, requestId(r));
    }

    @ParameterizedTest
    @ValueSource(ints = {500, 502, 503})
    void aServerErrorIsRetriedOnTheNextRouteWithTheSameBodyButThatRoutesModel(int status) throws Exception {
        try (FailingUpstream failing = FailingUpstream.answering(status)) {
            String model = failingThenMock(failing.baseUrl());
            Gateway.Funded f = gw.fund("100");

            HttpResponse<String> r = gw.chat(f.key(), Gateway.chatBody(model, false));

            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(failing.bodies()).singleElement().asString().contains("\"model\":\"" + FAILING_MODEL + "\"");
            // Byte for byte the body the failed upstream was sent, but for the model's name.
            assertThat(gw.mock.requests()).singleElement().satisfies(seen -> assertThat(seen.bodyUtf8())
                    .isEqualTo(failing.bodies().get(0).replace("\"" + FAILING_MODEL + "\"", "\"" + GOOD_MODEL + "\"")));
            assertThat(gw.mock.requests().get(0).headers().get("x-request-id")).isEqualTo(requestId(r));
            assertChargedOnceForTheAnswer(f, requestId(r));
        }
    }

    @Test
    void aConnectionResetBeforeTheAnswerIsRetried() throws Exception {
        try (FailingUpstream failing = FailingUpstream.resetting()) {
            String model = failingThenMock(failing.baseUrl());
            Gateway.Funded f = gw.fund("100");

            HttpResponse<String> r = gw.chat(f.key(), Gateway.chatBody(model, false));

            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(failing.bodies()).hasSize(1);
            assertThat(gw.mock.requests()).hasSize(1);
            assertChargedOnceForTheAnswer(f, requestId(r));
        }
    }

    @Test
    void aStreamWhoseFirstRouteFailsIsDeliveredOnceFromTheNext() throws Exception {
        try (FailingUpstream failing = FailingUpstream.answering(503)) {
            String model = failingThenMock(failing.baseUrl());
            Gateway.Funded f = gw.fund("100");

            HttpResponse<String> r = gw.chat(f.key(), Gateway.chatBody(model, true));

            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/event-stream"));
            List<String> events = r.body().lines().filter(l -> l.startsWith("data:")).toList();
            assertThat(events).last().isEqualTo("data: [DONE]");
            assertThat(events).filteredOn(e -> e.equals("data: [DONE]")).hasSize(1);
            assertThat(events.stream().filter(e -> e.contains("\"role\":\"assistant\""))).hasSize(1);
            assertThat(r.body()).doesNotContain("failing on purpose");
            // Both upstreams were asked for usage; the client, which did not ask, sees none of it.
            assertThat(failing.bodies().get(0)).contains("\"include_usage\":true");
            assertThat(gw.mock.requests().get(0).bodyUtf8()).contains("\"include_usage\":true");
            assertThat(r.body()).doesNotContain("\"usage\":{");
            assertChargedOnceForTheAnswer(f, requestId(r));
        }
    }

    @Test
    void anUpstreamThatFailsMidBodyIsFollowedByOneSentWhatLeftAndThenTheRest() throws Exception {
        try (FailingUpstream failing = FailingUpstream.answeringEarly(503);
             RawSocket s = new RawSocket(gw.proxy.port())) {
            String model = failingThenMock(failing.baseUrl());
            Gateway.Funded f = gw.fund("100");
            String first = "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"say hello ";
            String rest = "to the gateway\"}],\"temperature\":0.5}";

            s.write("POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\nAuthorization: Bearer " + f.key() + "\r\n\r\n");
            s.writeChunk(first.getBytes(StandardCharsets.UTF_8));
            // The first upstream has its head (and some body) and answers 503 at once; the second
            // is sent what the first was, and the rest of the body follows as it arrives.
            await().atMost(Duration.ofSeconds(5)).until(() -> gw.mock.headsReceived() == 1);
            s.writeChunk(rest.getBytes(StandardCharsets.UTF_8));
            s.writeChunk(new byte[0]);
            RawHttp.Response r = s.readResponse();

            assertThat(r.status()).as(r.bodyUtf8()).isEqualTo(200);
            assertThat(failing.heads()).isEqualTo(1);
            assertThat(gw.mock.requests()).singleElement().satisfies(seen -> assertThat(seen.bodyUtf8())
                    .isEqualTo((first + rest).replace("\"model\":\"" + model + "\"", "\"model\":\"" + GOOD_MODEL + "\"")));
            assertChargedOnceForTheAnswer(f, r.header("x-request-id"));
        }
    }

    @Test
    void whenEveryAttemptFailsTheAnswerIs502AndCostsNothingAndOnlyThreeAreTried() throws Exception {
        try (FailingUpstream unavailable = FailingUpstream.answering(503);
             FailingUpstream resetting = FailingUpstream.resetting();
             FailingUpstream fourth = FailingUpstream.answering(500)) {
            Upstream last = upstream(resetting.baseUrl(), 1, 2);
            String model = model(upstream(closedPortUrl(), 1, 4), upstream(unavailable.baseUrl(), 1, 3), last,
                    upstream(fourth.baseUrl(), 1, 1));
            Gateway.Funded f = gw.fund("100");

            HttpResponse<String> r = gw.chat(f.key(), Gateway.chatBody(model, false));

            ApiErrors.assertError(r, 502, "upstream_error", "api_error");
            assertThat(unavailable.bodies()).hasSize(1);
            assertThat(resetting.bodies()).hasSize(1);
            assertThat(fourth.bodies()).isEmpty();                   // the default: three attempts at most
            gw.awaitSettled();
            assertThat(settlements(f.accountId())).isEmpty();
            RequestLogEntry row = logRow(f, requestId(r));
            assertThat(row.status()).isEqualTo(502);
            assertThat(row.credits()).isZero();
            assertThat(row.upstreamId()).isEqualTo(last.id());        // the last one tried
            assertNothingHeld(f, new BigDecimal("100"));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 429})
    void theClientsOwnErrorsPassThroughAndAreNotRetried(int status) throws Exception {
        try (FailingUpstream failing = FailingUpstream.answering(status)) {
            Upstream first = upstream(failing.baseUrl(), 1, 1);
            String model = model(first, gw.upstream);
            Gateway.Funded f = gw.fund("100");

            HttpResponse<String> r = gw.chat(f.key(), Gateway.chatBody(model, false));

            assertThat(r.statusCode()).isEqualTo(status);
            assertThat(r.body()).contains("failing_" + status);
            assertThat(failing.bodies()).hasSize(1);
            assertThat(gw.mock.requests()).isEmpty();
            gw.awaitSettled();
            assertThat(settlements(f.accountId())).isEmpty();
            assertThat(logRow(f, requestId(r)).upstreamId()).isEqualTo(first.id());
            assertNothingHeld(f, new BigDecimal("100"));
        }
    }

    @Test
    void aFailedRouteOfTheSamePriorityIsFollowedByTheOtherOne() throws Exception {
        try (FailingUpstream failing = FailingUpstream.answering(503)) {
            String model = model(upstream(failing.baseUrl(), 1, 0), gw.upstream);
            Gateway.Funded f = gw.fund("100");
            Set<String> ids = new HashSet<>();
            for (int i = 0; i < 20; i++) {
                HttpResponse<String> r = gw.chat(f.key(), Gateway.chatBody(model, false));
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                ids.add(requestId(r));
            }
            assertThat(failing.bodies()).isNotEmpty();               // half the time it is drawn first
            gw.awaitSettled();
            assertThat(settlements(f.accountId())).extracting(LedgerEntry::requestId).containsExactlyInAnyOrderElementsOf(ids);
        }
    }

    @Test
    void routesOfOnePriorityShareTheTrafficByWeight() throws Exception {
        MockProvider other = MockProvider.start("127.0.0.1", 0,
                new MockProvider.Options(8, Duration.ZERO, Duration.ZERO, Gateway.UPSTREAM_KEY));
        try (other) {
            Upstream heavy = upstream("http://127.0.0.1:" + other.port() + "/v1", 3, 0);
            String model = model(heavy, gw.upstream);                 // the gateway's mock weighs 1
            Gateway.Funded f = gw.fund("100");
            int n = 200;
            for (int i = 0; i < n; i++) {
                assertThat(gw.chat(f.key(), Gateway.chatBody(model, false)).statusCode()).isEqualTo(200);
            }
            // 3:1 is 150 of 200, with a binomial spread of 6.1: this bound is more than five of them.
            assertThat(other.requests().size()).isBetween(115, 185);
            assertThat(other.requests().size() + gw.mock.requests().size()).isEqualTo(n);
        }
    }

    /** A valid body of about {@code size} bytes for {@code model}, model first. */
    private static String bigBody(String model, int size) {
        return new String(Gateway.bigChatBody(size), StandardCharsets.UTF_8)
                .replace("\"model\":\"" + Gateway.MODEL + "\"", "\"model\":\"" + model + "\"");
    }

    @Test
    void aBodyLargerThanTheReplayBufferIsNotRetriedOnceSomeOfItLeft() throws Exception {
        try (FailingUpstream failing = FailingUpstream.answering(503)) {
            String model = failingThenMock(failing.baseUrl());
            Gateway.Funded f = gw.fund("100");
            String body = bigBody(model, 200_000);
            assertThat(body.length()).isGreaterThan(ProxyConfig.DEFAULT_REPLAY_BUFFER_BYTES);

            HttpResponse<String> r = gw.chat(f.key(), body);

            ApiErrors.assertError(r, 502, "upstream_error", "api_error");
            assertThat(failing.bodies()).singleElement().satisfies(b -> assertThat(b).hasSize(
                    body.length() - model.length() + FAILING_MODEL.length()));
            assertThat(gw.mock.headsReceived()).isZero();
            gw.awaitSettled();
            assertThat(settlements(f.accountId())).isEmpty();
            assertNothingHeld(f, new BigDecimal("100"));
        }
    }

    @Test
    void aBodyLargerThanTheReplayBufferIsRetriedWhenNoneOfItLeft() throws Exception {
        String model = failingThenMock(closedPortUrl());
        Gateway.Funded f = gw.fund("100");
        String body = bigBody(model, 200_000);

        HttpResponse<String> r = gw.chat(f.key(), body);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(gw.mock.requests()).singleElement().satisfies(seen -> assertThat(seen.bodyUtf8())
                .isEqualTo(body.replace("\"model\":\"" + model + "\"", "\"model\":\"" + GOOD_MODEL + "\"")));
        assertChargedOnceForTheAnswer(f, requestId(r));
    }
}
