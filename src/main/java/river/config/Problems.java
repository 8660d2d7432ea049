package river.config;

import java.util.ArrayList;
import java.util.List;

/** Collects the errors found while reading one configuration file, so all of them are reported. */
final class Problems {
    private final String file;
    private final List<ConfigError> errors = new ArrayList<>();

    Problems(String file) {
        this.file = file;
    }

    void add(Where where, String message) {
        errors.add(new ConfigError(file, where.line(), where.column(), message));
    }

    /** {@code where} in this file, as an error would give it ({@code file:line:col}). */
    String at(Where where) {
        return file + ":" + where.line() + ":" + where.column();
    }

    int size() {
        return errors.size();
    }

    boolean isEmpty() {
        return errors.isEmpty();
    }

    void throwIfAny() throws ConfigException {
        if (!errors.isEmpty()) {
            errors.sort(java.util.Comparator.comparingInt(ConfigError::line).thenComparingInt(ConfigError::column));
            throw new ConfigException(errors);
        }
    }

    /** A line and column in the file. */
    record Where(int line, int column) {
        static final Where TOP = new Where(1, 1);
    }
}
