package river.config;

/** One problem in a configuration file, with the place it was found. */
public record ConfigError(String file, int line, int column, String message) {
    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + message;
    }
}
