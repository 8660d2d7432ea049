package river.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import river.kdl.KdlDocument;
import river.kdl.KdlNode;
import river.kdl.KdlProperty;
import river.kdl.KdlValue;

/**
 * Reads the top-level {@code acme { … }} section, and checks it against the listeners' {@code acme-domains}
 * (which the listener reader turns into {@link ListenerConfig#acmeDomains()}): every error located.
 */
final class AcmeReader extends KdlSchemaReader {
    private static final String[] NAMES = {"provider", "accept-terms-of-service", "contact", "store-dir", "renew-before-expiry-days",
        "renew-after-issue-days", "challenge", "challenge-listener", "dns-propagation-seconds", "domain", "key-type", "ca-certificate-path",
        "store-redis", "profile"};
    private static final Set<String> REPEATABLE = Set.of("contact", "domain");

    AcmeReader(Problems problems, ValueRules rules) {
        super(problems, rules);
    }

    /** The section; null after an error. */
    AcmeConfig acme(KdlNode node) {
        noEntries(node);
        URI directory = AcmeConfig.LETSENCRYPT;
        Boolean terms = null;
        List<String> contacts = new ArrayList<>();
        Path storeDir = null;
        AcmeConfig.Renewal renewal = new AcmeConfig.Renewal.Default();
        KdlNode renewalNode = null;
        AcmeConfig.Challenge challenge = AcmeConfig.Challenge.HTTP_01;
        Optional<ListenAddress> challengeListener = Optional.empty();
        int propagation = AcmeConfig.DEFAULT_DNS_PROPAGATION_SECONDS;
        List<AcmeConfig.Domain> domains = new ArrayList<>();
        AcmeConfig.KeyType keyType = AcmeConfig.KeyType.ECDSA_P256;
        Optional<Path> caCertificate = Optional.empty();
        Optional<AcmeConfig.RedisStore> storeRedis = Optional.empty();
        Optional<String> profile = Optional.empty();
        int before = problems.size();
        Set<String> seen = new HashSet<>();
        Set<String> domainNames = new HashSet<>();
        for (KdlNode child : node.children()) {
            if (!seen.add(child.name()) && isKnown(child.name(), NAMES) && !REPEATABLE.contains(child.name())) {
                duplicate(child);
            }
            switch (child.name()) {
                case "provider" -> {
                    KdlValue v = singleArgument(child);
                    URI uri = provider(string(v, "provider"), v);
                    directory = uri == null ? directory : uri;
                }
                case "accept-terms-of-service" -> {
                    terms = bool(singleArgument(child), "accept-terms-of-service");
                    if (Boolean.FALSE.equals(terms)) {
                        problems.add(where(child.arguments().get(0).position()), "accept-terms-of-service must be true: certificate "
                                + "authorities create no account without agreement to their terms, and River does not agree on your behalf");
                    }
                }
                case "contact" -> {
                    KdlValue v = singleArgument(child);
                    String text = contact(string(v, "contact"), v);
                    if (text != null) {
                        contacts.add(text);
                    }
                }
                case "store-dir" -> {
                    KdlValue v = singleArgument(child);
                    String text = string(v, "store-dir");
                    storeDir = text == null ? null : rules.absolutePath(text, "store-dir", where(v.position()));
                }
                case "renew-before-expiry-days", "renew-after-issue-days" -> {
                    if (renewalNode != null && !renewalNode.name().equals(child.name())) {
                        problems.add(where(child.position()), "set at most one of renew-before-expiry-days and renew-after-issue-days ("
                                + renewalNode.name() + " is set on line " + renewalNode.position().line() + ")");
                    }
                    renewalNode = child;
                    Integer days = positiveInt(singleArgument(child), child.name());
                    if (days != null) {
                        renewal = child.name().equals("renew-after-issue-days") ? new AcmeConfig.Renewal.AfterIssue(days)
                                : new AcmeConfig.Renewal.BeforeExpiry(days);
                    }
                }
                case "challenge" -> {
                    KdlValue v = singleArgument(child);
                    AcmeConfig.Challenge c = challenge(string(v, "challenge"), v);
                    challenge = c == null ? challenge : c;
                }
                case "challenge-listener" -> {
                    KdlValue v = singleArgument(child);
                    String text = string(v, "challenge-listener");
                    if (text != null) {
                        String[] hostPort = rules.hostAndPort(text, where(v.position()), "challenge-listener");
                        if (hostPort != null) {
                            challengeListener = Optional.of(new ListenAddress.Tcp(hostPort[0], Integer.parseInt(hostPort[1])));
                        }
                    }
                }
                case "dns-propagation-seconds" -> {
                    Integer n = nonNegativeInt(singleArgument(child), "dns-propagation-seconds");
                    propagation = n == null ? propagation : n;
                }
                case "domain" -> {
                    AcmeConfig.Domain d = domain(child);
                    if (d != null && !domainNames.add(d.name())) {
                        problems.add(where(child.position()), "domain \"" + d.name() + "\" is given twice");
                    } else if (d != null) {
                        domains.add(d);
                    }
                }
                case "key-type" -> {
                    KdlValue v = singleArgument(child);
                    String text = string(v, "key-type");
                    Optional<AcmeConfig.KeyType> k = text == null ? Optional.empty() : AcmeConfig.KeyType.of(text);
                    if (text != null && k.isEmpty()) {
                        problems.add(where(v.position()), "key-type must be \"ecdsa-p256\" or \"rsa-2048\"; found \"" + text + "\"");
                    }
                    keyType = k.orElse(keyType);
                }
                case "ca-certificate-path" -> {
                    KdlValue v = singleArgument(child);
                    String text = string(v, "ca-certificate-path");
                    caCertificate = text == null ? caCertificate
                            : Optional.ofNullable(rules.readableFile(text, "ca-certificate-path", where(v.position())));
                }
                case "store-redis" -> storeRedis = storeRedis(child);
                case "profile" -> profile = profile(singleArgument(child));
                default -> unknownNode(child, "in acme", String.join(", ", NAMES));
            }
        }
        if (terms == null && !seen.contains("accept-terms-of-service")) {
            problems.add(where(node.position()), "acme needs accept-terms-of-service true: certificate authorities create no account "
                    + "without agreement to their terms, and River does not agree on your behalf");
        }
        if (storeDir == null && !seen.contains("store-dir")) {
            problems.add(where(node.position()), "acme needs store-dir, the absolute path where the account key and certificates are kept");
        }
        for (AcmeConfig.Domain d : domains) {
            AcmeConfig.Challenge effective = d.challenge().orElse(challenge);
            KdlNode at = node.children().stream().filter(c -> c.name().equals("domain") && !c.arguments().isEmpty()
                    && c.arguments().get(0) instanceof KdlValue.Str s && s.value().toLowerCase(Locale.ROOT).equals(d.name())).findFirst().orElse(node);
            if (d.name().startsWith("*.") && effective != AcmeConfig.Challenge.DNS_01) {
                problems.add(where(at.position()), "domain \"" + d.name() + "\": a wildcard can only be validated with dns-01 "
                        + "(a rule of ACME); set challenge=\"dns-01\" and a hook");
            } else if (effective == AcmeConfig.Challenge.DNS_01 && d.hook().isEmpty()) {
                problems.add(where(at.position()), "domain \"" + d.name() + "\" uses dns-01 and needs hook=\"/path/to/hook\" "
                        + "(called as: hook set|clean NAME VALUE)");
            }
        }
        if (problems.size() != before || storeDir == null) {
            return null;
        }
        return new AcmeConfig(directory, contacts, storeDir, renewal, challenge, challengeListener, propagation, domains, keyType, caCertificate,
                storeRedis, profile);
    }

