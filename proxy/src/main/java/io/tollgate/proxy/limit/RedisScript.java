package io.tollgate.proxy.limit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One Lua script and its SHA-1, computed once: calls go out as EVALSHA, and only a NOSCRIPT
 * answer (restarted Redis, SCRIPT FLUSH, a new cluster node) sends the body with EVAL.
 */
record RedisScript(String name, String body, String sha) {

    static RedisScript of(String name, String body) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest(body.getBytes(StandardCharsets.UTF_8));
            return new RedisScript(name, body, HexFormat.of().formatHex(digest));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is a required JDK algorithm", e);
        }
    }
}
