package io.capo.webhook;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DecisionTest {

    private static final AdmissionRequest REQUEST = AdmissionReviews.parse("{\"apiVersion\":\"admission.k8s.io/v1\","
            + "\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u-1\",\"kind\":{\"group\":\"\",\"version\":\"v1\","
            + "\"kind\":\"Pod\"},\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"},"
            + "\"operation\":\"DELETE\",\"namespace\":\"ns\",\"name\":\"p\"}}");

    @Test
    void everyAllowingOutcomeRendersAnAllowedReviewWithTheRequestUid() {
        for (AdmissionOutcome outcome : AdmissionOutcome.values()) {
            if (outcome == AdmissionOutcome.DENIED || outcome == AdmissionOutcome.BAD_REQUEST) {
                continue;
            }
            assertThat(Decision.allow(outcome).render(REQUEST)).as(outcome.label())
                    .contains("\"uid\":\"u-1\"", "\"allowed\":true").doesNotContain("warnings");
        }
    }

    @Test
    void aFailedOpenDecisionCarriesItsWarning() {
        assertThat(Decision.failedOpen("not parked yet").render(REQUEST))
                .contains("\"allowed\":true", "\"warnings\":[\"not parked yet\"]");
    }

    @Test
    void aRefusalIs429WithItsMessage() {
        assertThat(Decision.deny("retry shortly").render(REQUEST))
                .contains("\"allowed\":false", "\"code\":429", "\"reason\":\"TooManyRequests\"",
                        "\"message\":\"retry shortly\"");
    }

    @Test
    void aRefusalNeedsAMessageAndABadRequestIsNoDecision() {
        assertThatThrownBy(() -> Decision.deny(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Decision.allow(AdmissionOutcome.BAD_REQUEST))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
