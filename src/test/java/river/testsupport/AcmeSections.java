package river.testsupport;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An {@code acme} section for tests of listeners with acme-domains that are not about ordering: a CA address where
 * nothing listens (orders fail at once and back off), a fresh store, and a DNS-01 override for each wildcard named.
 */
public final class AcmeSections {
    private static final Pattern WILDCARD = Pattern.compile("\\*\\.(?:[a-z0-9-]+\\.)*[a-z0-9-]+", Pattern.CASE_INSENSITIVE);

    private AcmeSections() {}

    public static String unreachableCa(String text) {
        Set<String> wildcards = new LinkedHashSet<>();
        Matcher m = WILDCARD.matcher(text);
        while (m.find()) {
            if (m.start() == 0 || text.charAt(m.start() - 1) != '.') {
                wildcards.add(m.group().toLowerCase(java.util.Locale.ROOT));
            }
        }
        StringBuilder acme = new StringBuilder("acme {\n  provider \"https://127.0.0.1:9/directory\"\n  accept-terms-of-service true\n  store-dir \"")
                .append(System.getProperty("java.io.tmpdir")).append("/river-acme-test-").append(System.nanoTime()).append("\"\n");
        wildcards.forEach(w -> acme.append("  domain \"").append(w).append("\" challenge=\"dns-01\" hook=\"/bin/true\"\n"));
        return acme.append("}\n").toString();
    }
}
