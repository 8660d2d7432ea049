package river.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import river.kdl.KdlDocument;
import river.kdl.KdlParseException;
import river.kdl.KdlParser;

/**
 * Reads a configuration file (KDL or River's TOML), applies overrides from the command line and the
 * environment, and validates the result into a {@link RiverConfig}. Relative paths in the file are
 * resolved against the working directory, as River does.
 */
public final class ConfigLoader {
    private final Path workingDirectory;

    public ConfigLoader(Path workingDirectory) {
        this.workingDirectory = workingDirectory.toAbsolutePath();
    }

    public RiverConfig load(Path file, ConfigFormat format, SystemOverrides overrides) throws ConfigException {
        String name = file.toString();
        String text;
        try {
            byte[] bytes = Files.readAllBytes(workingDirectory.resolve(file));
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException(List.of(new ConfigError(name, 1, 1, "file is not valid UTF-8")));
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigError(name, 1, 1, "cannot read the file: " + describe(e))));
        }
        return parse(text, name, format, overrides);
    }

    /** Validates configuration text; {@code name} is what errors call the file. */
    public RiverConfig parse(String text, String name, ConfigFormat format, SystemOverrides overrides) throws ConfigException {
        Problems problems = new Problems(name);
        RawConfig raw;
        if (format == ConfigFormat.KDL) {
            KdlDocument document;
            try {
                document = KdlParser.parse(text);
            } catch (KdlParseException e) {
                throw new ConfigException(List.of(new ConfigError(name, e.position().line(), e.position().column(),
                        "KDL syntax error: " + e.reason())));
            }
            raw = new KdlConfigReader(problems, workingDirectory).read(document);
        } else {
            raw = new TomlConfigReader(problems, workingDirectory, text).read();
        }
        SystemConfig system = raw == null ? SystemConfig.defaults() : overrides.applyTo(raw.system());
        if (raw != null && system.daemonize() && system.pidFile().isEmpty()) {
            problems.add(raw.systemWhere(), "daemonize is true but no pid-file is set; set system.pid-file, --pidfile or RIVER_PIDFILE");
        }
        if (system.threadsPerService() < 1) {
            problems.add(raw == null ? Problems.Where.TOP : raw.systemWhere(), "threads-per-service must be at least 1");
        }
        problems.throwIfAny();
        return new RiverConfig(system, raw.services(), raw.acme());
    }

    private static String describe(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
