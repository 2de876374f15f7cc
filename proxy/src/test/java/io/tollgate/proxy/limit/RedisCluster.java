package io.tollgate.proxy.limit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;

/** Three test-owned redis-server masters joined with {@code redis-cli --cluster create}. */
final class RedisCluster implements TestRedis {

    private final List<RedisServer> masters = new ArrayList<>();

    static RedisCluster start() {
        RedisCluster cluster = new RedisCluster();
        try {
            for (int i = 0; i < 3; i++) {
                cluster.masters.add(RedisServer.start("--cluster-enabled", "yes",
                        "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"));
            }
            List<String> args = new ArrayList<>(List.of("--cluster", "create"));
            cluster.masters.forEach(m -> args.add("127.0.0.1:" + m.port()));
            args.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
            RedisServer.cli(cluster.masters.get(0).port(), args.toArray(String[]::new));
            await("cluster state ok").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                    .until(() -> cluster.masters.stream().allMatch(m -> m.cli("CLUSTER", "INFO").contains("cluster_state:ok")));
            return cluster;
        } catch (RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    @Override
    public String url() {
        return "redis-cluster://" + masters.stream().map(m -> "127.0.0.1:" + m.port()).collect(Collectors.joining(","));
    }

    List<RedisServer> masters() {
        return masters;
    }

    @Override
    public void close() {
        masters.forEach(RedisServer::close);
    }
}
