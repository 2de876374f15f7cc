package io.tollgate.app;

import io.tollgate.proxy.ProxyConfig;
import io.tollgate.proxy.Transport;
import io.tollgate.proxy.chat.ContentLimits;
import io.tollgate.proxy.chat.ContentRules;
import io.tollgate.proxy.limit.FailurePolicy;
import io.tollgate.proxy.limit.LimitClass;
import io.tollgate.proxy.limit.LimiterConfig;
import io.tollgate.proxy.media.MediaConfig;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.PatternSyntaxException;

/**
 * Everything one Tollgate process is configured by, built once at start-up by {@link ConfigLoader}
 * from the YAML file and the environment.
 *
 * @param dataDir where the embedded database, the admin token, the demo key and the local journal live
 * @param limits  the requests-per-minute tiers the file configures (the rest of the limiter is in {@code redis})
 * @param media   the image and video endpoints: video durations, concurrent video tasks, task polling and timeouts
 */
public record TollgateConfig(
        DatabaseSettings database,
        RedisSettings redis,
        Path dataDir,
        ProxySettings proxy,
        AdminSettings admin,
        MetricsSettings metrics,
        LimitSettings limits,
        MediaSettings media) {

    public static final Path DEFAULT_DATA_DIR = Path.of("data");

    public TollgateConfig {
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(redis, "redis");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(proxy, "proxy");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(media, "media");
        limiterConfig(redis, limits);          // anything the limiter would refuse fails here, at load time
    }

    /** Every default: embedded PostgreSQL and the in-process limiter under {@code ./data}. */
    public static TollgateConfig defaults() {
        return new TollgateConfig(DatabaseSettings.EMBEDDED, RedisSettings.IN_PROCESS, DEFAULT_DATA_DIR,
                ProxySettings.DEFAULTS, AdminSettings.DEFAULTS, MetricsSettings.DEFAULTS, LimitSettings.DEFAULTS,
                MediaSettings.DEFAULTS);
    }

    /**
     * What {@code ProxyServer.start} takes: the Redis URL (null: in-process), its call timeout and
     * failure policy, and every tier (pro and max, plus the configured ones, merged over the defaults).
     */
    public LimiterConfig limiterConfig() {
        return limiterConfig(redis, limits);
    }

    /** The tier names the limiter knows, for the admin API to accept on accounts. */
    public Set<String> tierNames() {
        return limiterConfig().tiers().keySet();
    }

    private static LimiterConfig limiterConfig(RedisSettings redis, LimitSettings limits) {
        try {
            return new LimiterConfig(redis.url(), redis.timeout(), redis.failurePolicy(), limits.tiers(),
                    redis.leaseWindow());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("rate limits: " + e.getMessage(), e);
        }
    }

    /**
     * @param url      {@code jdbc:postgresql://…}, or null for the embedded PostgreSQL under the data dir
     * @param user     null when the URL carries it (or for the embedded database)
     * @param password null when the URL carries it (or for the embedded database)
     * @param poolSize connections in the pool this process keeps
     */
    public record DatabaseSettings(String url, String user, String password, int poolSize) {

        public static final int DEFAULT_POOL_SIZE = 10;
        public static final DatabaseSettings EMBEDDED = new DatabaseSettings(null, null, null, DEFAULT_POOL_SIZE);

        public DatabaseSettings {
            if (url != null && !url.startsWith("jdbc:postgresql:")) {
                throw new ConfigException("database url must start with jdbc:postgresql: but was " + url);
            }
            if (poolSize <= 0) {
                throw new ConfigException("database pool_size must be positive but was " + poolSize);
            }
        }

        public boolean embedded() {
            return url == null;
        }

        @Override
        public String toString() {
            // Never print the password, not even into a log line.
            return "DatabaseSettings[url=" + (url == null ? "embedded" : url) + ", user=" + user
                    + ", password=" + (password == null ? null : "***") + ", poolSize=" + poolSize + "]";
        }
    }

    /**
     * Where the shared rate-limit state lives, and what happens when it cannot be asked.
     *
     * @param url           as configured ({@code redis://host:port} or {@code redis-cluster://host:port,host:port}),
     *                      or null for the in-process limiter
     * @param cluster       true for {@code redis-cluster://}
     * @param nodes         the hosts named in the URL; empty for the in-process limiter
     * @param timeout       the hard deadline of one Redis call ({@code redis.timeout_ms}, default 50 ms)
     * @param failurePolicy while Redis does not answer: {@code open} falls back to this instance's own
     *                      limiter, {@code closed} answers 503 ({@code redis.failure_policy}, default open)
     * @param leaseWindow   how far ahead a fast key's requests are taken from Redis in one call
     *                      ({@code redis.lease_ms}, default 50 ms, 0 to 1000; 0: a call per request)
     */
    public record RedisSettings(String url, boolean cluster, List<HostPort> nodes, Duration timeout,
                                FailurePolicy failurePolicy, Duration leaseWindow) {

        public static final int DEFAULT_PORT = 6379;
        public static final Duration DEFAULT_TIMEOUT = LimiterConfig.DEFAULT_TIMEOUT;
        public static final FailurePolicy DEFAULT_FAILURE_POLICY = FailurePolicy.OPEN;
        public static final Duration DEFAULT_LEASE_WINDOW = LimiterConfig.DEFAULT_LEASE_WINDOW;
        public static final RedisSettings IN_PROCESS = new RedisSettings(null, false, List.of());

        public RedisSettings {
            nodes = List.copyOf(nodes);
            if (url != null && nodes.isEmpty()) {
                throw new ConfigException("redis url names no host: " + url);
            }
            requirePositive(timeout, "redis timeout_ms");
            Objects.requireNonNull(failurePolicy, "redis failure_policy");
            Objects.requireNonNull(leaseWindow, "redis lease_ms");
            if (leaseWindow.isNegative() || leaseWindow.compareTo(LimiterConfig.MAX_LEASE_WINDOW) > 0) {
                throw new ConfigException("redis lease_ms must be between 0 and "
                        + LimiterConfig.MAX_LEASE_WINDOW.toMillis() + " but was " + leaseWindow.toMillis());
            }
        }

        /** With the default timeout, failure policy and lease window. */
        public RedisSettings(String url, boolean cluster, List<HostPort> nodes) {
            this(url, cluster, nodes, DEFAULT_TIMEOUT, DEFAULT_FAILURE_POLICY, DEFAULT_LEASE_WINDOW);
        }

        /** False means the in-process limiter (single node only). */
        public boolean enabled() {
            return url != null;
        }

        public RedisSettings withTimeout(Duration t) {
            return new RedisSettings(url, cluster, nodes, t, failurePolicy, leaseWindow);
        }

        public RedisSettings withFailurePolicy(FailurePolicy p) {
            return new RedisSettings(url, cluster, nodes, timeout, p, leaseWindow);
        }

        public RedisSettings withLeaseWindow(Duration w) {
            return new RedisSettings(url, cluster, nodes, timeout, failurePolicy, w);
        }

        /** The URL with any user and password replaced by {@code ***}, fit for a log line. */
        public String maskedUrl() {
            return url == null ? null : url.replaceFirst("//[^@/]*@", "//***@");
        }

        /** {@code open} or {@code closed}, as written in the file. */
        public static String policyName(FailurePolicy p) {
            return p.name().toLowerCase(java.util.Locale.ROOT);
        }

        /**
         * Reads {@code redis://[user:password@]host[:port][/db]}, {@code rediss://…} or
         * {@code redis-cluster://host:port,host:port}; the port defaults to 6379.
         */
        public static RedisSettings parse(String url) {
            if (url == null || url.isBlank()) {
                return IN_PROCESS;
            }
            String trimmed = url.strip();
            int schemeEnd = trimmed.indexOf("://");
            if (schemeEnd < 0) {
                throw new ConfigException("redis url must look like redis://host:port or "
                        + "redis-cluster://host:port,host:port but was " + trimmed);
            }
            String scheme = trimmed.substring(0, schemeEnd);
            boolean cluster = switch (scheme) {
                case "redis", "rediss" -> false;
                case "redis-cluster" -> true;
                default -> throw new ConfigException("redis url scheme must be redis, rediss or redis-cluster but was "
                        + scheme + " in " + trimmed);
            };
            String authority = trimmed.substring(schemeEnd + 3);
            int pathStart = indexOfAny(authority, '/', '?');
            if (pathStart >= 0) {
                authority = authority.substring(0, pathStart);
            }
            authority = authority.substring(authority.lastIndexOf('@') + 1);   // drop user:password
            List<HostPort> nodes = authority.isEmpty() ? List.of()
                    : java.util.Arrays.stream(authority.split(",")).map(n -> HostPort.parse(n, trimmed)).toList();
            if (!cluster && nodes.size() > 1) {
                throw new ConfigException("redis:// names one host; use redis-cluster:// for several: " + trimmed);
            }
            return new RedisSettings(trimmed, cluster, nodes);
        }

        private static int indexOfAny(String s, char a, char b) {
            for (int i = 0; i < s.length(); i++) {
                if (s.charAt(i) == a || s.charAt(i) == b) {
                    return i;
                }
            }
            return -1;
        }

        @Override
        public String toString() {
            return "RedisSettings[url=" + (url == null ? "in-process" : maskedUrl())
                    + ", cluster=" + cluster + ", nodes=" + nodes + ", timeout=" + timeout.toMillis() + " ms"
                    + ", failurePolicy=" + policyName(failurePolicy) + "]";
        }
    }

    /**
     * The {@code limits} section: requests per minute per tier and class. A tier listed here
     * replaces that tier's limits class by class; pro and max keep their own defaults for the
     * classes they leave out, and a new tier takes pro's limit (as configured) for each class it
     * leaves out. {@link LimiterConfig} adds the default tiers that are not listed.
     *
     * @param tiers tier name → class → requests per minute (positive)
     */
    public record LimitSettings(Map<String, Map<LimitClass, Integer>> tiers) {

        public static final LimitSettings DEFAULTS = new LimitSettings(Map.of());

        public LimitSettings {
            tiers.forEach((tier, limits) -> limits.forEach((cls, rpm) -> {
                if (rpm == null || rpm <= 0) {
                    throw new ConfigException("limits.tiers." + tier + "." + cls.wireName()
                            + " must be a positive whole number but was " + rpm);
                }
            }));
            Map<LimitClass, Integer> pro = new EnumMap<>(LimitClass.class);
            pro.putAll(LimiterConfig.DEFAULT_TIERS.get(LimiterConfig.DEFAULT_TIER));
            pro.putAll(tiers.getOrDefault(LimiterConfig.DEFAULT_TIER, Map.of()));
            Map<String, Map<LimitClass, Integer>> filled = new LinkedHashMap<>();
            tiers.forEach((tier, limits) -> {
                Map<LimitClass, Integer> own = new EnumMap<>(LimitClass.class);
                if (!LimiterConfig.DEFAULT_TIERS.containsKey(tier)) {
                    own.putAll(pro);
                }
                own.putAll(limits);
                filled.put(tier, Collections.unmodifiableMap(own));
            });
            tiers = Collections.unmodifiableMap(filled);
        }
    }

    public record HostPort(String host, int port) {

        static HostPort parse(String node, String url) {
            String host = node;
            int port = RedisSettings.DEFAULT_PORT;
            int colon = node.lastIndexOf(':');
            if (colon >= 0 && !node.endsWith("]")) {
                host = node.substring(0, colon);
                port = ConfigLoader.parsePort(node.substring(colon + 1), "port in redis url " + url);
            }
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);                 // [::1]:6379
            }
            if (host.isBlank()) {
                throw new ConfigException("empty host in redis url " + url);
            }
            return new HostPort(host, port);
        }

        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /**
     * The public API server. Everything {@link ProxyConfig} holds beyond these keeps its default.
     *
     * @param maxMessages     elements of a chat request's {@code messages} ({@code proxy.max_messages}, default 200)
     * @param maxMessageChars code points of all message text of a chat request
     *                        ({@code proxy.max_message_chars}, default 64,000)
     * @param contentRules    keywords and expressions that refuse a chat request with 403
     *                        ({@code proxy.content_rules}, default none)
     * @param maxAttempts     upstreams one request may try when the ones before failed without
     *                        answering ({@code proxy.max_attempts}, default 3; 1 turns failover off)
     * @param transport       the event loops' socket layer ({@code proxy.transport}): {@code auto}
     *                        (the default: epoll where the kernel has it, else
     *                        NIO), {@code io_uring}, {@code epoll} or {@code nio}
     * @param busyPoll        how long an event loop polls for work before it sleeps
     *                        ({@code proxy.busy_poll_us}, default 0: it sleeps at once; at most
     *                        10,000; epoll and nio only): a lower added latency for a CPU kept busy
     *                        while requests keep coming
     */
    public record ProxySettings(
            String host,
            int port,
            int maxBodyBytes,
            Duration connectTimeout,
            Duration firstByteTimeout,
            Duration idleTimeout,
            int maxMessages,
            int maxMessageChars,
            ContentRuleSettings contentRules,
            int maxAttempts,
            String transport,
            Duration busyPoll) {

        public static final int DEFAULT_PORT = 8080;
        public static final ProxySettings DEFAULTS = from(ProxyConfig.defaults().withHostPort("0.0.0.0", DEFAULT_PORT));

        public ProxySettings {
            Objects.requireNonNull(host, "proxy host");
            requirePositive(maxBodyBytes, "proxy max_body_bytes");
            requirePositive(connectTimeout, "proxy connect_timeout_ms");
            requirePositive(firstByteTimeout, "proxy first_byte_timeout_ms");
            requirePositive(idleTimeout, "proxy idle_timeout_ms");
            requirePositive(maxMessages, "proxy max_messages");
            requirePositive(maxMessageChars, "proxy max_message_chars");
            Objects.requireNonNull(contentRules, "proxy content_rules");
            requirePositive(maxAttempts, "proxy max_attempts");
            if (!Transport.known(transport)) {
                throw new IllegalArgumentException("proxy transport must be " + Transport.CHOICES + ", not " + transport);
            }
            if (busyPoll == null || busyPoll.isNegative() || busyPoll.compareTo(ProxyConfig.MAX_BUSY_POLL) > 0) {
                throw new ConfigException("proxy busy_poll_us must be between 0 and "
                        + ProxyConfig.MAX_BUSY_POLL.toNanos() / 1000 + " but was "
                        + (busyPoll == null ? null : busyPoll.toNanos() / 1000));
            }
            if (busyPoll.isPositive() && transport.strip().equalsIgnoreCase(Transport.IO_URING.configName())) {
                throw new ConfigException("proxy busy_poll_us needs the epoll or nio transport; io_uring's loops wait "
                        + "in their ring");
            }
        }

        /** With the default message limits and no content rules. */
        public ProxySettings(String host, int port, int maxBodyBytes, Duration connectTimeout,
                             Duration firstByteTimeout, Duration idleTimeout) {
            this(host, port, maxBodyBytes, connectTimeout, firstByteTimeout, idleTimeout,
                    ContentLimits.DEFAULT_MAX_MESSAGES, ContentLimits.DEFAULT_MAX_MESSAGE_CHARS, ContentRuleSettings.NONE);
        }

        /** With the default number of upstream attempts. */
        public ProxySettings(String host, int port, int maxBodyBytes, Duration connectTimeout,
                             Duration firstByteTimeout, Duration idleTimeout, int maxMessages, int maxMessageChars,
                             ContentRuleSettings contentRules) {
            this(host, port, maxBodyBytes, connectTimeout, firstByteTimeout, idleTimeout, maxMessages, maxMessageChars,
                    contentRules, ProxyConfig.DEFAULT_MAX_UPSTREAM_ATTEMPTS);
        }

        /** With the transport picked by the machine ({@code auto}). */
        public ProxySettings(String host, int port, int maxBodyBytes, Duration connectTimeout,
                             Duration firstByteTimeout, Duration idleTimeout, int maxMessages, int maxMessageChars,
                             ContentRuleSettings contentRules, int maxAttempts) {
            this(host, port, maxBodyBytes, connectTimeout, firstByteTimeout, idleTimeout, maxMessages, maxMessageChars,
                    contentRules, maxAttempts, Transport.AUTO);
        }

        /** Loops that sleep as soon as they have nothing to do. */
        public ProxySettings(String host, int port, int maxBodyBytes, Duration connectTimeout,
                             Duration firstByteTimeout, Duration idleTimeout, int maxMessages, int maxMessageChars,
                             ContentRuleSettings contentRules, int maxAttempts, String transport) {
            this(host, port, maxBodyBytes, connectTimeout, firstByteTimeout, idleTimeout, maxMessages, maxMessageChars,
                    contentRules, maxAttempts, transport, Duration.ZERO);
        }

        static ProxySettings from(ProxyConfig c) {
            if (!c.contentRules().isEmpty()) {
                // Compiled patterns cannot be read back into the keywords and expressions they came from.
                throw new IllegalArgumentException("a ProxyConfig with content rules has no ProxySettings");
            }
            return new ProxySettings(c.host(), c.port(), c.maxBodyBytes(),
                    c.upstreamConnectTimeout(), c.upstreamFirstByteTimeout(), c.upstreamIdleTimeout(),
                    c.maxMessages(), c.maxMessageChars(), ContentRuleSettings.NONE, c.maxUpstreamAttempts(),
                    Transport.AUTO, c.busyPoll());
        }

        /** What {@code ProxyServer.start} takes: the defaults with these settings applied. */
        public ProxyConfig toProxyConfig() {
            return ProxyConfig.defaults()
                    .withHostPort(host, port)
                    .withTimeouts(connectTimeout, firstByteTimeout, idleTimeout)
                    .withMaxBodyBytes(maxBodyBytes)
                    .withMessageLimits(maxMessages, maxMessageChars)
                    .withContentRules(contentRules.compile())
                    .withFailover(maxAttempts, ProxyConfig.DEFAULT_REPLAY_BUFFER_BYTES)
                    .withTransport(Transport.named(transport))
                    .withBusyPoll(busyPoll);
        }
    }

    /**
     * The {@code proxy.content_rules} section, kept as written (so settings compare by value) and
     * checked rule by rule when built: a blank keyword, an expression that does not compile or one
     * that matches empty text is a {@link ConfigException} naming it by its place in the list.
     *
     * @param keywords literal, matched ignoring case
     * @param patterns Java regular expressions, as written ({@code (?i)} to ignore case)
     */
    public record ContentRuleSettings(List<String> keywords, List<String> patterns) {

        public static final ContentRuleSettings NONE = new ContentRuleSettings(List.of(), List.of());

        public ContentRuleSettings {
            Objects.requireNonNull(keywords, "proxy content_rules keywords");
            Objects.requireNonNull(patterns, "proxy content_rules patterns");
            for (int i = 0; i < keywords.size(); i++) {
                String k = keywords.get(i);
                if (k == null || k.isBlank()) {
                    throw new ConfigException("proxy.content_rules.keywords[" + i + "] must not be blank but was "
                            + (k == null ? "empty" : "'" + k + "'"));
                }
            }
            for (int i = 0; i < patterns.size(); i++) {
                String p = patterns.get(i);
                String where = "proxy.content_rules.patterns[" + i + "]";
                if (p == null || p.isEmpty()) {
                    throw new ConfigException(where + " must not be empty");
                }
                try {
                    ContentRules.of(List.of(), List.of(p));
                } catch (IllegalArgumentException e) {
                    String why = e.getCause() instanceof PatternSyntaxException bad
                            ? "is not a valid regular expression: " + bad.getDescription() + " near index " + bad.getIndex()
                            : "matches empty text, so it would refuse every request with any text";
                    throw new ConfigException(where + " '" + p + "' " + why, e);
                }
            }
            keywords = List.copyOf(keywords);
            patterns = List.copyOf(patterns);
        }

        public boolean isEmpty() {
            return keywords.isEmpty() && patterns.isEmpty();
        }

        /** The rules the proxy matches; {@link ContentRules#NONE} when there are none. */
        public ContentRules compile() {
            return ContentRules.of(keywords, patterns);
        }
    }

    /** @param token the admin API's bearer token; null means the one kept in (or generated into) the data dir */
    public record AdminSettings(String host, int port, String token) {

        public static final int DEFAULT_PORT = 8081;
        public static final AdminSettings DEFAULTS = new AdminSettings("0.0.0.0", DEFAULT_PORT, null);

        public AdminSettings {
            Objects.requireNonNull(host, "admin host");
            if (token != null && token.isBlank()) {
                throw new ConfigException("admin token must not be blank");
            }
        }

        @Override
        public String toString() {
            return "AdminSettings[host=" + host + ", port=" + port + ", token=" + (token == null ? null : "***") + "]";
        }
    }

    /**
     * The image and video endpoints ({@code media.*}); see {@link MediaConfig} for what each does.
     *
     * @param videoDefaultSeconds seconds reserved for a video request that names no duration
     * @param videoMaxSeconds     a longer video request is refused
     * @param maxVideoTasks       concurrent video tasks per account
     */
    public record MediaSettings(int videoDefaultSeconds, int videoMaxSeconds, int maxVideoTasks,
                                Duration taskPollInterval, Duration taskSweepInterval, Duration videoTaskTimeout,
                                Duration imageTaskTimeout) {

        public static final MediaSettings DEFAULTS = from(MediaConfig.defaults());

        public MediaSettings {
            requirePositive(videoDefaultSeconds, "media video_default_seconds");
            requirePositive(videoMaxSeconds, "media video_max_seconds");
            if (videoMaxSeconds < videoDefaultSeconds) {
                throw new ConfigException("media video_max_seconds (" + videoMaxSeconds
                        + ") must not be below video_default_seconds (" + videoDefaultSeconds + ")");
            }
            requirePositive(maxVideoTasks, "media max_video_tasks");
            if (taskPollInterval == null || taskPollInterval.isNegative()) {
                throw new ConfigException("media task_poll_interval_ms must not be negative but was " + taskPollInterval);
            }
            requirePositive(taskSweepInterval, "media task_sweep_interval_ms");
            requirePositive(videoTaskTimeout, "media video_task_timeout_s");
            requirePositive(imageTaskTimeout, "media image_task_timeout_s");
        }

        static MediaSettings from(MediaConfig c) {
            return new MediaSettings(c.defaultVideoSeconds().intValueExact(), c.maxVideoSeconds().intValueExact(),
                    c.maxVideoTasks(), c.upstreamPollInterval(), c.sweepInterval(), c.videoTaskTimeout(),
                    c.imageTaskTimeout());
        }

        /** What {@code ProxyServer.start} takes. */
        public MediaConfig toMediaConfig() {
            return MediaConfig.defaults()
                    .withVideoSeconds(BigDecimal.valueOf(videoDefaultSeconds), BigDecimal.valueOf(videoMaxSeconds))
                    .withMaxVideoTasks(maxVideoTasks)
                    .withPolling(taskPollInterval, taskSweepInterval)
                    .withTaskTimeouts(videoTaskTimeout, imageTaskTimeout);
        }
    }

    /** Kept for the metrics server ({@code /metrics}, {@code /healthz}, {@code /readyz}). */
    public record MetricsSettings(int port) {

        public static final int DEFAULT_PORT = 9090;
        public static final MetricsSettings DEFAULTS = new MetricsSettings(DEFAULT_PORT);
    }

    private static void requirePositive(int value, String name) {
        if (value <= 0) {
            throw new ConfigException(name + " must be positive but was " + value);
        }
    }

    private static void requirePositive(Duration value, String name) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new ConfigException(name + " must be positive but was " + (value == null ? null : value.toMillis()));
        }
    }
}
