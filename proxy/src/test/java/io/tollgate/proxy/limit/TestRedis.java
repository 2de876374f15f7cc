package io.tollgate.proxy.limit;

/** A Redis a test started itself, standalone or cluster, and stops by closing it. */
interface TestRedis extends AutoCloseable {

    /** What {@link RedisLink#open} connects to: {@code redis://…} or {@code redis-cluster://…}. */
    String url();

    @Override
    void close();
}
