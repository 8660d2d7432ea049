package river.cli;

/** Every environment variable River reads, with what it sets; {@code --list-env-vars} prints them. */
enum EnvironmentVariable {
    RIVER_CONFIG_KDL("path of a KDL configuration file (like --config-kdl)"),
    RIVER_CONFIG_TOML("path of a TOML configuration file (like --config-toml)"),
    RIVER_THREADS_PER_SERVICE("worker threads per service (like --threads-per-service; overrides system.threads-per-service)"),
    RIVER_DAEMONIZE("true or false: run in the background (like --daemonize; overrides system.daemonize)"),
    RIVER_PIDFILE("absolute path of the pid file (like --pidfile; overrides system.pid-file)"),
    RIVER_UPGRADE("true or false: take over listeners from a running River (like --upgrade)"),
    RIVER_UPGRADE_SOCKET("absolute path of the upgrade socket (like --upgrade-socket; overrides system.upgrade-socket)"),
    RIVER_LOG_LEVEL("log level: error, warn, info (default), debug or trace"),
    RIVER_LOG_FILE("with daemonize: the file standard output and error go to (like --log-file; default /dev/null)"),
    RIVER_DAEMON_CHILD("internal: set by --daemonize in the background process it starts; never set it yourself"),
    NOTIFY_SOCKET("systemd's notify socket (Type=notify): River sends READY=1, RELOADING=1, STOPPING=1 and MAINPID"),
    LISTEN_PID("systemd socket activation: the process the passed sockets are for"),
    LISTEN_FDS("systemd socket activation: how many listening sockets were passed, from descriptor 3"),
    LISTEN_FDNAMES("systemd socket activation: the sockets' names (FileDescriptorName=), colon-separated");

    private final String description;

    EnvironmentVariable(String description) {
        this.description = description;
    }

    String description() {
        return description;
    }
}
