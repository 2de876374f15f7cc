package io.tollgate.app;

/** A configuration the process cannot start with; the message tells the operator what to fix. */
public final class ConfigException extends RuntimeException {

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
