package river.config;

import java.nio.file.Path;
import java.util.List;

/** What a service does with a request: proxy it to connectors, or serve files. */
public sealed interface ServiceHandler {

    /** Proxy to upstream connectors chosen by the load-balance settings. */
    record Proxy(List<ConnectorConfig> connectors, LoadBalanceConfig loadBalance) implements ServiceHandler {
        public Proxy {
            connectors = List.copyOf(connectors);
        }
    }

    /** Serve the files below {@code basePath} (River's {@code file-server}). */
    record FileServer(Path basePath) implements ServiceHandler {}
}
