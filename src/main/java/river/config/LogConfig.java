package river.config;

/**
 * The application log ({@code system { log { … } }}).
 *
 * @param level the root level: error, warn, info, debug or trace
 */
public record LogConfig(String level) {
    public static final LogConfig DEFAULTS = new LogConfig("info");
}
