package io.capo.webhook;

/** The body is not an AdmissionReview Capo can answer; the caller gets HTTP 400 with this message. */
public final class BadAdmissionRequestException extends RuntimeException {

    public BadAdmissionRequestException(String message) {
        super(message);
    }
}
