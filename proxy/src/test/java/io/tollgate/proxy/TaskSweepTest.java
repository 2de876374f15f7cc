package io.tollgate.proxy;

import io.tollgate.proxy.media.MediaConfig;
import io.tollgate.proxy.mock.MockHeaders;
import io.tollgate.schema.LedgerStore;
import io.tollgate.schema.TaskStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.time.Duration;

import static io.tollgate.proxy.MediaModels.VIDEO_MODEL;
import static io.tollgate.proxy.MediaModels.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Tasks nobody polls are still driven to their end by the sweeper, and tasks that never end time out. */
class TaskSweepTest {

    /** Clients' polls would rarely ask the upstream; the sweeper looks every 300 ms; tasks live 3 s at most. */
    static final MediaConfig MEDIA = MediaConfig.defaults()
            .withPolling(Duration.ofSeconds(30), Duration.ofMillis(300))
            .withTaskTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(3));

    static Gateway gw;

    @BeforeAll
    static void start() {
        gw = new Gateway(Gateway.config(), Gateway.roomyLimits(), MEDIA);
        MediaModels.put(gw);
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    private static String status(String id) throws Exception {
        try (var c = gw.db.database().dataSource().getConnection();
             var ps = c.prepareStatement("SELECT status FROM media_tasks WHERE id = ?")) {
            ps.setString(1, id);
            try (var rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static String submit(String key, long runningMs) throws Exception {
        HttpResponse<String> r = post(gw, "/v1/videos/generations", key,
                "{\"model\":\"" + VIDEO_MODEL + "\",\"prompt\":\"x\",\"duration\":4}",
                MockHeaders.TASK_QUEUED_MS, "0", MockHeaders.TASK_RUNNING_MS, Long.toString(runningMs));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return ApiErrors.JSON.readTree(r.body()).get("id").asText();
    }

    @Test
    void aTaskNobodyPollsIsSettledByTheSweeper() throws Exception {
        Gateway.Funded f = gw.fund("10");
        String id = submit(f.key(), 200);

        await().atMost(Duration.ofSeconds(10)).until(() -> "succeeded".equals(status(id)));
        assertThat(new LedgerStore(gw.db.database().dataSource()).list(f.accountId(), 10).stream()
                .filter(e -> e.kind().equals("settlement")).toList())
                .singleElement().satisfies(e -> assertThat(e.amount()).isEqualByComparingTo("-2"));
        assertThat(gw.mock.requests().stream().filter(r -> r.method().equals("GET") && r.uri().contains("/videos/generations/"))
                .count()).isPositive();
        gw.awaitSettled();
        gw.proxy.returnLeases();
        assertThat(gw.accounts.find(f.accountId()).orElseThrow().reserved()).isZero();
        assertThat(gw.accounts.find(f.accountId()).orElseThrow().balance()).isEqualByComparingTo("8");
    }

    @Test
    void aTaskThatNeverEndsTimesOutAndCostsNothing() throws Exception {
        Gateway.Funded f = gw.fund("10");
        String id = submit(f.key(), 600_000);

        await().atMost(Duration.ofSeconds(10)).until(() -> "failed".equals(status(id)));
        gw.awaitSettled();
        gw.proxy.returnLeases();
        assertThat(gw.accounts.find(f.accountId()).orElseThrow().reserved()).isZero();
        assertThat(gw.accounts.find(f.accountId()).orElseThrow().balance()).isEqualByComparingTo("10");
        assertThat(gw.queryNumber("SELECT count(*) FROM ledger WHERE kind = 'settlement' AND account_id = '"
                + f.accountId() + "'")).isZero();
    }

    @Test
    void aTaskLeftSubmittingByADeadProxyIsReleased() throws Exception {
        Gateway.Funded f = gw.fund("10");
        // What a proxy that died between opening a task and the upstream's answer leaves behind.
        TaskStore store = new TaskStore(gw.db.database().dataSource());
        assertThat(store.open(new TaskStore.NewTask("task_orphan", "video", "req_orphan", f.accountId(), f.keyId(),
                VIDEO_MODEL, gw.upstream.id(), "mock-video", new BigDecimal("4"), null, new BigDecimal("0.5"),
                new BigDecimal("2")), "px_dead", 2)).isEqualTo(TaskStore.Open.OPENED);
        assertThat(gw.accounts.find(f.accountId()).orElseThrow().reserved()).isEqualByComparingTo("2");

        await().atMost(Duration.ofSeconds(10)).until(() -> "failed".equals(status("task_orphan")));
        assertThat(gw.accounts.find(f.accountId()).orElseThrow().reserved()).isZero();
        assertThat(gw.accounts.find(f.accountId()).orElseThrow().balance()).isEqualByComparingTo("10");
    }
}
