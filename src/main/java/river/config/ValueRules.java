package river.config;

import io.netty.util.NetUtil;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The checks both file formats share: addresses, paths, regexes, CIDR lists, header names and the
 * cross-field rules for listeners and connectors. Each returns null (after recording an error) when
 * the value is invalid.
 */
final class ValueRules {
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Pattern HOST_NAME =
            Pattern.compile("(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?");

    private final Problems problems;
    private final Path workingDirectory;

    ValueRules(Problems problems, Path workingDirectory) {
        this.problems = problems;
        this.workingDirectory = workingDirectory;
    }

    /** {@code IPv4:port}, {@code [IPv6]:port} or {@code unix:/path}. */
    ListenAddress listenAddress(String text, Problems.Where where) {
        if (text.startsWith("unix:")) {
            String path = text.substring("unix:".length());
            if (path.isEmpty()) {
                problems.add(where, "listener \"" + text + "\": expected a socket path after unix:");
                return null;
            }
            return new ListenAddress.Unix(resolve(path));
        }
        String[] hostPort = hostAndPort(text, where, "listener");
        return hostPort == null ? null : new ListenAddress.Tcp(hostPort[0], Integer.parseInt(hostPort[1]));
    }

    /** {@code IPv4:port} or {@code [IPv6]:port}; returns {host, port}. */
    String[] hostAndPort(String text, Problems.Where where, String what) {
        String expected = what + " \"" + text + "\": expected an IP address and port, such as "
                + "\"127.0.0.1:8080\" or \"[::1]:8080\"" + (what.equals("listener") ? ", or unix:/path" : "");
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf("]:");
            if (close < 0) {
                problems.add(where, expected);
                return null;
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
            if (!NetUtil.isValidIpV6Address(host)) {
                problems.add(where, expected);
                return null;
            }
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                problems.add(where, expected);
                return null;
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
            if (!NetUtil.isValidIpV4Address(host)) {
                problems.add(where, expected);
                return null;
            }
        }
        if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65535) {
            problems.add(where, what + " \"" + text + "\": port must be a number from 0 to 65535");
            return null;
        }
        return new String[] {host, port};
    }

    /** A path relative to the working directory, as River resolves it. */
    Path resolve(String path) {
        return workingDirectory.resolve(path).normalize();
    }

    /** A path to a file that must exist and be readable. */
    Path readableFile(String path, String option, Problems.Where where) {
        Path p = resolve(path);
        if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
            problems.add(where, option + " \"" + path + "\": no readable file at " + p);
            return null;
        }
        return p;
    }

    /** A readable file holding one DER OCSP response (see {@link TlsSettings#readOcspResponse}). */
    Path ocspResponseFile(String path, String option, Problems.Where where) {
        Path p = readableFile(path, option, where);
        if (p == null) {
            return null;
        }
        try {
            TlsSettings.readOcspResponse(p);
        } catch (java.io.IOException e) {
            problems.add(where, option + " \"" + path + "\": " + e.getMessage());
            return null;
        }
        return p;
    }

    /** A path that must be absolute (River's rule for pid-file and upgrade-socket). */
    Path absolutePath(String path, String option, Problems.Where where) {
        if (!path.startsWith("/")) {
            problems.add(where, option + " must be an absolute path, found \"" + path + "\"");
            return null;
        }
        return Path.of(path).normalize();
    }

    Pattern regex(String text, String option, Problems.Where where) {
        return regex(text, option, where, 0);
    }

    Pattern regex(String text, String option, Problems.Where where, int flags) {
        try {
            return Pattern.compile(text, flags);
        } catch (PatternSyntaxException e) {
            problems.add(where, option + " is not a valid regular expression: " + e.getDescription()
                    + " near index " + e.getIndex() + " of \"" + text + "\"");
            return null;
        }
    }

    /** A comma-separated list of addresses and CIDR ranges. */
    List<CidrRange> cidrList(String text, Problems.Where where) {
        List<CidrRange> ranges = new ArrayList<>();
        boolean ok = true;
        for (String part : text.split(",", -1)) {
            CidrRange range = CidrRange.parse(part);
            if (range == null) {
                problems.add(where, "addrs: \"" + part.strip() + "\" is not an IP address or CIDR range "
                        + "(expected e.g. 10.0.0.0/8 or 2001:db8::/32)");
                ok = false;
            } else {
                ranges.add(range);
            }
        }
        return ok ? ranges : null;
    }

    String headerName(String text, String option, Problems.Where where) {
        if (!HEADER_NAME.matcher(text).matches()) {
            problems.add(where, option + " \"" + text + "\" is not a valid HTTP header name");
            return null;
        }
        return text;
    }

    String headerValue(String text, String option, Problems.Where where) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7F) {
                problems.add(where, option + " contains a control character, which HTTP header values cannot hold");
                return null;
            }
        }
        return text;
    }

    String serverName(String text, Problems.Where where) {
        return serverName(text, "tls-sni", where);
    }

    String serverName(String text, String option, Problems.Where where) {
        if (!HOST_NAME.matcher(text).matches()) {
            problems.add(where, option + " \"" + text + "\" is not a valid DNS name");
            return null;
        }
        return text;
    }

    /** A name River can get an ACME certificate for: DNS labels of letters, digits and '-' (or {@code *.} and such a name). */
    static final Pattern ACME_NAME =
            Pattern.compile("(?=.{1,253}$)(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");

    /** An {@code acme-domains} entry, already lower case and trimmed. */
    String acmeDomain(String name, Problems.Where where) {
        if (!ACME_NAME.matcher(name).matches()) {
            problems.add(where, "acme-domains: \"" + name + "\" is not a DNS name"
                    + (name.indexOf('*') >= 0 ? " (a wildcard is \"*.\" and a name, such as \"*.example.com\")" : ""));
            return null;
        }
        if (name.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'))) {
            problems.add(where, "acme-domains: \"" + name + "\" is an IP address; ACME certificates here are for DNS names");
            return null;
        }
        return name;
    }

    String tlsMinVersion(String text, Problems.Where where) {
        if (!text.equals("1.2") && !text.equals("1.3")) {
            problems.add(where, "tls-min-version must be \"1.2\" or \"1.3\", found \"" + text + "\"");
            return null;
        }
        return text;
    }

    List<String> tlsCiphers(String text, Problems.Where where) {
        List<String> out = new ArrayList<>();
        for (String part : text.split("[,:]")) {
            String name = part.strip();
            if (name.isEmpty()) {
                continue;
            }
            if (!TlsSettings.TLS12_CIPHERS.contains(name)) {
                problems.add(where, "tls-ciphers: \"" + name + "\" is not one of the supported suites "
                        + String.join(", ", new java.util.TreeSet<>(TlsSettings.TLS12_CIPHERS)));
                return null;
            }
            out.add(name);
        }
        if (out.isEmpty()) {
            problems.add(where, "tls-ciphers must name at least one cipher suite");
            return null;
        }
        return out;
    }

    /** The connector protocol, checking River's rule that only h1-only works without TLS. */
    UpstreamProto proto(String text, boolean tls, Problems.Where where) {
        UpstreamProto proto = UpstreamProto.fromConfigName(text);
        if (proto == null) {
            problems.add(where, "proto must be one of \"h1-only\", \"h2-only\", \"h2-or-h1\", found \"" + text + "\"");
            return null;
        }
        if (proto != UpstreamProto.H1_ONLY && !tls) {
            problems.add(where, "proto=\"" + text + "\" needs TLS to the connector: set tls-sni, or use proto=\"h1-only\"");
            return null;
        }
        return proto;
    }
}