    /**
     * {@code profile "shortlived"} (River's extension, draft-aaron-acme-profiles): a name as CAs list them in their directory's
     * {@code meta.profiles}; whether this CA offers it is known only at order time. Empty after an error.
     */
    private Optional<String> profile(KdlValue v) {
        String text = string(v, "profile");
        if (text != null && !AcmeConfig.PROFILE_NAME.matcher(text).matches()) {
            problems.add(where(v.position()), "profile must be the name of a profile the CA lists, such as \"shortlived\" (letters, digits, "
                    + "'.', '_' or '-'; at most 64); found \"" + text + "\"");
            return Optional.empty();
        }
        return Optional.ofNullable(text);
    }

    /** {@code store-redis "redis://host:port/db" key-prefix="…"} (fleet mode, River's extension); empty after an error. */
    private Optional<AcmeConfig.RedisStore> storeRedis(KdlNode child) {
        KdlValue v = singleArgument(child, "key-prefix");
        String url = string(v, "store-redis");
        String prefix = child.property("key-prefix").map(this::stringOrNull).orElse(AcmeConfig.RedisStore.DEFAULT_KEY_PREFIX);
        if (url == null || prefix == null) {
            return Optional.empty();
        }
        String problem = null;
        try {
            URI uri = new URI(url);
            String path = uri.getPath() == null ? "" : uri.getPath();
            if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme())) {
                problem = "store-redis expects a redis:// or rediss:// URL";
            } else if (uri.getHost() == null) {
                problem = "store-redis needs a host, as in redis://127.0.0.1:6379/0";
            } else if (!path.isEmpty() && !path.matches("/[0-9]{1,2}")) {
                problem = "store-redis: the path must be a database number, as in redis://127.0.0.1:6379/0";
            }
        } catch (URISyntaxException e) {
            problem = "store-redis expects a redis:// URL (" + e.getReason() + ")";
        }
        if (problem != null) {
            problems.add(where(v.position()), problem + "; found \"" + url + "\"");
            return Optional.empty();
        }
        if (prefix.isEmpty() || prefix.chars().anyMatch(c -> c <= ' ')) {
            problems.add(where(child.property("key-prefix").get().value().position()), "key-prefix must be non-empty, without spaces; found \""
                    + prefix + "\"");
            return Optional.empty();
        }
        return Optional.of(new AcmeConfig.RedisStore(url, prefix));
    }

    private URI provider(String text, KdlValue v) {
        if (text == null) {
            return null;
        }
        switch (text) {
            case "letsencrypt":
                return AcmeConfig.LETSENCRYPT;
            case "letsencrypt-staging":
                return AcmeConfig.LETSENCRYPT_STAGING;
            default:
                break;
        }
        try {
            URI uri = new URI(text);
            if ("https".equalsIgnoreCase(uri.getScheme()) && uri.getHost() != null) {
                return uri;
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        problems.add(where(v.position()), "provider must be \"letsencrypt\", \"letsencrypt-staging\" or an https:// ACME directory URL; found \""
                + text + "\"");
        return null;
    }

    private String contact(String text, KdlValue v) {
        if (text == null) {
            return null;
        }
        int at = text.indexOf('@');
        if (text.startsWith("mailto:") && at > "mailto:".length() && at < text.length() - 1 && text.indexOf('@', at + 1) < 0
                && !text.contains(",") && text.chars().noneMatch(c -> c <= ' ')) {
            return text;
        }
        problems.add(where(v.position()), "contact must be a mailto: URI with one address, such as \"mailto:ops@example.com\"; found \"" + text + "\"");
        return null;
    }

    private AcmeConfig.Challenge challenge(String text, KdlValue v) {
        if (text == null) {
            return null;
        }
        Optional<AcmeConfig.Challenge> c = AcmeConfig.Challenge.of(text);
        if (c.isEmpty()) {
            problems.add(where(v.position()), "challenge must be \"http-01\", \"dns-01\" or \"tls-alpn-01\"; found \"" + text + "\"");
        }
        return c.orElse(null);
    }

    private AcmeConfig.Domain domain(KdlNode child) {
        String name = string(singleArgument(child, "challenge", "hook"), "domain");
        String lower = name == null ? null : managedName(name, "domain", where(child.arguments().get(0).position()));
        Optional<AcmeConfig.Challenge> challenge = Optional.empty();
        Optional<KdlProperty> c = child.property("challenge");
        if (c.isPresent()) {
            challenge = Optional.ofNullable(challenge(stringOrNull(c.get()), c.get().value()));
            if (challenge.isEmpty()) {
                return null;
            }
        }
        Optional<Path> hook = child.property("hook").map(this::stringOrNull).map(rules::resolve);
        if (child.property("hook").isPresent() && hook.isEmpty()) {
            return null;
        }
        return lower == null ? null : new AcmeConfig.Domain(lower, challenge, hook);
    }

    /** A managed name: a DNS name or {@code *.} and one, lower-cased; null after an error. */
    private String managedName(String name, String what, Problems.Where where) {
        String host = name.startsWith("*.") ? name.substring(2) : name;
        if (host.endsWith(".") || rules.serverName(host, what, where) == null) {
            if (host.endsWith(".")) {
                problems.add(where, what + " \"" + name + "\" must not end with a dot");
            }
            return null;
        }
        return name.toLowerCase(Locale.ROOT);
    }

    // ---- the section against the listeners --------------------------------------------------------

    /**
     * Checks the listeners' {@code acme-domains} against the section (null when absent or invalid, {@code present}
     * telling which): acme-domains needs an acme section, a wildcard needs dns-01, dns-01 needs a hook, and each
     * {@code domain} override must name a managed name. Reads the document for the properties' positions.
     */
    void crossCheck(KdlDocument document, AcmeConfig acme, boolean present) {
        Set<String> managed = new LinkedHashSet<>();
        for (KdlNode services : document.nodes()) {
            if (!services.name().equals("services")) {
                continue;
            }
            for (KdlNode service : services.children()) {
                for (KdlNode section : service.children()) {
                    if (!section.name().equals("listeners")) {
                        continue;
                    }
                    for (KdlNode listener : section.children()) {
                        Optional<KdlProperty> p = listener.property("acme-domains");
                        if (p.isEmpty() || !(p.get().value() instanceof KdlValue.Str s)) {
                            continue;
                        }
                        Problems.Where where = where(p.get().value().position());
                        if (!present) {
                            problems.add(where, "listener \"" + listener.name() + "\" sets acme-domains but there is no top-level acme section "
                                    + "(provider, accept-terms-of-service, store-dir, …)");
                            continue;
                        }
                        for (String name : splitNames(s.value())) {
                            managed.add(name);
                            if (acme == null || !ValueRules.ACME_NAME.matcher(name).matches()) {
                                continue; // a bad name is the listener reader's error
                            }
                            AcmeConfig.Challenge challenge = acme.challengeFor(name);
                            if (name.startsWith("*.") && challenge != AcmeConfig.Challenge.DNS_01) {
                                problems.add(where, "listener \"" + listener.name() + "\": \"" + name + "\" is a wildcard, which can only be "
                                        + "validated with dns-01 (a rule of ACME); add to acme: domain \"" + name
                                        + "\" challenge=\"dns-01\" hook=\"/path/to/hook\"");
                            } else if (challenge == AcmeConfig.Challenge.DNS_01 && acme.hookFor(name).isEmpty()) {
                                problems.add(where, "listener \"" + listener.name() + "\": \"" + name + "\" uses dns-01 and needs a hook; add to acme: domain \""
                                        + name + "\" hook=\"/path/to/hook\"");
                            }
                        }
                    }
                }
            }
        }
        if (acme == null) {
            return;
        }
        for (KdlNode acmeNode : document.nodes()) {
            if (!acmeNode.name().equals("acme")) {
                continue;
            }
            for (KdlNode child : acmeNode.children()) {
                if (child.name().equals("domain") && child.arguments().size() == 1 && child.arguments().get(0) instanceof KdlValue.Str s
                        && !managed.contains(s.value().toLowerCase(Locale.ROOT))) {
                    problems.add(where(child.position()), "domain \"" + s.value() + "\" is not in any listener's acme-domains"
                            + (managed.isEmpty() ? " (no listener sets acme-domains)" : "; managed names: " + String.join(", ", managed)));
                }
            }
        }
    }

    /** The names of an acme-domains value: comma separated, trimmed, lower-cased, without repeats. */
    static List<String> splitNames(String text) {
        Set<String> names = new LinkedHashSet<>();
        for (String part : text.split(",", -1)) {
            names.add(part.trim().toLowerCase(Locale.ROOT));
        }
        return List.copyOf(names);
    }
}
