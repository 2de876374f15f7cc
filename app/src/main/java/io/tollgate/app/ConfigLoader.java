package io.tollgate.app;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.tollgate.app.TollgateConfig.AdminSettings;
import io.tollgate.app.TollgateConfig.ContentRuleSettings;
import io.tollgate.app.TollgateConfig.DatabaseSettings;
import io.tollgate.app.TollgateConfig.LimitSettings;
import io.tollgate.app.TollgateConfig.MediaSettings;
import io.tollgate.app.TollgateConfig.MetricsSettings;
import io.tollgate.app.TollgateConfig.ProxySettings;
import io.tollgate.app.TollgateConfig.RedisSettings;
import io.tollgate.proxy.Transport;
import io.tollgate.proxy.limit.FailurePolicy;
import io.tollgate.proxy.limit.LimitClass;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Builds the {@link TollgateConfig}: defaults, then the YAML file, then the environment, each
 * overriding the one before. The environment is passed in, so tests need no real variables.
 */
public final class ConfigLoader {

    public static final String DATABASE_URL = "TOLLGATE_DATABASE_URL";
    public static final String DATABASE_USER = "TOLLGATE_DATABASE_USER";
    public static final String DATABASE_PASSWORD = "TOLLGATE_DATABASE_PASSWORD";
    public static final String REDIS_URL = "TOLLGATE_REDIS_URL";
    public static final String REDIS_TIMEOUT_MS = "TOLLGATE_REDIS_TIMEOUT_MS";
    public static final String REDIS_FAILURE_POLICY = "TOLLGATE_REDIS_FAILURE_POLICY";
    public static final String ADMIN_TOKEN = "TOLLGATE_ADMIN_TOKEN";
    public static final String DATA_DIR = "TOLLGATE_DATA_DIR";
    public static final String PROXY_PORT = "TOLLGATE_PROXY_PORT";
    public static final String ADMIN_PORT = "TOLLGATE_ADMIN_PORT";
    public static final String METRICS_PORT = "TOLLGATE_METRICS_PORT";

    /** What a tier may be called: it is stored on accounts and shown by the admin API. */
    private static final Pattern TIER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    private ConfigLoader() {
    }

    /**
     * @param file the YAML file, or null for none
     * @param env  the environment ({@code System.getenv()} in production)
     */
    public static TollgateConfig load(Path file, Map<String, String> env) {
        JsonNode root = file == null ? null : readYaml(file);
        return build(root, file == null ? "configuration" : file.toString(), env);
    }

    /** The same from YAML text; {@code source} names it in error messages. */
    public static TollgateConfig load(String yaml, String source, Map<String, String> env) {
        try {
            return build(yamlMapper().readTree(yaml), source, env);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ConfigException("cannot parse " + source + ": " + e.getOriginalMessage(), e);
        }
    }

    private static JsonNode readYaml(Path file) {
        try {
            return yamlMapper().readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file not found: " + file);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ConfigException("cannot parse " + file + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e, e);
        }
    }

    private static ObjectMapper yamlMapper() {
        ObjectMapper mapper = new ObjectMapper(new YAMLFactory());
        // A key written twice is a mistake, not "the last one wins".
        mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        return mapper;
    }

