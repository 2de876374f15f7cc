package io.tollgate.proxy.catalog;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.tollgate.schema.ApiKeySecrets;

/**
 * The last key's hash, remembered for one client connection: a keep-alive client sends the same
 * key again and again, and hashing it is the costliest part of the key check. One per channel,
 * shared by the chat and the media handlers. The catalog is still asked every time, so a revoked
 * key is refused on its next request. Used on the channel's event loop only.
 */
public final class KeyHashCache {

    private static final AttributeKey<KeyHashCache> KEY = AttributeKey.valueOf("tollgate.keyHash");

    private String lastSecret;
    private String lastHash;

    private KeyHashCache() {
    }

    /** The channel's cache, made on first use. */
    public static KeyHashCache of(Channel channel) {
        KeyHashCache cache = channel.attr(KEY).get();
        if (cache == null) {
            cache = new KeyHashCache();
            channel.attr(KEY).set(cache);
        }
        return cache;
    }

    public String hashOf(String secret) {
        if (!secret.equals(lastSecret)) {
            lastSecret = secret;
            lastHash = ApiKeySecrets.hash(secret);
        }
        return lastHash;
    }
}
