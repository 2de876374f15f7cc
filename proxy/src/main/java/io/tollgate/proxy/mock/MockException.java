package io.tollgate.proxy.mock;

/** A request the mock refuses; carries the error to answer. No stack trace: it is control flow. */
final class MockException extends Exception {

    private final OpenAiError error;

    MockException(OpenAiError error) {
        super(error.message(), null, false, false);
        this.error = error;
    }

    OpenAiError error() {
        return error;
    }
}
