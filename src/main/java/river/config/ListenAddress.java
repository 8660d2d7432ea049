package river.config;

import java.nio.file.Path;

/** Where a listener binds: a TCP address or a Unix domain socket path. */
public sealed interface ListenAddress {

    /** A TCP address; {@code host} is an IPv4 or IPv6 literal (without brackets). */
    record Tcp(String host, int port) implements ListenAddress {
        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /** A Unix domain socket, written {@code unix:/path/to.sock}. */
    record Unix(Path path) implements ListenAddress {
        @Override
        public String toString() {
            return "unix:" + path;
        }
    }
}
