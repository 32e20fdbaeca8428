package io.capo.webhook;

/** The webhook was called with a method other than POST; the caller gets HTTP 405 with this message. */
public final class MethodNotAllowedException extends RuntimeException {

    public MethodNotAllowedException(String message) {
        super(message);
    }
}
