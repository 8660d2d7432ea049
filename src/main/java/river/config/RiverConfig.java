package river.config;

import java.util.List;
import java.util.Optional;

/**
 * A whole, validated River configuration: system settings, the services to run, and the ACME section
 * when certificates are managed (see docs/acme.md).
 */
public record RiverConfig(SystemConfig system, List<ServiceConfig> services, Optional<AcmeConfig> acme) {
    public RiverConfig {
        services = List.copyOf(services);
    }

    public RiverConfig(SystemConfig system, List<ServiceConfig> services) {
        this(system, services, Optional.empty());
    }
}
