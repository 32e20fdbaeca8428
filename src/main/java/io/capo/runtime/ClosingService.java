package io.capo.runtime;

import org.apache.camel.support.service.ServiceSupport;

/** Closes a resource when the context stops; services stop in reverse order of registration. */
final class ClosingService extends ServiceSupport {

    private final AutoCloseable resource;

    ClosingService(AutoCloseable resource) {
        this.resource = resource;
    }

    @Override
    protected void doStop() throws Exception {
        resource.close();
    }
}
