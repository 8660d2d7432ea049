package river.config;

/** The HTTP versions River may use towards a connector, in River's spelling. */
public enum UpstreamProto {
    H1_ONLY("h1-only"),
    H2_ONLY("h2-only"),
    H2_OR_H1("h2-or-h1");

    private final String configName;

    UpstreamProto(String configName) {
        this.configName = configName;
    }

    /** The name used in configuration files. */
    public String configName() {
        return configName;
    }

    /** The protocol with this configuration name, or null. */
    static UpstreamProto fromConfigName(String name) {
        for (UpstreamProto p : values()) {
            if (p.configName.equals(name)) {
                return p;
            }
        }
        return null;
    }
}
