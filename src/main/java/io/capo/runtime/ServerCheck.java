package io.capo.runtime;

import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops Capo at start when an HTTP port could not be bound or a required route is missing, instead of running
 * without its webhook or its release.
 */
public final class ServerCheck extends MainListenerSupport {

    private static final Logger LOG = LoggerFactory.getLogger(ServerCheck.class);

    @Override
    public void afterStart(BaseMainSupport main) {
        try {
            CapoRuntime.verifyServersBound(main.getCamelContext());
            CapoRuntime.verifyRequiredRoutes(main.getCamelContext());
        } catch (IllegalStateException e) {
            LOG.error("Capo cannot serve: {}", e.getMessage());
            System.exit(3);
        }
    }
}
