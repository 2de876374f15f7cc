package io.tollgate.bench.suite;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class NginxProcessTest {

    @Test
    void isAPlainKeepAliveReverseProxyThatBuffersNothing() {
        String conf = NginxProcess.config(8081, 9999, 2, 20_000);

        assertThat(conf).contains(
                "worker_processes 2;",
                "worker_rlimit_nofile 20000;",
                "server 127.0.0.1:9999;",
                "keepalive 256;",
                "listen 127.0.0.1:8081",
                "proxy_http_version 1.1;",
                "proxy_set_header Connection \"\";",
                "proxy_buffering off;",
                "proxy_request_buffering off;",
                "daemon off;");
    }
}
