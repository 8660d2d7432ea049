package river.observe;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import river.proxy.ProxyError;

/** One upstream server's prepared data points within a service. */
final class PeerMetrics {
    final StatusSlots<DistributionDataPoint> duration;
    final DistributionDataPoint timeToFirstByte;
    final DistributionDataPoint connectDuration;
    final CounterDataPoint newConnection;
    final CounterDataPoint reusedConnection;
    private final CounterDataPoint[] errors = new CounterDataPoint[ProxyError.Kind.values().length];

    PeerMetrics(Metrics families, String service, String address, String port) {
        duration = new StatusSlots<>(status -> families.clientDuration.labelValues(service, address, port, status));
        timeToFirstByte = families.timeToFirstByte.labelValues(service, address, port);
        connectDuration = families.connectDuration.labelValues(service, address, port);
        newConnection = families.connectionUses.labelValues(service, address, port, "new");
        reusedConnection = families.connectionUses.labelValues(service, address, port, "reused");
        for (ProxyError.Kind kind : ProxyError.Kind.values()) {
            if (ProxyError.of(kind).blamesUpstream()) {
                errors[kind.ordinal()] = families.upstreamErrors.labelValues(service, address, port, ServiceMetrics.kindLabel(kind));
            }
        }
    }

    /** The counter of an error the upstream is to blame for, or null for one it is not. */
    CounterDataPoint error(ProxyError error) {
        return errors[error.kind().ordinal()];
    }
}
