package io.tollgate.admin;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import static io.tollgate.admin.AdminTestServer.BASE;
import static io.tollgate.admin.AdminTestServer.TOKEN;
import static io.tollgate.admin.AdminTestServer.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What every route shares: the admin token, the error format, X-Request-Id, routing and HTTP framing. */
class AdminServerTest {

    private static AdminTestServer api;

    @BeforeAll
    static void start() {
        api = AdminTestServer.start();
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    @Test
    void bindsAnEphemeralPort() {
        assertThat(api.port()).isPositive();
    }

    @Test
    void requestsWithoutTheAdminTokenAre401() {
        for (String authorization : new String[]{null, "Bearer wrong-token", "Bearer " + TOKEN + "x",
                "Bearer " + TOKEN.substring(1), "Basic " + TOKEN, TOKEN, "Bearer ", "Bearer"}) {
            AdminTestServer.Response r = api.call("GET", BASE + "/upstreams", null, authorization)
                    .assertError(401, "invalid_admin_token");
            assertThat(r.json().path("error").path("type").asText()).as(authorization).isEqualTo("authentication_error");
            assertThat(r.headers().firstValue(HttpResponses.REQUEST_ID)).isPresent();
        }
        // A refused write changes nothing, and unknown paths do not reveal themselves either.
        api.call("POST", BASE + "/accounts", json("name", "x", "tier", "pro"), "Bearer nope")
                .assertError(401, "invalid_admin_token");
        api.call("GET", "/nowhere", null, null).assertError(401, "invalid_admin_token");
        api.call("GET", BASE + "/upstreams", null, "bearer " + TOKEN).assertStatus(200);
    }

    @Test
    void everyResponseCarriesAFreshRequestId() {
        Set<String> seen = new HashSet<>();
        for (AdminTestServer.Response r : new AdminTestServer.Response[]{
                api.get(BASE + "/upstreams"),
                api.get(BASE + "/accounts/acct_missing"),
                api.call("GET", BASE + "/upstreams", null, null),
                api.delete(BASE + "/upstreams"),
                api.post(BASE + "/accounts", "{")}) {
            String id = r.headers().firstValue(HttpResponses.REQUEST_ID).orElseThrow();
            assertThat(id).startsWith("req_");
            seen.add(id);
        }
        assertThat(seen).hasSize(5);
    }

    @Test
    void unknownPathsAre404AndWrongMethods405() {
        api.get("/admin/v1/nothing").assertError(404, "not_found");
        api.get("/admin/v2/accounts").assertError(404, "not_found");
        api.get("/").assertError(404, "not_found");
        api.get(BASE + "/accounts/").assertError(404, "not_found");

        AdminTestServer.Response r = api.delete(BASE + "/accounts/acct_x").assertError(405, "method_not_allowed");
        assertThat(r.headers().firstValue("Allow")).contains("GET, PATCH");
        api.put(BASE + "/upstreams", json()).assertError(405, "method_not_allowed");
        api.post(BASE + "/models/some/id", json()).assertError(405, "method_not_allowed");
        api.get(BASE + "/accounts/acct_x/credits").assertError(405, "method_not_allowed");
        api.post(BASE + "/requests", json()).assertError(405, "method_not_allowed");
    }

    @Test
    void aBodyOver1MbIs413() throws IOException {
        String response = raw("POST " + BASE + "/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN
                + "\r\nContent-Type: application/json\r\nContent-Length: 1048577\r\n\r\n");

        assertThat(response).startsWith("HTTP/1.1 413").contains("X-Request-Id: req_", "\"code\":\"request_too_large\"");
    }

    @Test
    void aBodyOf1MbIsRead() {
        String padding = " ".repeat(1024 * 1024 - 40);
        String body = "{\"name\":\"big\",\"tier\":\"pro\"}" + padding;

        api.post(BASE + "/accounts", body).assertStatus(201);
    }

    @Test
    void aMalformedRequestIs400AndClosesTheConnection() throws IOException {
        String response = raw("GARBAGE\r\n\r\n");

        assertThat(response).startsWith("HTTP/1.1 400").contains("\"code\":\"invalid_request\"", "X-Request-Id: req_");
    }

    @Test
    void oneConnectionServesManyRequests() throws IOException {
        String get = "GET " + BASE + "/upstreams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n";
        String last = "GET " + BASE + "/upstreams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN
                + "\r\nConnection: close\r\n\r\n";

        String response = raw(get + get + last);

        assertThat(response.split("HTTP/1.1 200", -1)).hasSize(4);
    }

    @Test
    void pipelinedAnswersKeepTheirOrderEvenWhenOneIsRefused() throws IOException {
        String ok = "GET " + BASE + "/upstreams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n";
        String refused = "GET " + BASE + "/upstreams HTTP/1.1\r\nHost: x\r\n\r\n";
        String last = "GET " + BASE + "/nowhere HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN
                + "\r\nConnection: close\r\n\r\n";

        String response = raw(ok + refused + last);

        assertThat(response.indexOf("HTTP/1.1 200")).isNotNegative()
                .isLessThan(response.indexOf("HTTP/1.1 401"));
        assertThat(response.indexOf("HTTP/1.1 401")).isLessThan(response.indexOf("HTTP/1.1 404"));
    }

    @Test
    void configRefusesAnEmptyTokenAndHidesIt() {
        assertThatThrownBy(() -> new AdminServer.Config("127.0.0.1", 0, " ")).isInstanceOf(IllegalArgumentException.class);
        assertThat(new AdminServer.Config("127.0.0.1", 0, "s3cret").toString()).doesNotContain("s3cret");
        assertThat(new AdminServer.Config(null, 0, "t").tiers()).containsExactlyInAnyOrder("pro", "max");
        assertThat(new AdminServer.Config(null, 0, "t").maxActiveKeys()).isEqualTo(3);
    }

    /** Sends raw bytes on a fresh connection and reads until the server closes it. */
    private static String raw(String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", api.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            in.transferTo(received);
            return received.toString(StandardCharsets.UTF_8);
        }
    }
}
