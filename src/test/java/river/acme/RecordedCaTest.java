package river.acme;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedDeque;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.config.AcmeConfig;
import river.testsupport.LogCapture;
import river.testsupport.Scrape;
import river.testsupport.TestPki;

/**
 * ARI (RFC 9773) against recorded answers of Let's Encrypt's shape, served over HTTPS on loopback by the JDK's server
 * (Debian's Pebble 2.4.0 has no renewalInfo): River's real client (acme4j, the configured CA certificate, the stored
 * account) asks for a stored certificate's window, and the manager schedules by what comes back — a window ahead, one
 * that moved, one already past, 5xx and 404 answers, a truncated and an inverted one — under a hand-moved clock. A
 * renewal then names the certificate it replaces, and orders again without when the CA says it was already replaced.
 * Profiles (Pebble 2.4.0 has none either): a {@code shortlived} order and its 6-day certificate, a profile the CA does not
 * list, and a CA that lists none.
 */
class RecordedCaTest {
    private static final List<String> NAMES = List.of("river-ari.test", "www.river-ari.test");
    private static final Instant NOT_BEFORE = Instant.parse("2026-01-01T00:00:00Z");
    private static final Instant NOT_AFTER = Instant.parse("2026-04-01T00:00:00Z");
    private static final String ARI_PATH = "/draft-ietf-acme-ari-03/renewalInfo/";
    /** Let's Encrypt's {@code shortlived} profile: 160 hours. */
    private static final Duration SHORTLIVED = Duration.ofHours(160);

    /** One recorded answer: status, content type, Retry-After (or null), body (a resource under acme/letsencrypt, or null). */
    record Answer(int status, String type, String retryAfter, String resource) {
        static Answer json(String resource, String retryAfter) {
            return new Answer(200, "application/json", retryAfter, resource);
        }

        static Answer problem(int status, String resource, String retryAfter) {
            return new Answer(status, "application/problem+json", retryAfter, resource);
        }
    }

    @TempDir
    Path tmp;

    private HttpsServer server;
    private String base;
    private final ConcurrentLinkedDeque<Answer> renewalInfoAnswers = new ConcurrentLinkedDeque<>();
    private final ConcurrentLinkedDeque<Answer> orderAnswers = new ConcurrentLinkedDeque<>();
    private final List<String> renewalInfoPaths = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<JsonNode> orderPayloads = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<String> finalized = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The directory served: Let's Encrypt's, with its profiles, unless a test serves another. */
    private volatile String directory = "directory.json";
    /** The leaf made for the CSR of the last finalize request. */
    private volatile java.security.cert.X509Certificate issued;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T06:00:00Z"));
    private final PrometheusRegistry registry = new PrometheusRegistry();