    private static TollgateConfig build(JsonNode root, String source, Map<String, String> env) {
        Section top = Section.root(root, source);
        top.allow("database", "redis", "data_dir", "proxy", "admin", "metrics", "limits", "media");

        Section db = top.section("database");
        db.allow("url", "user", "password", "pool_size");
        DatabaseSettings database = new DatabaseSettings(
                env(env, DATABASE_URL, db.string("url", null)),
                env(env, DATABASE_USER, db.string("user", null)),
                env(env, DATABASE_PASSWORD, db.string("password", null)),
                db.integer("pool_size", DatabaseSettings.DEFAULT_POOL_SIZE));

        Section redisSection = top.section("redis");
        redisSection.allow("url", "timeout_ms", "failure_policy", "lease_ms");
        RedisSettings redis = RedisSettings.parse(env(env, REDIS_URL, redisSection.string("url", null)))
                .withTimeout(envMillis(env, REDIS_TIMEOUT_MS,
                        redisSection.positiveMillis("timeout_ms", RedisSettings.DEFAULT_TIMEOUT)))
                .withFailurePolicy(envPolicy(env, REDIS_FAILURE_POLICY,
                        redisSection.failurePolicy("failure_policy", RedisSettings.DEFAULT_FAILURE_POLICY)))
                .withLeaseWindow(redisSection.millis("lease_ms", RedisSettings.DEFAULT_LEASE_WINDOW));

        LimitSettings limits = limits(top.section("limits"));

        Path dataDir = Path.of(env(env, DATA_DIR, top.string("data_dir", TollgateConfig.DEFAULT_DATA_DIR.toString())));

        ProxySettings pd = ProxySettings.DEFAULTS;
        Section p = top.section("proxy");
        p.allow("host", "port", "max_body_bytes", "connect_timeout_ms", "first_byte_timeout_ms", "idle_timeout_ms",
                "max_messages", "max_message_chars", "content_rules", "max_attempts", "transport", "busy_poll_us");
        ProxySettings proxy = new ProxySettings(
                p.string("host", pd.host()),
                envPort(env, PROXY_PORT, p.port("port", pd.port())),
                p.integer("max_body_bytes", pd.maxBodyBytes()),
                p.millis("connect_timeout_ms", pd.connectTimeout()),
                p.millis("first_byte_timeout_ms", pd.firstByteTimeout()),
                p.millis("idle_timeout_ms", pd.idleTimeout()),
                p.positiveInteger("max_messages", pd.maxMessages()),
                p.positiveInteger("max_message_chars", pd.maxMessageChars()),
                contentRules(p.section("content_rules")),
                p.positiveInteger("max_attempts", pd.maxAttempts()),
                p.transport("transport", pd.transport()),
                p.micros("busy_poll_us", pd.busyPoll()));

        AdminSettings ad = AdminSettings.DEFAULTS;
        Section a = top.section("admin");
        a.allow("host", "port", "token");
        AdminSettings admin = new AdminSettings(
                a.string("host", ad.host()),
                envPort(env, ADMIN_PORT, a.port("port", ad.port())),
                env(env, ADMIN_TOKEN, a.string("token", null)));

        Section m = top.section("metrics");
        m.allow("port");
        MetricsSettings metrics = new MetricsSettings(envPort(env, METRICS_PORT, m.port("port", MetricsSettings.DEFAULT_PORT)));

        MediaSettings md = MediaSettings.DEFAULTS;
        Section me = top.section("media");
        me.allow("video_default_seconds", "video_max_seconds", "max_video_tasks", "task_poll_interval_ms",
                "task_sweep_interval_ms", "video_task_timeout_s", "image_task_timeout_s");
        MediaSettings media = new MediaSettings(
                me.positiveInteger("video_default_seconds", md.videoDefaultSeconds()),
                me.positiveInteger("video_max_seconds", md.videoMaxSeconds()),
                me.positiveInteger("max_video_tasks", md.maxVideoTasks()),
                me.millis("task_poll_interval_ms", md.taskPollInterval()),
                me.positiveMillis("task_sweep_interval_ms", md.taskSweepInterval()),
                me.positiveSeconds("video_task_timeout_s", md.videoTaskTimeout()),
                me.positiveSeconds("image_task_timeout_s", md.imageTaskTimeout()));

        return new TollgateConfig(database, redis, dataDir, proxy, admin, metrics, limits, media);
    }

