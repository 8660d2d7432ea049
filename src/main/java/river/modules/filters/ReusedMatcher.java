package river.modules.filters;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A compiled pattern with one matcher per thread, reset for each input, so that matching a header
 * name or a path on the request path allocates nothing ({@link Pattern#matcher} allocates a matcher
 * per call). A plain {@link ThreadLocal} rather than Netty's FastThreadLocal: its entries are weakly
 * keyed, so they go with the module when a reload drops it.
 */
final class ReusedMatcher {
    private final ThreadLocal<Matcher> matchers;

    ReusedMatcher(Pattern pattern) {
        this.matchers = ThreadLocal.withInitial(() -> pattern.matcher(""));
    }

    /** This thread's matcher over {@code input}; use it before matching anything else with this pattern. */
    Matcher on(CharSequence input) {
        return matchers.get().reset(input);
    }
}
