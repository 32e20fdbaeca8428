package io.capo.runtime;

import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Stops Capo at start when an HTTP port could not be bound, instead of running without its webhook. */
public final class ServerCheck extends MainListenerSupport {

    private static final Logger LOG = LoggerFactory.getLogger(ServerCheck.class);

    @Override
    public void afterStart(BaseMainSupport main) {
        try {
            CapoRuntime.verifyServersBound(main.getCamelContext());
        } catch (IllegalStateException e) {
            LOG.error("Capo cannot serve: {}", e.getMessage());
            System.exit(3);
        }
    }
}
