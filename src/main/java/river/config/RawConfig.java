package river.config;

import java.util.List;
import java.util.Optional;

/** A file's content before command-line and environment overrides are applied. */
record RawConfig(SystemConfig system, List<ServiceConfig> services, Problems.Where systemWhere, Optional<AcmeConfig> acme) {
    RawConfig(SystemConfig system, List<ServiceConfig> services, Problems.Where systemWhere) {
        this(system, services, systemWhere, Optional.empty());
    }
}
