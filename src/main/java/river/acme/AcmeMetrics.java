package river.acme;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The ACME client's metrics, in the process's registry: orders by whether they were a first certificate or a renewal
 * and by outcome, failed orders by {@link OrderFailure kind}, renewal-information requests (RFC 9773) by outcome, and
 * when each managed name is next ordered, with where that time came from. Every label value comes from a fixed set or
 * from the configuration (the names of listeners' acme-domains). Counting happens on the ACME thread; the gauge is read
 * from the manager only when Prometheus scrapes.
 */
public final class AcmeMetrics {
    /** Where a name's next order time comes from. */
    enum Schedule {
        /** A time drawn in the CA's suggested window (ARI). */
        ARI("ari"),
        /** The configured rule (renew-before-expiry-days or renew-after-issue-days). */
        RULE("rule"),
        /** The next attempt after a failed order (or the first order, before any certificate). */
        RETRY("retry");

        final String label;

        Schedule(String label) {
            this.label = label;
        }
    }

    /** The outcome of a renewalInfo request. */
    enum RenewalInfoResult {
        WINDOW("window"), UNSUPPORTED("unsupported"), INVALID("invalid"), FAILED("failed");

        final String label;

        RenewalInfoResult(String label) {
            this.label = label;
        }
    }

    /** When a set of names is next ordered, and why then. */
    record NextOrder(Instant at, Schedule schedule) {}

    private final CounterDataPoint firstIssued;
    private final CounterDataPoint firstFailed;
    private final CounterDataPoint renewalIssued;
    private final CounterDataPoint renewalFailed;
    private final Map<OrderFailure, CounterDataPoint> failures = new EnumMap<>(OrderFailure.class);
    private final Map<RenewalInfoResult, CounterDataPoint> renewalInfo = new EnumMap<>(RenewalInfoResult.class);
    private volatile Supplier<Map<java.util.List<String>, NextOrder>> schedule = Map::of;

    /** Registers the ACME families in {@code registry} (once per registry: the process's, or a test's). */
    public AcmeMetrics(PrometheusRegistry registry) {
        Counter orders = Counter.builder().name("river_acme_orders")
                .help("ACME orders by kind (first certificate or renewal) and result (issued, failed)")
                .labelNames("order", "result").withoutExemplars().register(registry);
        firstIssued = orders.labelValues("first", "issued");
        firstFailed = orders.labelValues("first", "failed");
        renewalIssued = orders.labelValues("renewal", "issued");
        renewalFailed = orders.labelValues("renewal", "failed");
        Counter failed = Counter.builder().name("river_acme_order_failures")
                .help("Failed ACME orders by kind (challenge_failed, ca_unreachable, rate_limited, lock_not_taken, profile_not_offered, ca_error, other)")
                .labelNames("kind").withoutExemplars().register(registry);
        for (OrderFailure kind : OrderFailure.values()) {
            failures.put(kind, failed.labelValues(kind.label));
        }
        Counter info = Counter.builder().name("river_acme_renewal_info_requests")
                .help("ACME Renewal Information (RFC 9773) requests by result (window, unsupported, invalid, failed)")
                .labelNames("result").withoutExemplars().register(registry);
        for (RenewalInfoResult result : RenewalInfoResult.values()) {
            renewalInfo.put(result, info.labelValues(result.label));
        }
        GaugeWithCallback.builder().name("river_acme_next_order_timestamp_seconds").unit(Unit.SECONDS)
                .help("When River next orders a certificate for the name, and from what: ari (a time in the CA's window), "
                        + "rule (the configured renewal rule), retry (after a failure, or before the first certificate)")
                .labelNames("name", "schedule")
                .callback(cb -> byName(schedule.get()).forEach((name, next) ->
                        cb.call(next.at().toEpochMilli() / 1000.0, name, next.schedule().label)))
                .register(registry);
    }

    /** Families registered nowhere: for a manager built without the process's registry. */
    static AcmeMetrics unregistered() {
        return new AcmeMetrics(new PrometheusRegistry());
    }

    /** Where the gauge reads each set's next order. */
    void watch(Supplier<Map<java.util.List<String>, NextOrder>> nextOrders) {
        this.schedule = nextOrders;
    }

    void ordered(boolean renewal, boolean issued) {
        (renewal ? issued ? renewalIssued : renewalFailed : issued ? firstIssued : firstFailed).inc();
    }

    void failed(OrderFailure kind) {
        failures.get(kind).inc();
    }

    void renewalInfo(RenewalInfoResult result) {
        renewalInfo.get(result).inc();
    }

    /** One sample per name: a name in two sets reports the sooner of their next orders. */
    static Map<String, NextOrder> byName(Map<java.util.List<String>, NextOrder> bySet) {
        Map<String, NextOrder> out = new TreeMap<>();
        bySet.forEach((names, next) -> {
            for (String name : names) {
                out.merge(name, next, (a, b) -> b.at().isBefore(a.at()) ? b : a);
            }
        });
        return out;
    }
}
