package io.tollgate.schema;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Makes API key secrets and the hash and prefix under which they are stored. */
public final class ApiKeySecrets {

    public static final String KEY_PREFIX = "sk-tg-";
    private static final int PREFIX_LENGTH = KEY_PREFIX.length() + 6;

    private ApiKeySecrets() {
    }

    /** A new plaintext key; it is shown once and never stored. */
    public static String generate() {
        return KEY_PREFIX + Ids.random(40);
    }

    /** Hex SHA-256 of the plaintext key: what the database and the proxy's cache are keyed by. */
    public static String hash(String plaintext) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha.digest(plaintext.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** The short, non-secret start of a key, for humans telling keys apart. */
    public static String prefix(String plaintext) {
        return plaintext.substring(0, Math.min(PREFIX_LENGTH, plaintext.length()));
    }
}
