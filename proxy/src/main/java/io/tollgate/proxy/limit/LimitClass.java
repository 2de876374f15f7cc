package io.tollgate.proxy.limit;

/** The request classes that have their own per-minute limit (SPEC §2, "Limits"). */
public enum LimitClass {
    GENERAL("general"),
    IMAGE_SUBMIT("image_submit"),
    IMAGE_POLL("image_poll");

    private final String wireName;

    LimitClass(String wireName) {
        this.wireName = wireName;
    }

    /** The name used in config, in {@code rate_limits} JSON and in Redis keys. */
    public String wireName() {
        return wireName;
    }

    public static LimitClass fromWireName(String name) {
        for (LimitClass c : values()) {
            if (c.wireName.equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown limit class: " + name);
    }
}
