package io.capo.webhook;

import io.capo.reservation.SelectionPolicy;

import java.time.Duration;

/**
 * @param denyOnFailure true: refuse the deletion when the address could not be parked within
 *                      {@code budget} (the caller retries); false: let the pod go and park the address
 *                      as soon as the API server takes the write
 */
public record WebhookPolicy(SelectionPolicy selection, boolean denyOnFailure, Duration budget) {
}
