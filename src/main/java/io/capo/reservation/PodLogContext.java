package io.capo.reservation;

import org.slf4j.MDC;

/** Puts namespace, pod and IP into the logging context for the lines written inside a try block. */
public final class PodLogContext implements AutoCloseable {

    private PodLogContext() {
    }

    public static PodLogContext of(String namespace, String pod, String ip) {
        MDC.put("namespace", namespace);
        MDC.put("pod", pod);
        MDC.put("ip", ip);
        return new PodLogContext();
    }

    @Override
    public void close() {
        MDC.remove("namespace");
        MDC.remove("pod");
        MDC.remove("ip");
    }
}