    /** {@code limits: {tiers: {<tier>: {general: N, image_submit: N, image_poll: N}}}}. */
    private static LimitSettings limits(Section section) {
        section.allow("tiers");
        Section tiersSection = section.section("tiers");
        Map<String, Map<LimitClass, Integer>> tiers = new LinkedHashMap<>();
        String[] classes = Arrays.stream(LimitClass.values()).map(LimitClass::wireName).toArray(String[]::new);
        for (String tier : tiersSection.keys()) {
            if (!TIER_NAME.matcher(tier).matches()) {
                throw new ConfigException(tiersSection.source() + ": tier name '" + tier + "' under limits.tiers must be "
                        + "1-64 letters, digits, '_', '.' or '-', starting with a letter or digit");
            }
            Section t = tiersSection.section(tier);
            t.allow(classes);
            Map<LimitClass, Integer> limits = new EnumMap<>(LimitClass.class);
            for (LimitClass cls : LimitClass.values()) {
                Integer rpm = t.positiveInteger(cls.wireName());
                if (rpm != null) {
                    limits.put(cls, rpm);
                }
            }
            tiers.put(tier, limits);
        }
        return new LimitSettings(tiers);
    }

    /** {@code proxy.content_rules: {keywords: [..], patterns: [..]}}; a bad rule is named with the file. */
    private static ContentRuleSettings contentRules(Section section) {
        section.allow("keywords", "patterns");
        List<String> keywords = section.strings("keywords");
        List<String> patterns = section.strings("patterns");
        try {
            return new ContentRuleSettings(keywords, patterns);
        } catch (ConfigException e) {
            throw new ConfigException(section.source() + ": " + e.getMessage(), e);
        }
    }

    /** A variable that is unset or blank leaves the file's value in place. */
    private static String env(Map<String, String> env, String name, String fallback) {
        String value = env.get(name);
        return value == null || value.isBlank() ? fallback : value.strip();
    }

    private static int envPort(Map<String, String> env, String name, int fallback) {
        String value = env(env, name, null);
        return value == null ? fallback : parsePort(value, name);
    }

