package io.capo.webhook;

/**
 * The webhook's answer to one review, decided once and rendered once into the AdmissionReview response.
 *
 * @param outcome what happened (the metric label; whether the review is allowed)
 * @param message the warning shown to the caller of an allowed review, or the reason of a refusal; null for none
 */
record Decision(AdmissionOutcome outcome, String message) {

    /** The HTTP status of a refusal the API server passes on: 429 makes {@code kubectl drain} and controllers retry. */
    static final int REFUSAL_CODE = 429;

    Decision {
        if (outcome == AdmissionOutcome.BAD_REQUEST) {
            throw new IllegalArgumentException("a bad request is not answered with a review");
        }
        if (outcome == AdmissionOutcome.DENIED && message == null) {
            throw new IllegalArgumentException("a refusal needs a message");
        }
    }

    static Decision allow(AdmissionOutcome outcome) {
        return new Decision(outcome, null);
    }

    static Decision failedOpen(String warning) {
        return new Decision(AdmissionOutcome.FAILED_OPEN, warning);
    }

    static Decision deny(String message) {
        return new Decision(AdmissionOutcome.DENIED, message);
    }

    String render(AdmissionRequest request) {
        return outcome.allowed() ? AdmissionReviews.allow(request, message)
                : AdmissionReviews.deny(request, REFUSAL_CODE, message);
    }
}
