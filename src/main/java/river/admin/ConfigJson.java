package river.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import river.config.PluginConfig;
import river.config.RiverConfig;

/**
 * The effective configuration as JSON ({@code GET /config}), secrets redacted. The configuration model's
 * records are walked by their components, named in kebab case ({@code threadsPerService} becomes
 * {@code threads-per-service}); a record of a sealed family says which one it is in {@code kind}, and a
 * record with its own text form (a listen address, a CIDR range, a DNS connector) is that text.
 *
 * <p>Redacted, replaced by {@value #REDACTED}:
 * <ul>
 *   <li>the value of a component or map entry whose name looks secret ({@link #SECRET_NAME}: password,
 *       passwd, secret, token, credential, api-key/apikey, authorization, cookie), unless it is a file's
 *       path ({@code token-file}: the file holds the secret, its name does not);
 *   <li>the {@code value} of a header filter (or any record with a {@code key}/{@code name}) whose header
 *       name looks secret: {@code upsert-header key="Authorization" value="Bearer …"};
 *   <li>in every string, the password of a URL's user information ({@code redis://user:PASSWORD@host},
 *       or the whole user information when it has no colon, as Redis reads {@code redis://PASSWORD@host})
 *       and the value of a query parameter whose name looks secret ({@code ?password=…});
 *   <li>a WebAssembly plugin's configuration and VM configuration, which the plugin alone understands and
 *       which often carry its credentials: shown as {@code [redacted] N bytes}.
 * </ul>
 */
final class ConfigJson {
    static final String REDACTED = "[redacted]";
    /** Names whose values are secrets. */
    static final Pattern SECRET_NAME = Pattern.compile("(?i).*(password|passwd|secret|token|credential|api-?key|authorization|cookie).*");
    /** scheme://userinfo@ : group 2 is the user information. */
    private static final Pattern USER_INFO = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*://)([^/?#@\\s]*)@");
    private static final Pattern SECRET_QUERY =
            Pattern.compile("(?i)([?&][^=&#\\s]*(?:password|passwd|secret|token|credential|api-?key)[^=&#\\s]*=)[^&#\\s]*");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** A plugin's configuration buffers: free text the plugin parses, often with its credentials, so shown by size only. */
    private static final java.util.Set<String> PLUGIN_BUFFERS = java.util.Set.of("configuration", "vmConfiguration");

    private ConfigJson() {}

    static JsonNode of(RiverConfig config) {
        return value(config);
    }

    private static JsonNode value(Object v) {
        if (v == null) {
            return NODES.nullNode();
        }
        if (v instanceof Optional<?> o) {
            return value(o.orElse(null));
        }
        if (v instanceof String s) {
            return NODES.textNode(redactInText(s));
        }
        if (v instanceof Boolean b) {
            return NODES.booleanNode(b);
        }
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return NODES.numberNode(((Number) v).longValue());
        }
        if (v instanceof Number n) {
            return NODES.numberNode(n.doubleValue());
        }
        if (v instanceof Enum<?> e) {
            return NODES.textNode(e.name());
        }
        if (v instanceof Pattern p) {
            return NODES.textNode(p.pattern());
        }
        if (v instanceof Path p) {
            return NODES.textNode(p.toString());
        }
        if (v instanceof Collection<?> c) {
            ArrayNode array = NODES.arrayNode();
            c.forEach(item -> array.add(value(item)));
            return array;
        }
        if (v instanceof Map<?, ?> m) {
            ObjectNode object = NODES.objectNode();
            m.forEach((k, item) -> object.set(String.valueOf(k), secret(String.valueOf(k), item) ? NODES.textNode(REDACTED) : value(item)));
            return object;
        }
        if (v instanceof Record r) {
            return record(r);
        }
        if (v instanceof byte[] bytes) {
            return NODES.textNode(java.util.HexFormat.of().formatHex(bytes));
        }
        return NODES.textNode(redactInText(v.toString()));
    }

    private static JsonNode record(Record r) {
        Class<?> type = r.getClass();
        String text = r.toString();
        if (!text.startsWith(type.getSimpleName() + "[")) {
            return NODES.textNode(redactInText(text)); // a text form of its own, not the generated Name[a=…]
        }
        ObjectNode object = NODES.objectNode();
        for (Class<?> family : type.getInterfaces()) {
            if (family.isSealed()) {
                object.put("kind", kebab(type.getSimpleName()));
            }
        }
        RecordComponent[] components = type.getRecordComponents();
        boolean secretHeader = false;
        for (RecordComponent c : components) {
            if ((c.getName().equals("key") || c.getName().equals("name")) && read(r, c) instanceof String s && SECRET_NAME.matcher(s).matches()) {
                secretHeader = true;
            }
        }
        for (RecordComponent c : components) {
            Object item = read(r, c);
            boolean hide = secret(c.getName(), item) || (secretHeader && c.getName().equals("value"));
            if (r instanceof PluginConfig && item instanceof String buffer && PLUGIN_BUFFERS.contains(c.getName())) {
                object.put(kebab(c.getName()), REDACTED + " " + buffer.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + " bytes");
                continue;
            }
            object.set(kebab(c.getName()), hide ? NODES.textNode(REDACTED) : value(item));
        }
        return object;
    }

    /** A value named as a secret, and not a file's path (nor an absent one). */
    private static boolean secret(String name, Object item) {
        Object present = item instanceof Optional<?> o ? o.orElse(null) : item;
        return present != null && !(present instanceof Path) && !(present instanceof Boolean) && SECRET_NAME.matcher(name).matches();
    }

    private static Object read(Record r, RecordComponent c) {
        try {
            return c.getAccessor().invoke(r);
        } catch (IllegalAccessException | InvocationTargetException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** URL user information and secret query parameters in any string. */
    static String redactInText(String s) {
        if (s.indexOf('@') >= 0) {
            Matcher m = USER_INFO.matcher(s);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                String info = m.group(2);
                int colon = info.indexOf(':');
                String kept = colon < 0 ? REDACTED : info.substring(0, colon + 1) + REDACTED;
                m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + kept + "@"));
            }
            m.appendTail(out);
            s = out.toString();
        }
        if (s.indexOf('=') >= 0) {
            s = SECRET_QUERY.matcher(s).replaceAll(mr -> Matcher.quoteReplacement(mr.group(1) + REDACTED));
        }
        return s;
    }

    /** threadsPerService → threads-per-service; UpsertHeader → upsert-header. */
    static String kebab(String camel) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            if (Character.isUpperCase(c)) {
                if (i > 0 && !Character.isUpperCase(camel.charAt(i - 1))) {
                    out.append('-');
                }
                out.append(Character.toLowerCase(c));
            } else {
                out.append(c);
            }
        }
        return out.toString().toLowerCase(Locale.ROOT);
    }
}
