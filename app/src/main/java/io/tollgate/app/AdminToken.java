package io.tollgate.app;

import io.tollgate.schema.Ids;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;

/** Decides the admin API's bearer token: configured, kept in the data dir, or made on first start. */
public final class AdminToken {

    public static final String FILE_NAME = "admin-token";
    public static final String PREFIX = "tga-";

    private AdminToken() {
    }

    /**
     * The configured token if there is one; else the one in {@code dataDir/admin-token}; else a new
     * one, written there (mode 600) and printed to {@code out} this once.
     */
    public static String resolve(String configured, Path dataDir, PrintStream out) {
        if (configured != null) {
            return configured;
        }
        Path file = dataDir.resolve(FILE_NAME);
        Optional<String> kept = SecretFiles.read(file);
        if (kept.isPresent()) {
            return kept.get();
        }
        String token = PREFIX + Ids.random(40);
        SecretFiles.write(file, token);
        out.println("admin token (shown once): " + token);
        out.println("  kept in " + file.toAbsolutePath() + "; set TOLLGATE_ADMIN_TOKEN to use your own");
        return token;
    }
}
