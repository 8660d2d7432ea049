package river.config;

import java.util.List;

/** A file's content before command-line and environment overrides are applied. */
record RawConfig(SystemConfig system, List<ServiceConfig> services, Problems.Where systemWhere) {}