    @BeforeEach
    void startRecordedCa() throws Exception {
        TestPki.Pair tls = TestPki.server("localhost", "localhost");
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("ca", tls.privateKey(), new char[0], tls.chain().toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), null, null);
        InetAddress localhost = InetAddress.getByName("localhost");
        server = HttpsServer.create(new InetSocketAddress(localhost, 0), 16);
        server.setHttpsConfigurator(new HttpsConfigurator(ssl));
        base = "https://localhost:" + server.getAddress().getPort();
        server.createContext("/directory", ex -> answer(ex, Answer.json(directory, null)));
        server.createContext("/acme/new-nonce", ex -> {
            ex.getResponseHeaders().add("Replay-Nonce", "nonce" + System.nanoTime());
            ex.getResponseHeaders().add("Cache-Control", "no-store");
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.createContext(ARI_PATH, ex -> {
            renewalInfoPaths.add(ex.getRequestURI().getPath());
            answer(ex, renewalInfoAnswers.poll());
        });
        // The stored account, fetched when River logs in (its contacts are compared with the acme section's: none).
        server.createContext("/acme/acct/", ex -> answer(ex, Answer.json("account.json", null)));
        server.createContext("/acme/new-order", ex -> {
            JsonNode jws = new ObjectMapper().readTree(ex.getRequestBody().readAllBytes());
            orderPayloads.add(new ObjectMapper().readTree(Base64.getUrlDecoder().decode(jws.path("payload").asText())));
            Answer a = orderAnswers.poll();
            if (a != null && a.status() == 201) {
                ex.getResponseHeaders().add("Location", base + "/acme/order/2074123456/380000001");
            }
            answer(ex, a);
        });
        // An order on reused authorizations: each valid, then the finalize request and the certificate for its CSR.
        server.createContext("/acme/authz/", ex -> {
            String path = ex.getRequestURI().getPath();
            answer(ex, Answer.json("authorization-" + path.substring(path.lastIndexOf('/') + 1) + ".json", null));
        });
        server.createContext("/acme/finalize/", ex -> {
            JsonNode jws = new ObjectMapper().readTree(ex.getRequestBody().readAllBytes());
            JsonNode payload = new ObjectMapper().readTree(Base64.getUrlDecoder().decode(jws.path("payload").asText()));
            var csr = new org.bouncycastle.pkcs.PKCS10CertificationRequest(Base64.getUrlDecoder().decode(payload.path("csr").asText()));
            finalized.add(csr.getSubject().toString());
            try {
                issued = TestCertificates.issueFor(csr, NAMES, clock.instant(), clock.instant().plus(SHORTLIVED));
            } catch (Exception e) {
                throw new IOException(e);
            }
            answer(ex, Answer.json("order-valid-shortlived.json", null));
        });
        server.createContext("/acme/order/", ex -> answer(ex, Answer.json("order-valid-shortlived.json", null)));
        server.createContext("/acme/cert/", ex -> {
            try (ex) {
                ex.getRequestBody().readAllBytes();
                StringBuilder pem = new StringBuilder();
                for (java.security.cert.X509Certificate c : List.of(issued, TestCertificates.ROOT)) {
                    pem.append("-----BEGIN CERTIFICATE-----\n").append(Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(c.getEncoded()))
                            .append("\n-----END CERTIFICATE-----\n");
                }
                byte[] body = pem.toString().getBytes(StandardCharsets.US_ASCII);
                ex.getResponseHeaders().add("Content-Type", "application/pem-certificate-chain");
                ex.getResponseHeaders().add("Replay-Nonce", "nonce" + System.nanoTime());
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new IOException(e);
            }
        });
        server.start();
    }

    @AfterEach
    void stopRecordedCa() {
        server.stop(0);
    }

    private void answer(HttpExchange ex, Answer a) throws IOException {
        try (ex) {
            ex.getRequestBody().readAllBytes();
            if (a == null) {
                throw new IllegalStateException("no recorded answer left for " + ex.getRequestURI());
            }
            byte[] body = new byte[0];
            if (a.resource() != null) {
                try (InputStream in = getClass().getResourceAsStream("/acme/letsencrypt/" + a.resource())) {
                    body = new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("{base}", base).getBytes(StandardCharsets.UTF_8);
                }
            }
            ex.getResponseHeaders().add("Content-Type", a.type());
            ex.getResponseHeaders().add("Replay-Nonce", "nonce" + System.nanoTime());
            if (a.retryAfter() != null) {
                ex.getResponseHeaders().add("Retry-After", a.retryAfter());
            }
            ex.sendResponseHeaders(a.status(), body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                ex.getResponseBody().write(body);
            }
        }
    }

    /** A manager over a store holding the account and a certificate whose AKI and serial the answers are for. */
    private CertificateManager manager(StoredCertificate stored) throws Exception {
        return manager(Optional.of(stored), new AcmeConfig.Renewal.BeforeExpiry(30), Optional.empty());
    }

    /** A manager over a store holding the account (and {@code stored}, if any), ordering with {@code profile}. */
    private CertificateManager manager(Optional<StoredCertificate> stored, AcmeConfig.Renewal rule, Optional<String> profile) throws Exception {
        AcmeConfig config = new AcmeConfig(URI.create(base + "/directory"), List.of(), tmp.resolve("store"), rule, AcmeConfig.Challenge.HTTP_01,
                Optional.empty(), 0, List.of(), AcmeConfig.KeyType.ECDSA_P256, Optional.of(TestPki.caCertificate()), Optional.empty(), profile);
        AcmeStore store = AcmeStore.open(config.storeDir());
        store.saveAccount(config.directory().toString(), AcmeClient.newKey(AcmeConfig.KeyType.ECDSA_P256), base + "/acme/acct/2074123456");
        if (stored.isPresent()) {
            store.save(stored.get());
        }
        AcmeClient client = new AcmeClient(config, store, new ChallengeBoard(), new CertificateManagerTest.Installs(), d -> {}, clock);
        return new CertificateManager(store, client, client, new CertificateManagerTest.Installs(), config.renewal(), clock, new Random(7),
                new AcmeMetrics(registry));
    }

    private static StoredCertificate certificate() throws Exception {
        return TestCertificates.issueWithAki(NAMES, NOT_BEFORE, NOT_AFTER, new BigInteger("4a7b0d2c9e1f00000000000000f1e2", 16));
    }

    @Test
    void riverSchedulesByTheRecordedAnswersAndFallsBackWhenTheyFail() throws Exception {
        StoredCertificate stored = certificate();
        CertificateManager m = manager(stored);
        String id = AriIdentifier.of(stored.leaf());
        Instant start = Instant.parse("2026-03-01T08:14:31Z");
        Instant end = Instant.parse("2026-03-03T08:14:31Z");
        try (LogCapture log = LogCapture.of(CertificateManager.class.getName())) {
            // A window ahead, Retry-After 6 h: renewal at a time drawn in it; asked again in 6 h.
            renewalInfoAnswers.add(Answer.json("renewal-info-ahead.json", "21600"));
            m.manage(NAMES);
            Instant t0 = clock.instant();
            Instant next = m.runDue();
            assertThat(renewalInfoPaths).containsExactly(ARI_PATH + id);
            Instant at = m.renewalFromWindow(NAMES).orElseThrow();
            assertThat(at).isAfterOrEqualTo(start).isBefore(end);
            // Retry-After counts from the answer's Date header, which has whole seconds: up to one second early.
            Instant retry = t0.plus(Duration.ofHours(6));
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("suggests renewing the certificate for " + NAMES + " between " + start
                    + " and " + end, "renewing at " + at).containsAnyOf("next asked at " + retry, "next asked at " + retry.minusSeconds(1)));
            assertThat(next).isBefore(t0.plus(Duration.ofHours(1).plus(RenewalTimes.MAX_JITTER)).plusMillis(1));

            // 500 with a problem document, then 503 without one: temporary, asked again after 1, then 2 minutes; the window stays.
            renewalInfoAnswers.add(Answer.problem(500, "problem-server-internal.json", null));
            renewalInfoAnswers.add(new Answer(503, "text/html", null, null));
            clock.set(t0.plus(Duration.ofHours(6)));
            assertThat(m.runDue()).isEqualTo(clock.instant().plus(Duration.ofMinutes(1)));
            clock.advance(Duration.ofMinutes(1));
            assertThat(m.runDue()).isEqualTo(clock.instant().plus(Duration.ofMinutes(2)));
            assertThat(m.renewalFromWindow(NAMES)).contains(at);
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("serverInternal", "temporary", "in the window the CA gave before"));

            // A truncated answer, then an inverted window: long-term errors, six hours each.
            renewalInfoAnswers.add(Answer.json("renewal-info-truncated.json", "21600"));
            renewalInfoAnswers.add(Answer.json("renewal-info-inverted.json", "21600"));
            clock.advance(Duration.ofMinutes(2));
            Instant truncatedAt = clock.instant();
            runUntilAsked(m, 4);
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("failed (invalid answer", "asking again at " + truncatedAt.plus(Duration.ofHours(6))));
            clock.set(truncatedAt.plus(Duration.ofHours(6)));
            runUntilAsked(m, 5);
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("ends (" + start + ") before it starts (" + end + ")"));
            assertThat(m.renewalFromWindow(NAMES)).contains(at);

            // A window the CA moved earlier, Retry-After below the one-minute floor: a new time in it, asked again in a minute.
            renewalInfoAnswers.add(Answer.json("renewal-info-moved.json", "5"));
            clock.advance(Duration.ofHours(6));
            Instant movedAt = clock.instant();
            runUntilAsked(m, 6);
            Instant moved = m.renewalFromWindow(NAMES).orElseThrow();
            assertThat(moved).isAfterOrEqualTo(Instant.parse("2026-02-20T08:14:31Z")).isBefore(Instant.parse("2026-02-21T08:14:31Z"));
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("next asked at " + movedAt.plus(Duration.ofMinutes(1))));

            // 404 (the CA does not know the certificate): long-term; without a window the configured rule would apply.
            renewalInfoAnswers.add(Answer.problem(404, "problem-not-found.json", null));
            clock.advance(Duration.ofMinutes(1));
            Instant notFoundAt = clock.instant();
            runUntilAsked(m, 7);
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("Certificate not found", "asking again at " + notFoundAt.plus(Duration.ofHours(6))));
            assertThat(m.nextOrders().get(NAMES)).isEqualTo(new AcmeMetrics.NextOrder(moved, AcmeMetrics.Schedule.ARI));
        }
        Scrape s = Scrape.of(registry);
        assertThat(s.sum("river_acme_renewal_info_requests_total", "result", "window")).isEqualTo(2);
        assertThat(s.sum("river_acme_renewal_info_requests_total", "result", "failed")).isEqualTo(3);
        assertThat(s.sum("river_acme_renewal_info_requests_total", "result", "invalid")).isEqualTo(2);
        assertThat(s.sum("river_acme_orders_total")).isZero();
        assertThat(renewalInfoPaths).hasSize(7).allMatch((ARI_PATH + id)::equals);
    }

    @Test
    void aPastWindowRenewsNowNamingTheCertificateItReplaces() throws Exception {
        StoredCertificate stored = certificate();
        CertificateManager m = manager(stored);
        String id = AriIdentifier.of(stored.leaf());
        renewalInfoAnswers.add(Answer.json("renewal-info-past.json", "21600"));
        orderAnswers.add(Answer.problem(409, "problem-already-replaced.json", null));
        orderAnswers.add(Answer.problem(429, "problem-rate-limited.json", "3600"));
        try (LogCapture manager = LogCapture.of(CertificateManager.class.getName()); LogCapture client = LogCapture.of(AcmeClient.class.getName())) {
            m.manage(NAMES);
            m.runDue();
            assertThat(manager.lines()).anySatisfy(l -> assertThat(l).contains("the window is past: renewing now"));
            assertThat(manager.lines()).anySatisfy(l -> assertThat(l).contains("the CA explains the renewal window for " + NAMES
                    + " at https://community.letsencrypt.org/t/revoking-certain-certificates-on-march-4/114864"));
            assertThat(client.lines()).anySatisfy(l -> assertThat(l).contains("was already replaced", "ordering without replaces"));
            assertThat(manager.lines()).anySatisfy(l -> assertThat(l).contains("failed (attempt 1 in a row", "rate_limited", "rateLimited"));
        }
        assertThat(orderPayloads).hasSize(2);
        assertThat(orderPayloads.get(0).path("replaces").asText()).isEqualTo(id);
        List<String> identifiers = new ArrayList<>();
        orderPayloads.get(0).path("identifiers").forEach(i -> identifiers.add(i.path("value").asText()));
        assertThat(identifiers).containsExactlyInAnyOrderElementsOf(NAMES);
        assertThat(orderPayloads.get(1).has("replaces")).isFalse();
        assertThat(m.failures(NAMES)).isEqualTo(1);
        assertThat(m.current(NAMES)).contains(stored); // still in service
        Scrape s = Scrape.of(registry);
        assertThat(s.sum("river_acme_orders_total", "order", "renewal", "result", "failed")).isEqualTo(1);
        assertThat(s.sum("river_acme_order_failures_total", "kind", "rate_limited")).isEqualTo(1);
        assertThat(s.sum("river_acme_next_order_timestamp_seconds", "name", "river-ari.test", "schedule", "retry"))
                .isEqualTo(m.nextAttempt(NAMES).orElseThrow().toEpochMilli() / 1000.0);
    }

    @Test
    void aShortlivedOrderAsksForItsProfileAndItsSixDayCertificateIsRenewedWithAThirdOfItsLifetimeLeft() throws Exception {
        CertificateManager m = manager(Optional.empty(), new AcmeConfig.Renewal.Default(), Optional.of("shortlived"));
        orderAnswers.add(new Answer(201, "application/json", null, "order-ready-shortlived.json"));
        try (LogCapture client = LogCapture.of(AcmeClient.class.getName())) {
            m.manage(NAMES);
            m.runDue();
            assertThat(client.lines()).anySatisfy(l -> assertThat(l).contains("ACME: order " + base + "/acme/order/2074123456/380000001 for "
                    + NAMES + " created with profile shortlived"));
        }
        assertThat(orderPayloads).singleElement().satisfies(p -> {
            assertThat(p.path("profile").asText()).isEqualTo("shortlived");
            List<String> identifiers = new ArrayList<>();
            p.path("identifiers").forEach(i -> identifiers.add(i.path("value").asText()));
            assertThat(identifiers).containsExactlyInAnyOrderElementsOf(NAMES);
        });
        assertThat(finalized).hasSize(1);
        StoredCertificate current = m.current(NAMES).orElseThrow();
        assertThat(current.leaf()).isEqualTo(issued);
        assertThat(Duration.between(current.notBefore(), current.notAfter())).isEqualTo(SHORTLIVED);
        assertThat(AcmeStore.open(tmp.resolve("store")).certificate(NAMES)).isPresent();
        // Not due from birth (the 30 days of River 0.8's default are longer than its life): 53 h 20 min before expiry.
        assertThat(m.nextOrders().get(NAMES)).isEqualTo(new AcmeMetrics.NextOrder(current.notAfter().minus(SHORTLIVED.dividedBy(3)),
                AcmeMetrics.Schedule.RULE));
        assertThat(Scrape.of(registry).sum("river_acme_orders_total", "order", "first", "result", "issued")).isEqualTo(1);
    }

    @Test
    void aProfileTheCaDoesNotListFailsTheOrderNamingTheOffersAndBacksOff() throws Exception {
        CertificateManager m = manager(Optional.empty(), new AcmeConfig.Renewal.Default(), Optional.of("6day"));
        Instant t0 = clock.instant();
        try (LogCapture manager = LogCapture.of(CertificateManager.class.getName())) {
            m.manage(NAMES);
            assertThat(m.runDue()).isEqualTo(t0.plus(Duration.ofMinutes(1)));
            assertThat(manager.lines()).anySatisfy(l -> assertThat(l).endsWith("ACME: order for " + NAMES + " failed (attempt 1 in a row; next attempt at "
                    + t0.plus(Duration.ofMinutes(1)) + "): profile_not_offered: the CA at " + base + "/directory does not offer the profile \"6day\" "
                    + "asked for " + NAMES + "; it offers classic, shortlived, tlsserver: set the acme section's profile to one of them, or remove it"));
            assertThat(m.runDue()).as("not again before the backoff").isEqualTo(t0.plus(Duration.ofMinutes(1)));
            clock.advance(Duration.ofMinutes(1));
            assertThat(m.runDue()).isEqualTo(t0.plus(Duration.ofMinutes(3)));
            assertThat(manager.lines()).anySatisfy(l -> assertThat(l).contains("attempt 2 in a row", "does not offer the profile \"6day\""));
        }
        assertThat(orderPayloads).as("no order sent to the CA").isEmpty();
        assertThat(m.failures(NAMES)).isEqualTo(2);
        Scrape s = Scrape.of(registry);
        assertThat(s.sum("river_acme_order_failures_total", "kind", "profile_not_offered")).isEqualTo(2);
        assertThat(s.sum("river_acme_orders_total", "order", "first", "result", "failed")).isEqualTo(2);
    }

    @Test
    void aCaThatListsNoProfilesGetsOrdersWithoutOneAndTheLogSaysSoOnce() throws Exception {
        directory = "directory-without-profiles.json";
        CertificateManager m = manager(Optional.empty(), new AcmeConfig.Renewal.Default(), Optional.of("shortlived"));
        orderAnswers.add(Answer.problem(429, "problem-rate-limited.json", "3600"));
        orderAnswers.add(Answer.problem(429, "problem-rate-limited.json", "3600"));
        try (LogCapture client = LogCapture.of(AcmeClient.class.getName())) {
            m.manage(NAMES);
            m.runDue();
            clock.set(m.nextAttempt(NAMES).orElseThrow()); // Retry-After, held to 24 h
            m.runDue();
            assertThat(client.lines()).filteredOn(l -> l.contains("lists no profiles")).singleElement().satisfies(l -> assertThat(l).isEqualTo(
                    "ACME: the CA at " + base + "/directory lists no profiles (no meta.profiles in its directory): profile \"shortlived\" is ignored; "
                            + "the order for " + NAMES + " and all later ones get the CA's default (logged once)"));
        }
        assertThat(orderPayloads).hasSize(2).allSatisfy(p -> {
            assertThat(p.has("profile")).isFalse();
            assertThat(p.path("identifiers")).hasSize(2);
        });
        assertThat(m.failures(NAMES)).isEqualTo(2);
    }

    /** Runs what is due, moving the clock to each next attempt, until the CA was asked {@code n} times; at most 100 runs. */
    private void runUntilAsked(CertificateManager m, int n) {
        for (int i = 0; i < 100 && renewalInfoPaths.size() < n; i++) {
            Instant next = m.runDue();
            if (renewalInfoPaths.size() < n && next.isAfter(clock.instant())) {
                clock.set(next);
            }
        }
        assertThat(renewalInfoPaths).hasSize(n);
    }
}
