package io.tollgate.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TollgateBenchServerTest {

    @Test
    void replacesTheDatabaseNameOfTheAdminUrl() {
        assertThat(TollgateBenchServer.databaseUrl("jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres", "tg_bench_x"))
                .isEqualTo("jdbc:postgresql://127.0.0.1:5432/tg_bench_x?user=postgres");
        assertThat(TollgateBenchServer.databaseUrl("jdbc:postgresql://db:5432/postgres", "tg_bench_x"))
                .isEqualTo("jdbc:postgresql://db:5432/tg_bench_x");
    }

    @Test
    void needsTheUpstream() {
        TollgateBenchServer server = new TollgateBenchServer();
        TollgateBenchServer.commandLine(server).parseArgs("--upstream", "http://127.0.0.1:9999/v1", "--io-threads", "2");

        assertThat(server.upstreamUrl).isEqualTo("http://127.0.0.1:9999/v1");
        assertThat(server.ioThreads).isEqualTo(2);
        assertThat(server.poolSize).isEqualTo(10);
    }

    @Test
    void aLaterOptionWinsSoThatTheBSideCanChangeOneTheSuiteSets() {
        TollgateBenchServer server = new TollgateBenchServer();
        TollgateBenchServer.commandLine(server).parseArgs("--upstream", "http://127.0.0.1:9999/v1",
                "--transport", "auto", "--io-threads", "1", "--transport", "io_uring");

        assertThat(server.transport).isEqualTo("io_uring");
        assertThat(server.ioThreads).isEqualTo(1);
    }
}
