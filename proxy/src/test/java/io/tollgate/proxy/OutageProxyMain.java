package io.tollgate.proxy;

import io.tollgate.schema.Database;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A proxy in a process of its own, for {@link DatabaseOutageTest} to kill with SIGKILL: args are
 * the JDBC URL, the journal directory and the credit lease lifetime in seconds. Prints
 * {@code PORT <n>} once it listens, then runs until killed.
 */
public final class OutageProxyMain {

    private OutageProxyMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        Database db = Database.open(new Database.Config(args[0], null, null, 8));
        ProxyServer proxy = ProxyServer.start(DatabaseOutageTest.config(Path.of(args[1]), Duration.ofSeconds(Long.parseLong(args[2]))),
                Gateway.roomyLimits(), db);
        System.out.println("PORT " + proxy.port());
        System.out.flush();
        Thread.currentThread().join();
    }
}
