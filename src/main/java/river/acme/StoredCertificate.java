package river.acme;

import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A certificate obtained for a set of names: its key, its chain (leaf first), and when River obtained it.
 *
 * @param names the managed names, as the listener lists them
 */
public record StoredCertificate(List<String> names, PrivateKey key, List<X509Certificate> chain, Instant issuedAt) {
    public StoredCertificate {
        names = List.copyOf(names);
        chain = List.copyOf(chain);
    }

    public X509Certificate leaf() {
        return chain.get(0);
    }

    public Instant notBefore() {
        return leaf().getNotBefore().toInstant();
    }

    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    /** Why this certificate cannot serve its names (key not the leaf's, a name not in its subjectAltName), or null. */
    String problem() {
        if (!AcmeStore.matches(key, leaf().getPublicKey())) {
            return "key.pem is not the key of the certificate in fullchain.pem";
        }
        Set<String> sans = new HashSet<>();
        try {
            if (leaf().getSubjectAlternativeNames() != null) {
                for (List<?> san : leaf().getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(san.get(0))) {
                        sans.add(((String) san.get(1)).toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            return "unreadable subjectAltName: " + e.getMessage();
        }
        for (String name : names) {
            if (!sans.contains(name.toLowerCase(Locale.ROOT))) {
                return "the certificate does not name " + name + " (it names " + sans + ")";
            }
        }
        return null;
    }
}
