package io.tollgate.app;

import io.tollgate.app.TollgateConfig.ContentRuleSettings;
import io.tollgate.app.TollgateConfig.HostPort;
import io.tollgate.proxy.ProxyConfig;
import io.tollgate.proxy.Transport;
import io.tollgate.proxy.chat.ContentLimits;
import io.tollgate.proxy.chat.ContentRules;
import io.tollgate.proxy.limit.FailurePolicy;
import io.tollgate.proxy.limit.LimitClass;
import io.tollgate.proxy.limit.LimiterConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

    private static final Map<String, String> NO_ENV = Map.of();

    @Test
    void withoutFileOrEnvironmentEverythingIsDefault() {
        TollgateConfig config = ConfigLoader.load((Path) null, NO_ENV);

        assertThat(config).isEqualTo(TollgateConfig.defaults());
        assertThat(config.database().embedded()).isTrue();
        assertThat(config.database().poolSize()).isEqualTo(10);
        assertThat(config.redis().enabled()).isFalse();
        assertThat(config.dataDir()).isEqualTo(Path.of("data"));
        assertThat(config.proxy().host()).isEqualTo("0.0.0.0");
        assertThat(config.proxy().port()).isEqualTo(8080);
        assertThat(config.proxy().maxBodyBytes()).isEqualTo(524_288);
        assertThat(config.proxy().maxMessages()).isEqualTo(200);
        assertThat(config.proxy().maxMessageChars()).isEqualTo(64_000);
        assertThat(config.proxy().contentRules()).isEqualTo(ContentRuleSettings.NONE);
        assertThat(config.proxy().toProxyConfig().contentLimits()).isEqualTo(ContentLimits.DEFAULTS);
        assertThat(config.admin().port()).isEqualTo(8081);
        assertThat(config.admin().token()).isNull();
        assertThat(config.metrics().port()).isEqualTo(9090);
        assertThat(config.redis().timeout()).isEqualTo(Duration.ofMillis(50));
        assertThat(config.redis().failurePolicy()).isEqualTo(FailurePolicy.OPEN);
        assertThat(config.limits().tiers()).isEmpty();
        assertThat(config.limiterConfig()).isEqualTo(LimiterConfig.defaults());
        assertThat(config.tierNames()).containsExactlyInAnyOrder("pro", "max");
    }

    @Test
    void anEmptyFileIsAllDefaults(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("empty.yaml"), "# nothing\n");

        assertThat(ConfigLoader.load(file, NO_ENV)).isEqualTo(TollgateConfig.defaults());
    }

    @Test
    void theDocumentedExampleLoads() {
        // Keeps docs/tollgate.example.yaml honest: every key in it must be one we read.
        TollgateConfig config = ConfigLoader.load(Path.of("../docs/tollgate.example.yaml"), NO_ENV);

        assertThat(config.database().url()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/tollgate");
        assertThat(config.database().user()).isEqualTo("tollgate");
        assertThat(config.redis().nodes()).containsExactly(new HostPort("127.0.0.1", 6379));
        assertThat(config.admin().token()).isEqualTo("tga-change-me");
        assertThat(config.redis().timeout()).isEqualTo(Duration.ofMillis(50));
        assertThat(config.redis().failurePolicy()).isEqualTo(FailurePolicy.OPEN);
        assertThat(config.limiterConfig().tiers()).isEqualTo(LimiterConfig.defaults().tiers());
        assertThat(config.proxy().maxMessages()).isEqualTo(200);
        assertThat(config.proxy().maxMessageChars()).isEqualTo(64_000);
        assertThat(config.proxy().contentRules()).isEqualTo(ContentRuleSettings.NONE);
    }

    @Test
    void yamlSetsEverySection() {
        TollgateConfig config = ConfigLoader.load("""
                database: {url: "jdbc:postgresql://db:5432/tg", user: tg, password: secret, pool_size: 4}
                redis: {url: "redis://cache:6380"}
                data_dir: /var/lib/tollgate
                proxy:
                  host: 127.0.0.1
                  port: 18080
                  max_body_bytes: 1024
                  connect_timeout_ms: 250
                  first_byte_timeout_ms: 3000
                  idle_timeout_ms: 4000
                admin: {host: 127.0.0.2, port: 18081, token: tga-from-yaml}
                metrics: {port: 19090}
                """, "test.yaml", NO_ENV);

        assertThat(config.database()).isEqualTo(
                new TollgateConfig.DatabaseSettings("jdbc:postgresql://db:5432/tg", "tg", "secret", 4));
        assertThat(config.redis().cluster()).isFalse();
        assertThat(config.redis().nodes()).containsExactly(new HostPort("cache", 6380));
        assertThat(config.dataDir()).isEqualTo(Path.of("/var/lib/tollgate"));
        assertThat(config.proxy()).isEqualTo(new TollgateConfig.ProxySettings("127.0.0.1", 18080, 1024,
                Duration.ofMillis(250), Duration.ofSeconds(3), Duration.ofSeconds(4)));
        assertThat(config.admin()).isEqualTo(new TollgateConfig.AdminSettings("127.0.0.2", 18081, "tga-from-yaml"));
        assertThat(config.metrics().port()).isEqualTo(19090);
    }

    @Test
    void environmentOverridesTheFile() {
        Map<String, String> env = Map.of(
                "TOLLGATE_DATABASE_URL", "jdbc:postgresql://envdb/tg",
                "TOLLGATE_DATABASE_USER", "envuser",
                "TOLLGATE_DATABASE_PASSWORD", "envpass",
                "TOLLGATE_REDIS_URL", "redis-cluster://r1:7000,r2:7001,r3",
                "TOLLGATE_ADMIN_TOKEN", "tga-from-env",
                "TOLLGATE_DATA_DIR", "/srv/tg",
                "TOLLGATE_PROXY_PORT", "1",
                "TOLLGATE_ADMIN_PORT", "2",
                "TOLLGATE_METRICS_PORT", "3");

        TollgateConfig config = ConfigLoader.load("""
                database: {url: "jdbc:postgresql://db/tg", user: tg, password: secret, pool_size: 4}
                redis: {url: "redis://cache"}
                data_dir: /var/lib/tollgate
                proxy: {port: 18080, max_body_bytes: 1024}
                admin: {port: 18081, token: tga-from-yaml}
                metrics: {port: 19090}
                """, "test.yaml", env);

        assertThat(config.database()).isEqualTo(
                new TollgateConfig.DatabaseSettings("jdbc:postgresql://envdb/tg", "envuser", "envpass", 4));
        assertThat(config.redis().url()).isEqualTo("redis-cluster://r1:7000,r2:7001,r3");
        assertThat(config.redis().cluster()).isTrue();
        assertThat(config.redis().nodes()).containsExactly(
                new HostPort("r1", 7000), new HostPort("r2", 7001), new HostPort("r3", 6379));
        assertThat(config.admin().token()).isEqualTo("tga-from-env");
        assertThat(config.dataDir()).isEqualTo(Path.of("/srv/tg"));
        assertThat(config.proxy().port()).isEqualTo(1);
        assertThat(config.proxy().maxBodyBytes()).isEqualTo(1024);          // no variable for it: the file's
        assertThat(config.admin().port()).isEqualTo(2);
        assertThat(config.metrics().port()).isEqualTo(3);
    }

    @Test
    void blankVariablesAreUnset() {
        TollgateConfig config = ConfigLoader.load("admin: {token: tga-yaml}", "test.yaml",
                Map.of("TOLLGATE_ADMIN_TOKEN", "  ", "TOLLGATE_DATABASE_URL", ""));

        assertThat(config.admin().token()).isEqualTo("tga-yaml");
        assertThat(config.database().embedded()).isTrue();
    }

    @Test
    void anUnknownKeyIsNamedWithItsPath() {
        assertThatThrownBy(() -> ConfigLoader.load("proxy:\n  max_body_byte: 10\n", "my.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("my.yaml")
                .hasMessageContaining("unknown key 'proxy.max_body_byte'")
                .hasMessageContaining("max_body_bytes");
        assertThatThrownBy(() -> ConfigLoader.load("databse: {url: x}\n", "my.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown key 'databse'");
    }

    @Test
    void wrongTypesAreRefusedByName() {
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {max_body_bytes: lots}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'proxy.max_body_bytes' must be a whole number");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: 8080", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'proxy' must be a mapping");
        assertThatThrownBy(() -> ConfigLoader.load("admin: {port: 70000}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'admin.port' must be a port number");
        assertThatThrownBy(() -> ConfigLoader.load("database: {url: 'mysql://x'}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("jdbc:postgresql:");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {port: 1}\nproxy: {port: 2}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("Duplicate");
    }

    @Test
    void aBadVariableIsNamed() {
        assertThatThrownBy(() -> ConfigLoader.load((Path) null, Map.of("TOLLGATE_PROXY_PORT", "http")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TOLLGATE_PROXY_PORT");
        assertThatThrownBy(() -> ConfigLoader.load((Path) null, Map.of("TOLLGATE_REDIS_URL", "memcached://x")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("redis url scheme");
        assertThatThrownBy(() -> ConfigLoader.load((Path) null, Map.of("TOLLGATE_REDIS_URL", "redis://a:1,b:2")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("redis-cluster://");
    }

    // ------------------------------------------------------------------ redis.timeout_ms, redis.failure_policy, limits

    @Test
    void theRedisTimeoutAndFailurePolicyComeFromTheFile() {
        TollgateConfig config = ConfigLoader.load("""
                redis: {url: "redis://cache:6380", timeout_ms: 120, failure_policy: closed}
                """, "t.yaml", NO_ENV);

        assertThat(config.redis().timeout()).isEqualTo(Duration.ofMillis(120));
        assertThat(config.redis().failurePolicy()).isEqualTo(FailurePolicy.CLOSED);
        LimiterConfig limiter = config.limiterConfig();
        assertThat(limiter.redisUrl()).isEqualTo("redis://cache:6380");
        assertThat(limiter.timeout()).isEqualTo(Duration.ofMillis(120));
        assertThat(limiter.failurePolicy()).isEqualTo(FailurePolicy.CLOSED);
    }

    @Test
    void theRedisTimeoutAndFailurePolicyApplyWithoutAUrlToo() {
        // Harmless in-process, and ready the day a URL arrives from the environment.
        TollgateConfig config = ConfigLoader.load("redis: {timeout_ms: 20, failure_policy: closed}", "t.yaml", NO_ENV);

        assertThat(config.limiterConfig()).isEqualTo(
                new LimiterConfig(null, Duration.ofMillis(20), FailurePolicy.CLOSED, Map.of()));
    }

    @Test
    void theEnvironmentOverridesTheRedisTimeoutAndFailurePolicy() {
        TollgateConfig config = ConfigLoader.load("""
                redis: {url: "redis://cache", timeout_ms: 120, failure_policy: closed}
                """, "t.yaml", Map.of(
                "TOLLGATE_REDIS_URL", "redis://envcache:6390",
                "TOLLGATE_REDIS_TIMEOUT_MS", "75",
                "TOLLGATE_REDIS_FAILURE_POLICY", "open"));

        assertThat(config.limiterConfig()).isEqualTo(
                new LimiterConfig("redis://envcache:6390", Duration.ofMillis(75), FailurePolicy.OPEN, Map.of()));

        TollgateConfig closed = ConfigLoader.load((Path) null, Map.of("TOLLGATE_REDIS_FAILURE_POLICY", "closed"));
        assertThat(closed.redis().failurePolicy()).isEqualTo(FailurePolicy.CLOSED);
        assertThat(closed.redis().timeout()).isEqualTo(Duration.ofMillis(50));
    }

    @Test
    void theLeaseWindowIsReadInMillisAndZeroTurnsLeasesOff() {
        assertThat(ConfigLoader.load("redis: {url: \"redis://cache\"}", "t.yaml", NO_ENV).limiterConfig().leaseWindow())
                .isEqualTo(Duration.ofMillis(50));
        assertThat(ConfigLoader.load("redis: {url: \"redis://cache\", lease_ms: 200}", "t.yaml", NO_ENV)
                .limiterConfig().leaseWindow()).isEqualTo(Duration.ofMillis(200));
        assertThat(ConfigLoader.load("redis: {lease_ms: 0}", "t.yaml", NO_ENV).limiterConfig().leaseWindow())
                .isZero();
        assertThatThrownBy(() -> ConfigLoader.load("redis: {lease_ms: 5000}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("lease_ms must be between 0 and 1000 but was 5000");
        assertThatThrownBy(() -> ConfigLoader.load("redis: {lease_ms: -1}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("lease_ms");
    }

    @Test
    void aFailurePolicyOtherThanOpenOrClosedIsRefusedByName() {
        assertThatThrownBy(() -> ConfigLoader.load("redis: {failure_policy: ignore}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'redis.failure_policy'")
                .hasMessageContaining("'open' or 'closed'")
                .hasMessageContaining("'ignore'");
        assertThatThrownBy(() -> ConfigLoader.load((Path) null, Map.of("TOLLGATE_REDIS_FAILURE_POLICY", "fail-open")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TOLLGATE_REDIS_FAILURE_POLICY")
                .hasMessageContaining("'open' or 'closed'");
        assertThatThrownBy(() -> ConfigLoader.load("redis: {failure_policy: [open]}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'redis.failure_policy' must be a single value");
    }

    @Test
    void aTimeoutMustBeAPositiveNumberOfMilliseconds() {
        assertThatThrownBy(() -> ConfigLoader.load("redis: {timeout_ms: 0}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'redis.timeout_ms' must be a positive whole number");
        assertThatThrownBy(() -> ConfigLoader.load("redis: {timeout_ms: fast}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'redis.timeout_ms' must be a whole number");
        assertThatThrownBy(() -> ConfigLoader.load((Path) null, Map.of("TOLLGATE_REDIS_TIMEOUT_MS", "-5")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TOLLGATE_REDIS_TIMEOUT_MS");
        assertThatThrownBy(() -> ConfigLoader.load((Path) null, Map.of("TOLLGATE_REDIS_TIMEOUT_MS", "50ms")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TOLLGATE_REDIS_TIMEOUT_MS");
    }

    @Test
    void aTierReplacesItsListedClassesAndKeepsItsDefaultsForTheOthers() {
        TollgateConfig config = ConfigLoader.load("""
                limits:
                  tiers:
                    pro: {general: 2}
                    max: {general: 500, image_poll: 2000}
                """, "t.yaml", NO_ENV);

        LimiterConfig limiter = config.limiterConfig();
        assertThat(limiter.tiers().get("pro")).isEqualTo(Map.of(
                LimitClass.GENERAL, 2, LimitClass.IMAGE_SUBMIT, 200, LimitClass.IMAGE_POLL, 1000));
        assertThat(limiter.tiers().get("max")).isEqualTo(Map.of(
                LimitClass.GENERAL, 500, LimitClass.IMAGE_SUBMIT, 300, LimitClass.IMAGE_POLL, 2000));
        assertThat(config.tierNames()).containsExactlyInAnyOrder("pro", "max");
        assertThat(limiter.limitFor("pro", null, LimitClass.GENERAL)).isEqualTo(2);
    }

    @Test
    void aCustomTierIsAddedAndTakesProsValuesForTheClassesItLeavesOut() {
        TollgateConfig config = ConfigLoader.load("""
                limits:
                  tiers:
                    pro: {general: 20}
                    team: {general: 120, image_submit: 250}
                    trial: {}
                """, "t.yaml", NO_ENV);

        LimiterConfig limiter = config.limiterConfig();
        assertThat(limiter.tiers().get("team")).isEqualTo(Map.of(
                LimitClass.GENERAL, 120, LimitClass.IMAGE_SUBMIT, 250, LimitClass.IMAGE_POLL, 1000));
        assertThat(limiter.tiers().get("trial")).as("pro as configured, not pro's default")
                .isEqualTo(Map.of(LimitClass.GENERAL, 20, LimitClass.IMAGE_SUBMIT, 200, LimitClass.IMAGE_POLL, 1000));
        assertThat(limiter.tiers().get("max")).isEqualTo(LimiterConfig.DEFAULT_TIERS.get("max"));
        assertThat(config.tierNames()).containsExactlyInAnyOrder("pro", "max", "team", "trial");
        assertThat(limiter.limitFor("team", null, LimitClass.GENERAL)).isEqualTo(120);
        assertThat(limiter.limitFor("unknown-tier", null, LimitClass.GENERAL)).as("pro's").isEqualTo(20);
    }

    @Test
    void unknownClassKeysInATierAreAllNamed() {
        assertThatThrownBy(() -> ConfigLoader.load("""
                limits:
                  tiers:
                    team: {general: 5, genral: 6, images: 7}
                """, "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("t.yaml")
                .hasMessageContaining("unknown keys 'limits.tiers.team.genral', 'limits.tiers.team.images'")
                .hasMessageContaining("general, image_submit, image_poll");
        assertThatThrownBy(() -> ConfigLoader.load("limits: {tier: {pro: {general: 1}}}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown key 'limits.tier'");
    }

    @Test
    void limitsMustBePositiveWholeNumbersInMappings() {
        assertThatThrownBy(() -> ConfigLoader.load("limits: {tiers: {pro: {general: 0}}}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'limits.tiers.pro.general' must be a positive whole number");
        assertThatThrownBy(() -> ConfigLoader.load("limits: {tiers: {pro: {general: -3}}}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'limits.tiers.pro.general' must be a positive whole number");
        assertThatThrownBy(() -> ConfigLoader.load("limits: {tiers: {pro: {general: 2.5}}}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'limits.tiers.pro.general' must be a whole number");
        assertThatThrownBy(() -> ConfigLoader.load("limits: {tiers: {pro: 30}}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'limits.tiers.pro' must be a mapping");
        assertThatThrownBy(() -> ConfigLoader.load("limits: {tiers: {'my tier': {general: 1}}}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("tier name 'my tier'");
    }

    @Test
    void mediaSettingsBecomeTheMediaConfig() {
        TollgateConfig config = ConfigLoader.load("""
                media:
                  video_default_seconds: 8
                  video_max_seconds: 20
                  max_video_tasks: 3
                  task_poll_interval_ms: 500
                  task_sweep_interval_ms: 5000
                  video_task_timeout_s: 1800
                  image_task_timeout_s: 120
                """, "t.yaml", NO_ENV);

        var media = config.media().toMediaConfig();
        assertThat(media.defaultVideoSeconds()).isEqualByComparingTo("8");
        assertThat(media.maxVideoSeconds()).isEqualByComparingTo("20");
        assertThat(media.maxVideoTasks()).isEqualTo(3);
        assertThat(media.upstreamPollInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(media.sweepInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(media.videoTaskTimeout()).isEqualTo(Duration.ofMinutes(30));
        assertThat(media.imageTaskTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(TollgateConfig.defaults().media().toMediaConfig()).isEqualTo(io.tollgate.proxy.media.MediaConfig.defaults());
    }

    @Test
    void mediaSettingsAreChecked() {
        assertThatThrownBy(() -> ConfigLoader.load("media: {max_video_tasks: 0}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'media.max_video_tasks' must be a positive whole number");
        assertThatThrownBy(() -> ConfigLoader.load("media: {video_default_seconds: 30, video_max_seconds: 10}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("video_max_seconds (10) must not be below video_default_seconds (30)");
        assertThatThrownBy(() -> ConfigLoader.load("media: {task_poll_interval_ms: -1}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("task_poll_interval_ms must not be negative");
        assertThatThrownBy(() -> ConfigLoader.load("media: {video_seconds: 3}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown key 'media.video_seconds'");
    }

    @Test
    void theStartupLineSaysWhereTheLimitsLive() {
        assertThat(Launcher.describeLimits(TollgateConfig.defaults().redis())).isEqualTo("in-process (single node)");
        TollgateConfig redis = ConfigLoader.load((Path) null, Map.of(
                "TOLLGATE_REDIS_URL", "redis://:hunter2@cache:6380/0",
                "TOLLGATE_REDIS_FAILURE_POLICY", "closed",
                "TOLLGATE_REDIS_TIMEOUT_MS", "80"));
        assertThat(Launcher.describeLimits(redis.redis())).isEqualTo("redis redis://***@cache:6380/0 (fail-closed, 80 ms)");
        TollgateConfig cluster = ConfigLoader.load((Path) null, Map.of("TOLLGATE_REDIS_URL", "redis-cluster://r1:7000,r2:7001"));
        assertThat(Launcher.describeLimits(cluster.redis())).isEqualTo("redis redis-cluster://r1:7000,r2:7001 (fail-open, 50 ms)");
    }

    // ------------------------------------------------------------------ proxy message limits and content rules

    @Test
    void messageLimitsAndContentRulesComeFromTheFile() {
        TollgateConfig config = ConfigLoader.load("""
                proxy:
                  max_messages: 5
                  max_message_chars: 1000
                  content_rules:
                    keywords: [Forbidden Word, "ünïcode"]
                    patterns: ['secret\\s+plan', "(?i)^drop table"]
                """, "t.yaml", NO_ENV);

        TollgateConfig.ProxySettings proxy = config.proxy();
        assertThat(proxy.maxMessages()).isEqualTo(5);
        assertThat(proxy.maxMessageChars()).isEqualTo(1000);
        assertThat(proxy.contentRules()).isEqualTo(new ContentRuleSettings(
                List.of("Forbidden Word", "ünïcode"), List.of("secret\\s+plan", "(?i)^drop table")));
        assertThat(proxy.maxBodyBytes()).as("the rest keeps its default").isEqualTo(524_288);

        ProxyConfig built = proxy.toProxyConfig();
        assertThat(built.maxMessages()).isEqualTo(5);
        assertThat(built.maxMessageChars()).isEqualTo(1000);
        ContentRules rules = built.contentRules();
        assertThat(rules.matches("this has a FORBIDDEN word in it")).as("keywords ignore case").isTrue();
        assertThat(rules.matches("ÜNÏCODE")).isTrue();
        assertThat(rules.matches("the secret \t plan")).isTrue();
        assertThat(rules.matches("Secret plan")).as("patterns are case-sensitive as written").isFalse();
        assertThat(rules.matches("DROP TABLE users")).isTrue();
        assertThat(rules.matches("please drop table")).as("^ anchors to the text").isFalse();
        assertThat(rules.matches("Hello, Tollgate!")).isFalse();
        assertThat(built.contentLimits()).isEqualTo(new ContentLimits(5, 1000, rules));
    }

    @Test
    void upstreamAttemptsComeFromTheFileAndDefaultToThree() {
        assertThat(TollgateConfig.defaults().proxy().maxAttempts()).isEqualTo(3);
        assertThat(TollgateConfig.defaults().proxy().toProxyConfig().maxUpstreamAttempts()).isEqualTo(3);
        TollgateConfig once = ConfigLoader.load("proxy: {max_attempts: 1}", "t.yaml", NO_ENV);
        assertThat(once.proxy().maxAttempts()).isEqualTo(1);
        assertThat(once.proxy().toProxyConfig().maxUpstreamAttempts()).as("failover off").isEqualTo(1);
        assertThat(once.proxy().toProxyConfig().replayBufferBytes()).isEqualTo(ProxyConfig.DEFAULT_REPLAY_BUFFER_BYTES);
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {max_attempts: 0}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'proxy.max_attempts' must be a positive whole number but was 0");
    }

    @Test
    void theTransportComesFromTheFileAndDefaultsToTheMachinesBest() {
        assertThat(TollgateConfig.defaults().proxy().transport()).isEqualTo("auto");
        assertThat(TollgateConfig.defaults().proxy().toProxyConfig().transport()).isEqualTo(Transport.auto());
        TollgateConfig nio = ConfigLoader.load("proxy: {transport: nio}", "t.yaml", NO_ENV);
        assertThat(nio.proxy().transport()).isEqualTo("nio");
        assertThat(nio.proxy().toProxyConfig().transport()).isEqualTo(Transport.NIO);
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {transport: kqueue}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'proxy.transport' must be auto, io_uring, epoll or nio but was 'kqueue'");
    }

    @Test
    void aBusyPollComesInMicrosecondsUpToTenMillisecondsAndNotOnIoUring() {
        assertThat(TollgateConfig.defaults().proxy().toProxyConfig().busyPoll()).isZero();
        TollgateConfig polled = ConfigLoader.load("proxy: {busy_poll_us: 250}", "t.yaml", NO_ENV);
        assertThat(polled.proxy().toProxyConfig().busyPoll()).isEqualTo(Duration.ofNanos(250_000));
        assertThat(ConfigLoader.load("proxy: {transport: nio, busy_poll_us: 10000}", "t.yaml", NO_ENV)
                .proxy().toProxyConfig().busyPoll()).isEqualTo(Duration.ofMillis(10));
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {busy_poll_us: 10001}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("proxy busy_poll_us must be between 0 and 10000 but was 10001");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {busy_poll_us: -1}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("proxy busy_poll_us must be between 0 and 10000 but was -1");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {busy_poll_us: 0.5}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'proxy.busy_poll_us' must be a whole number");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {transport: io_uring, busy_poll_us: 100}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("busy_poll_us needs the epoll or nio transport");
    }

    @Test
    void contentRulesMayListOnlyKeywordsOrOnlyPatternsOrNothing() {
        assertThat(ConfigLoader.load("proxy: {content_rules: {keywords: [spam]}}", "t.yaml", NO_ENV)
                .proxy().contentRules()).isEqualTo(new ContentRuleSettings(List.of("spam"), List.of()));
        assertThat(ConfigLoader.load("proxy: {content_rules: {patterns: ['\\bspam\\b']}}", "t.yaml", NO_ENV)
                .proxy().toProxyConfig().contentRules().matches("no spam please")).isTrue();
        TollgateConfig empty = ConfigLoader.load("proxy: {content_rules: {keywords: [], patterns: []}}", "t.yaml", NO_ENV);
        assertThat(empty).isEqualTo(TollgateConfig.defaults());
        assertThat(empty.proxy().toProxyConfig().contentRules()).isSameAs(ContentRules.NONE);
        assertThat(ConfigLoader.load("proxy: {content_rules: }", "t.yaml", NO_ENV)).isEqualTo(TollgateConfig.defaults());
    }

    @Test
    void messageLimitsMustBePositiveWholeNumbers() {
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {max_messages: 0}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("t.yaml")
                .hasMessageContaining("'proxy.max_messages' must be a positive whole number but was 0");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {max_message_chars: -1}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'proxy.max_message_chars' must be a positive whole number but was -1");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {max_messages: many}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'proxy.max_messages' must be a whole number");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {max_message_chars: 1.5}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'proxy.max_message_chars' must be a whole number");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {max_message_chars: 3000000000}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'proxy.max_message_chars' must be a whole number");
        assertThatThrownBy(() -> new TollgateConfig.ProxySettings("h", 1, 1, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ofSeconds(1), 0, 1, ContentRuleSettings.NONE))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("max_messages must be positive");
    }

    @Test
    void aBadPatternIsNamedByItsPlaceAndWhy() {
        assertThatThrownBy(() -> ConfigLoader.load("""
                proxy:
                  content_rules:
                    patterns: ['ok', '[unclosed']
                """, "my.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("my.yaml")
                .hasMessageContaining("proxy.content_rules.patterns[1] '[unclosed' is not a valid regular expression")
                .hasMessageContaining("Unclosed character class");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {content_rules: {patterns: ['spam|']}}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("proxy.content_rules.patterns[0] 'spam|' matches empty text");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {content_rules: {patterns: ['']}}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("proxy.content_rules.patterns[0] must not be empty");
    }

    @Test
    void aBadKeywordIsNamedByItsPlace() {
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {content_rules: {keywords: [spam, '  ']}}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("t.yaml")
                .hasMessageContaining("proxy.content_rules.keywords[1] must not be blank but was '  '");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {content_rules: {keywords: [spam, ~]}}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'proxy.content_rules.keywords[1]' must be a single value, not empty");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {content_rules: {keywords: [[spam]]}}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'proxy.content_rules.keywords[0]' must be a single value, not a list");
    }

    @Test
    void contentRulesMustBeAMappingOfLists() {
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {content_rules: {keywords: spam}}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'proxy.content_rules.keywords' must be a list, not 'spam'");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {content_rules: [spam]}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'proxy.content_rules' must be a mapping of keys, not a list");
    }

    @Test
    void unknownKeysUnderContentRulesAreAllNamed() {
        assertThatThrownBy(() -> ConfigLoader.load("""
                proxy:
                  content_rules: {keyword: [spam], patterns: [x], regex: [y]}
                """, "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("t.yaml")
                .hasMessageContaining("unknown keys 'proxy.content_rules.keyword', 'proxy.content_rules.regex'")
                .hasMessageContaining("keywords, patterns");
        assertThatThrownBy(() -> ConfigLoader.load("proxy: {max_message: 5}", "t.yaml", NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown key 'proxy.max_message'")
                .hasMessageContaining("max_messages, max_message_chars, content_rules");
    }

    @Test
    void aMissingFileIsAnError(@TempDir Path dir) {
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.yaml"), NO_ENV))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("config file not found");
    }

    @Test
    void redisUrlsKeepCredentialsOutOfTheNodes() {
        TollgateConfig.RedisSettings redis = TollgateConfig.RedisSettings.parse("rediss://user:p%40ss@cache.local:6390/2");

        assertThat(redis.nodes()).isEqualTo(List.of(new HostPort("cache.local", 6390)));
        assertThat(redis.toString()).doesNotContain("p%40ss");
        assertThat(TollgateConfig.RedisSettings.parse("redis://[::1]:6379").nodes())
                .containsExactly(new HostPort("::1", 6379));
    }

    @Test
    void proxySettingsBecomeTheProxyConfig() {
        ProxyConfig proxy = new TollgateConfig.ProxySettings("127.0.0.1", 0, 2048,
                Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(300)).toProxyConfig();

        assertThat(proxy.host()).isEqualTo("127.0.0.1");
        assertThat(proxy.port()).isZero();
        assertThat(proxy.maxBodyBytes()).isEqualTo(2048);
        assertThat(proxy.upstreamConnectTimeout()).isEqualTo(Duration.ofMillis(100));
        assertThat(proxy.upstreamFirstByteTimeout()).isEqualTo(Duration.ofMillis(200));
        assertThat(proxy.upstreamIdleTimeout()).isEqualTo(Duration.ofMillis(300));
        assertThat(proxy.maxHeaderBytes()).isEqualTo(ProxyConfig.defaults().maxHeaderBytes());
        assertThat(proxy.maxMessages()).isEqualTo(200);
        assertThat(proxy.contentRules()).isSameAs(ContentRules.NONE);

        ProxyConfig limited = new TollgateConfig.ProxySettings("127.0.0.1", 0, 2048, Duration.ofMillis(100),
                Duration.ofMillis(200), Duration.ofMillis(300), 7, 700,
                new ContentRuleSettings(List.of("spam"), List.of("x{3}"))).toProxyConfig();
        assertThat(limited.maxBodyBytes()).isEqualTo(2048);
        assertThat(limited.upstreamIdleTimeout()).isEqualTo(Duration.ofMillis(300));
        assertThat(limited.maxMessages()).isEqualTo(7);
        assertThat(limited.maxMessageChars()).isEqualTo(700);
        assertThat(limited.contentRules().keywordCount()).isEqualTo(1);
        assertThat(limited.contentRules().patterns()).hasSize(1);
        assertThat(limited.contentRules().matches("SPAM")).isTrue();
        assertThat(limited.contentRules().matches("xxx")).isTrue();
        assertThat(limited.contentRules().matches("xx")).isFalse();
    }

    @Test
    void secretsStayOutOfToString() {
        TollgateConfig config = ConfigLoader.load("database: {url: 'jdbc:postgresql://db/tg', password: hunter2}\n"
                + "admin: {token: tga-secret}", "t.yaml", NO_ENV);

        assertThat(config.toString()).doesNotContain("hunter2").doesNotContain("tga-secret");
    }
}
