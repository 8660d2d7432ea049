package river.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.toolbox.AcmeUtils;

/** The ARI certificate identifier (RFC 9773 §4.1), on the RFC's own example certificate. */
class AriIdentifierTest {
    /** RFC 9773, Appendix A. */
    private static final String RFC_EXAMPLE = """
            -----BEGIN CERTIFICATE-----
            MIIBQzCB66ADAgECAgUAh2VDITAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpFeGFt
            cGxlIENBMCIYDzAwMDEwMTAxMDAwMDAwWhgPMDAwMTAxMDEwMDAwMDBaMBYxFDAS
            BgNVBAMTC2V4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeBZu
            7cbpAYNXZLbbh8rNIzuOoqOOtmxA1v7cRm//AwyMwWxyHz4zfwmBhcSrf47NUAFf
            qzLQ2PPQxdTXREYEnKMjMCEwHwYDVR0jBBgwFoAUaYhba4dGQEHhs3uEe6CuLN4B
            yNQwCgYIKoZIzj0EAwIDRwAwRAIge09+S5TZAlw5tgtiVvuERV6cT4mfutXIlwTb
            +FYN/8oCIClDsqBklhB9KAelFiYt9+6FDj3z4KGVelYM5MdsO3pK
            -----END CERTIFICATE-----
            """;

    @Test
    void theRfcExampleCertificateIsNamedAsTheRfcSays() throws Exception {
        X509Certificate example = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(RFC_EXAMPLE.getBytes(StandardCharsets.US_ASCII)));
        // Serial 0x87654321 has its high bit set: DER keeps a leading zero byte, which the identifier keeps too.
        assertThat(AriIdentifier.of(example)).isEqualTo("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    }

    @Test
    void aSerialWithoutTheHighBitHasNoLeadingZeroAndAgreesWithAcme4j() throws Exception {
        StoredCertificate c = TestCertificates.issueWithAki(List.of("example.com"), Instant.parse("2026-01-01T00:00:00Z"),
                Instant.parse("2026-04-01T00:00:00Z"), new BigInteger("0123456789abcdef", 16));
        String id = AriIdentifier.of(c.leaf());
        assertThat(id).endsWith(".ASNFZ4mrze8");
        assertThat(id).isEqualTo(AcmeUtils.getRenewalUniqueIdentifier(c.leaf()));
    }

    @Test
    void aCertificateWithoutAuthorityKeyIdentifierHasNone() throws Exception {
        StoredCertificate c = TestCertificates.issue(List.of("example.com"), Instant.parse("2026-01-01T00:00:00Z"),
                Instant.parse("2026-04-01T00:00:00Z"), Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(c.leaf().getExtensionValue("2.5.29.35")).isNull();
        assertThatThrownBy(() -> AriIdentifier.of(c.leaf())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Authority Key Identifier");
    }
}
