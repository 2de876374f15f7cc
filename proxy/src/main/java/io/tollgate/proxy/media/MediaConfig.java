package io.tollgate.proxy.media;

import java.math.BigDecimal;
import java.time.Duration;

/**
 * How the image and video endpoints behave, fixed at start-up.
 *
 * @param defaultVideoSeconds  the duration reserved for a video request that names none
 *                             ({@code duration} / {@code seconds}); set it to the upstream's default,
 *                             since the settlement never exceeds what was reserved
 * @param maxVideoSeconds      a longer {@code duration} is refused with 400
 * @param maxVideoTasks        concurrent video tasks per account (SPEC: 2); one more is 429
 *                             {@code too_many_video_tasks}
 * @param upstreamPollInterval the upstream is asked about a task at most this often, however many
 *                             clients and proxies poll it; in between, polls are answered from the
 *                             database
 * @param sweepInterval        how often each proxy looks for tasks nobody polled for that long and
 *                             asks their upstream itself, and for tasks past their timeout
 * @param videoTaskTimeout     a video task not finished by then is failed (and costs nothing)
 * @param imageTaskTimeout     likewise for an image task
 * @param maxTaskAnswerBytes   an upstream answer to a task call (a submit, a poll, an async image
 *                             generation) larger than this fails that call
 */
public record MediaConfig(BigDecimal defaultVideoSeconds, BigDecimal maxVideoSeconds, int maxVideoTasks,
                          Duration upstreamPollInterval, Duration sweepInterval, Duration videoTaskTimeout,
                          Duration imageTaskTimeout, int maxTaskAnswerBytes) {

    public MediaConfig {
        if (defaultVideoSeconds.signum() <= 0 || maxVideoSeconds.compareTo(defaultVideoSeconds) < 0) {
            throw new IllegalArgumentException("video seconds: need 0 < default <= max, got " + defaultVideoSeconds
                    + " and " + maxVideoSeconds);
        }
        if (maxVideoTasks < 1 || maxTaskAnswerBytes < 1024) {
            throw new IllegalArgumentException("maxVideoTasks must be >= 1 and maxTaskAnswerBytes >= 1024");
        }
        if (upstreamPollInterval.isNegative() || !sweepInterval.isPositive() || !videoTaskTimeout.isPositive()
                || !imageTaskTimeout.isPositive()) {
            throw new IllegalArgumentException("media durations must be positive");
        }
    }

    /** 5 s default video, 600 s at most, 2 tasks per account, upstream asked every 2 s, swept every 15 s. */
    public static MediaConfig defaults() {
        return new MediaConfig(BigDecimal.valueOf(5), BigDecimal.valueOf(600), 2, Duration.ofSeconds(2),
                Duration.ofSeconds(15), Duration.ofHours(1), Duration.ofMinutes(10), 64 * 1024 * 1024);
    }

    public MediaConfig withVideoSeconds(BigDecimal defaultSeconds, BigDecimal maxSeconds) {
        return new MediaConfig(defaultSeconds, maxSeconds, maxVideoTasks, upstreamPollInterval, sweepInterval,
                videoTaskTimeout, imageTaskTimeout, maxTaskAnswerBytes);
    }

    public MediaConfig withMaxVideoTasks(int max) {
        return new MediaConfig(defaultVideoSeconds, maxVideoSeconds, max, upstreamPollInterval, sweepInterval,
                videoTaskTimeout, imageTaskTimeout, maxTaskAnswerBytes);
    }

    public MediaConfig withPolling(Duration upstreamPollInterval, Duration sweepInterval) {
        return new MediaConfig(defaultVideoSeconds, maxVideoSeconds, maxVideoTasks, upstreamPollInterval, sweepInterval,
                videoTaskTimeout, imageTaskTimeout, maxTaskAnswerBytes);
    }

    public MediaConfig withTaskTimeouts(Duration video, Duration image) {
        return new MediaConfig(defaultVideoSeconds, maxVideoSeconds, maxVideoTasks, upstreamPollInterval, sweepInterval,
                video, image, maxTaskAnswerBytes);
    }
}
