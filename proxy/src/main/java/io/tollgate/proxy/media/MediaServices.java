package io.tollgate.proxy.media;

/** What every connection's {@link MediaHandler} shares: the media settings and the task service. */
public record MediaServices(MediaConfig config, TaskService tasks) {

    /** Retry-After of a 429 too_many_video_tasks: a task takes a while; try again in that long. */
    static final String TASK_RETRY_AFTER_SECONDS = "10";
}
