package io.tollgate.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.tollgate.proxy.billing.Billing;
import io.tollgate.proxy.catalog.TestCatalogs;
import io.tollgate.proxy.http.RequestDecoder;
import io.tollgate.proxy.http.ResponseEncoder;
import io.tollgate.proxy.upstream.UpstreamPool;
import io.tollgate.schema.Account;
import io.tollgate.schema.ApiKey;
import io.tollgate.schema.ApiKeySecrets;
import io.tollgate.schema.BillingStore;
import io.tollgate.schema.Model;
import io.tollgate.schema.Pricing;
import io.tollgate.schema.RateLimits;
import io.tollgate.schema.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The frontend on an EmbeddedChannel: the paths that are answered without an upstream. */
class FrontendHandlerTest {

    private static final String KEY = "sk-tg-frontend-handler-test-key";
    private static TestDatabase db;
    private static Billing billing;
    private static final io.tollgate.proxy.limit.Limiters limiters =
            io.tollgate.proxy.limit.Limiters.create(io.tollgate.proxy.limit.LimiterConfig.defaults());

    @BeforeAll
    static void start() {
        db = TestDatabase.create();
        billing = new Billing(new BillingStore(db.database().dataSource()), 1);
    }

    @AfterAll
    static void stop() {
        billing.close();
        db.close();
    }

    private static EmbeddedChannel channel(List<String> allowedModels) {
        Instant now = Instant.now();
        Account account = new Account("acct_t", "t", "pro", "active", BigDecimal.TEN, BigDecimal.ZERO, now);
        ApiKey key = new ApiKey("key_t", "acct_t", "k", ApiKeySecrets.hash(KEY), "sk-tg-fr", ApiKey.ACTIVE,
                allowedModels, null, BigDecimal.ZERO, BigDecimal.ZERO, null, RateLimits.NONE, now);
        Model a = new Model("alpha", "Alpha", "text", List.of("chat"), List.of(),
                new Pricing(new BigDecimal("0.5"), null, null, null, null), 100, true, true, null, now, now);
        Model b = new Model("beta", "Beta", "text", List.of(), List.of(), Pricing.FREE, null, true, true, null, now, now);
        Model hidden = new Model("gamma", "Gamma", "text", List.of(), List.of(), Pricing.FREE, null, true, false, null, now, now);
        EmbeddedChannel ch = new EmbeddedChannel();
        UpstreamPool pool = new UpstreamPool((EventLoop) ch.eventLoop(), NioSocketChannel.class, null,
                io.netty.resolver.DefaultAddressResolverGroup.INSTANCE, Duration.ofSeconds(1), Duration.ofSeconds(1), 1);
        ProxyServices services = new ProxyServices(ProxyConfig.defaults(), TestCatalogs.of(account, key, a, b, hidden),
                billing, limiters, Map.of((EventLoop) ch.eventLoop(), pool));
        RequestDecoder decoder = new RequestDecoder(new HttpDecoderConfig());
        ch.pipeline().addLast(decoder, new ResponseEncoder(decoder), new FrontendHandler(services));
        ch.pipeline().fireChannelActive();
        return ch;
    }

    private static void send(EmbeddedChannel ch, String raw) {
        ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.US_ASCII));
    }

    private static List<FullHttpResponse> responses(EmbeddedChannel ch) {
        EmbeddedChannel client = new EmbeddedChannel(new HttpResponseDecoder(), new HttpObjectAggregator(1 << 20));
        Object out;
        while ((out = ch.readOutbound()) != null) {
            client.writeInbound(out);
        }
        List<FullHttpResponse> all = new ArrayList<>();
        Object r;
        while ((r = client.readInbound()) != null) {
            all.add((FullHttpResponse) r);
        }
        return all;
    }

    private static String body(FullHttpResponse r) {
        String s = r.content().toString(StandardCharsets.UTF_8);
        r.release();
        return s;
    }

    @Test
    void anUnknownPathIs404AndTheConnectionStaysUsable() {
        EmbeddedChannel ch = channel(null);
        send(ch, "GET /v1/nope HTTP/1.1\r\nHost: x\r\n\r\n");
        List<FullHttpResponse> rs = responses(ch);
        assertThat(rs).hasSize(1);
        assertThat(rs.get(0).status().code()).isEqualTo(404);
        assertThat(rs.get(0).headers().get("x-request-id")).startsWith("req_");
        assertThat(body(rs.get(0))).contains("\"code\":\"not_found\"");
        assertThat(ch.isOpen()).isTrue();
        ch.finishAndReleaseAll();
    }

    @Test
    void aWrongMethodIs405() {
        EmbeddedChannel ch = channel(null);
        send(ch, "GET /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n");
        FullHttpResponse r = responses(ch).get(0);
        assertThat(r.status().code()).isEqualTo(405);
        assertThat(body(r)).contains("\"code\":\"method_not_allowed\"");
        ch.finishAndReleaseAll();
    }

    @Test
    void aMissingKeyIs401AndItsBodyIsDrained() {
        EmbeddedChannel ch = channel(null);
        send(ch, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
                + "GET /api/v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY + "\r\n\r\n");
        List<FullHttpResponse> rs = responses(ch);
        assertThat(rs).hasSize(2);
        assertThat(rs.get(0).status().code()).isEqualTo(401);
        assertThat(body(rs.get(0))).contains("\"code\":\"invalid_api_key\"");
        assertThat(rs.get(1).status().code()).isEqualTo(200);      // answered in order, on the same connection
        body(rs.get(1));
        ch.finishAndReleaseAll();
    }

    @Test
    void modelsListsThePublicModelsTheKeyMayCallWithTheirPrices() {
        EmbeddedChannel ch = channel(List.of("alpha", "gamma"));
        send(ch, "GET /v1/models HTTP/1.1\r\nHost: x\r\nx-api-key: " + KEY + "\r\n\r\n");
        String json = body(responses(ch).get(0));
        assertThat(json).contains("\"id\":\"alpha\"").contains("\"credit_cost\":0.5")
                .doesNotContain("\"id\":\"beta\"")           // not in the allowlist
                .doesNotContain("\"id\":\"gamma\"");         // not public
        ch.finishAndReleaseAll();
    }

    @Test
    void connectionCloseIsHonouredAfterTheAnswer() {
        EmbeddedChannel ch = channel(null);
        send(ch, "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " + KEY + "\r\n\r\n");
        FullHttpResponse r = responses(ch).get(0);
        assertThat(r.headers().get("connection")).isEqualToIgnoringCase("close");
        body(r);
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }

    @Test
    void everyRefusalIsRecordedForTheRequestLog() {
        EmbeddedChannel ch = channel(null);
        send(ch, "GET /v1/refused-path HTTP/1.1\r\nHost: x\r\n\r\n");
        FullHttpResponse r = responses(ch).get(0);
        String requestId = r.headers().get("x-request-id");
        body(r);
        ch.finishAndReleaseAll();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> {
            try (var c = db.database().dataSource().getConnection();
                 var ps = c.prepareStatement("SELECT status, endpoint FROM request_log WHERE request_id = ?")) {
                ps.setString(1, requestId);
                try (var rs = ps.executeQuery()) {
                    return rs.next() && rs.getInt(1) == 404 && rs.getString(2).equals("/refused-path");
                }
            }
        });
    }
}