    private static Duration envMillis(Map<String, String> env, String name, Duration fallback) {
        String value = env(env, name, null);
        if (value == null) {
            return fallback;
        }
        try {
            long ms = Long.parseLong(value);
            if (ms > 0) {
                return Duration.ofMillis(ms);
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new ConfigException(name + " must be a positive number of milliseconds but was '" + value + "'");
    }

    private static FailurePolicy envPolicy(Map<String, String> env, String name, FailurePolicy fallback) {
        String value = env(env, name, null);
        return value == null ? fallback : parsePolicy(value, name);
    }

    /** {@code open} or {@code closed}, exactly; anything else names {@code what} and both. */
    static FailurePolicy parsePolicy(String value, String what) {
        return switch (value) {
            case "open" -> FailurePolicy.OPEN;
            case "closed" -> FailurePolicy.CLOSED;
            default -> throw new ConfigException(what + " must be 'open' or 'closed' but was '" + value + "'");
        };
    }

    static int parsePort(String value, String what) {
        try {
            int port = Integer.parseInt(value.strip());
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new ConfigException(what + " must be a port number (0-65535) but was '" + value + "'");
    }

    /** One mapping of the YAML file, with the dotted path of its keys for error messages. */
    private record Section(JsonNode node, String path, String source) {

        static Section root(JsonNode node, String source) {
            if (node != null && !node.isMissingNode() && !node.isNull() && !node.isObject()) {
                throw new ConfigException(source + ": the top level must be a mapping of keys, not " + kind(node));
            }
            return new Section(node, "", source);
        }

        void allow(String... keys) {
            if (node == null || node.isNull() || node.isMissingNode()) {
                return;
            }
            List<String> known = List.of(keys);
            List<String> unknown = new ArrayList<>();
            node.fieldNames().forEachRemaining(name -> {
                if (!known.contains(name)) {
                    unknown.add(name);
                }
            });
            if (!unknown.isEmpty()) {
                String where = path.isEmpty() ? "at the top level" : "under " + path;
                String named = String.join("', '", unknown.stream().map(this::key).toList());
                throw new ConfigException(source + ": unknown key" + (unknown.size() == 1 ? "" : "s") + " '" + named
                        + "' (known keys " + where + ": " + String.join(", ", known) + ")");
            }
        }

        Section section(String name) {
            JsonNode child = value(name);
            if (child != null && !child.isObject()) {
                throw new ConfigException(source + ": '" + key(name) + "' must be a mapping of keys, not " + kind(child));
            }
            return new Section(child, key(name), source);
        }

        String string(String name, String fallback) {
            JsonNode v = value(name);
            if (v == null) {
                return fallback;
            }
            if (!v.isValueNode()) {
                throw new ConfigException(source + ": '" + key(name) + "' must be a single value, not " + kind(v));
            }
            String text = v.asText();
            return text.isBlank() ? fallback : text.strip();
        }

        int integer(String name, int fallback) {
            JsonNode v = value(name);
            if (v == null) {
                return fallback;
            }
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw new ConfigException(source + ": '" + key(name) + "' must be a whole number but was " + v);
            }
            return v.intValue();
        }

        /** A whole number above zero, or null when absent. */
        Integer positiveInteger(String name) {
            if (value(name) == null) {
                return null;
            }
            int v = integer(name, 0);
            if (v <= 0) {
                throw new ConfigException(source + ": '" + key(name) + "' must be a positive whole number but was " + v);
            }
            return v;
        }

        int positiveInteger(String name, int fallback) {
            Integer v = positiveInteger(name);
            return v == null ? fallback : v;
        }

        /** A list of single values, as text; empty when absent. */
        List<String> strings(String name) {
            JsonNode v = value(name);
            if (v == null) {
                return List.of();
            }
            if (!v.isArray()) {
                throw new ConfigException(source + ": '" + key(name) + "' must be a list, not " + kind(v));
            }
            List<String> items = new ArrayList<>();
            for (int i = 0; i < v.size(); i++) {
                JsonNode item = v.get(i);
                if (item.isNull() || !item.isValueNode()) {
                    throw new ConfigException(source + ": '" + key(name) + "[" + i + "]' must be a single value, not "
                            + (item.isNull() ? "empty" : kind(item)));
                }
                items.add(item.asText());
            }
            return items;
        }

        Duration positiveMillis(String name, Duration fallback) {
            Integer ms = positiveInteger(name);
            return ms == null ? fallback : Duration.ofMillis(ms);
        }

        Duration positiveSeconds(String name, Duration fallback) {
            Integer s = positiveInteger(name);
            return s == null ? fallback : Duration.ofSeconds(s);
        }

        String transport(String name, String fallback) {
            String v = string(name, null);
            if (v == null) {
                return fallback;
            }
            if (!Transport.known(v)) {
                throw new ConfigException(source + ": '" + key(name) + "' must be " + Transport.CHOICES + " but was '"
                        + v + "'");
            }
            return v;
        }

        FailurePolicy failurePolicy(String name, FailurePolicy fallback) {
            String v = string(name, null);
            return v == null ? fallback : parsePolicy(v, source + ": '" + key(name) + "'");
        }

        /** The keys of this mapping, in file order; none when it is absent. */
        List<String> keys() {
            List<String> names = new ArrayList<>();
            if (node != null && !node.isNull() && !node.isMissingNode()) {
                node.fieldNames().forEachRemaining(names::add);
            }
            return names;
        }

        int port(String name, int fallback) {
            JsonNode v = value(name);
            return v == null ? fallback : parsePort(v.asText(), source + ": '" + key(name) + "'");
        }

        Duration micros(String name, Duration fallback) {
            JsonNode v = value(name);
            return v == null ? fallback : Duration.of(integer(name, 0), ChronoUnit.MICROS);
        }

        Duration millis(String name, Duration fallback) {
            JsonNode v = value(name);
            return v == null ? fallback : Duration.ofMillis(integer(name, 0));
        }

        /** The child, or null when it is absent or written as an empty value. */
        private JsonNode value(String name) {
            if (node == null) {
                return null;
            }
            JsonNode v = node.get(name);
            return v == null || v.isNull() || v.isMissingNode() ? null : v;
        }

        private String key(String name) {
            return path.isEmpty() ? name : path + "." + name;
        }

        private static String kind(JsonNode v) {
            return v.isObject() ? "a mapping" : v.isArray() ? "a list" : "'" + v.asText() + "'";
        }
    }
}
