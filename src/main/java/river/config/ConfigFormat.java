package river.config;

/** The two file formats River reads. */
public enum ConfigFormat {
    KDL,
    TOML
}
