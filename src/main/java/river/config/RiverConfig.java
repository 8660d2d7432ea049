package river.config;

import java.util.List;

/** A whole, validated River configuration: system settings and the services to run. */
public record RiverConfig(SystemConfig system, List<ServiceConfig> services) {
    public RiverConfig {
        services = List.copyOf(services);
    }
}
