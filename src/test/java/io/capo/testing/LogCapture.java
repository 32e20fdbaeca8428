package io.capo.testing;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Collects what is logged (at the levels the loggers let through) while it is open, as
 * {@code LEVEL logger - message [exception]} lines.
 */
public final class LogCapture implements AutoCloseable {

    private final ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
    private final AbstractAppender appender;

    public LogCapture() {
        appender = new AbstractAppender("capture-" + System.nanoTime(), null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                String thrown = event.getThrown() == null ? "" : " [" + event.getThrown() + "]";
                lines.add(event.getLevel() + " " + event.getLoggerName() + " - "
                        + event.getMessage().getFormattedMessage() + thrown);
            }
        };
        appender.start();
        ((LoggerContext) LogManager.getContext(false)).getRootLogger().addAppender(appender);
    }

    public List<String> lines() {
        return List.copyOf(lines);
    }

    /** The lines at this level or more severe. */
    public List<String> atLeast(Level level) {
        return lines.stream().filter(line -> Level.toLevel(line.substring(0, line.indexOf(' ')))
                .isMoreSpecificThan(level)).toList();
    }

    @Override
    public void close() {
        ((LoggerContext) LogManager.getContext(false)).getRootLogger().removeAppender(appender);
        appender.stop();
    }
}
