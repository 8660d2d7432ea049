package river.modules.filters;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import river.headers.CompactHeaders;

/** One filter of a header stage ({@code upstream-request}, {@code upstream-response}, {@code response-filters}), built once. */
interface HeaderFilter {
    void apply(HttpHeaders headers);

    /**
     * {@code remove-header-key-regex} (the pattern found anywhere in the name) and
     * {@code remove-header-key-glob} (the whole name): one pass over the headers, and no allocation
     * when no name matches.
     */
    final class RemoveMatching implements HeaderFilter, Predicate<CharSequence> {
        private final ReusedMatcher names;
        private final boolean wholeName;

        RemoveMatching(java.util.regex.Pattern pattern, boolean wholeName) {
            this.names = new ReusedMatcher(pattern);
            this.wholeName = wholeName;
        }

        @Override
        public void apply(HttpHeaders headers) {
            CompactHeaders.removeNames(headers, this);
        }

        @Override
        public boolean test(CharSequence name) {
            Matcher m = names.on(name);
            return wholeName ? m.matches() : m.find();
        }
    }

    /** {@code remove-header}. */
    record Remove(AsciiString name) implements HeaderFilter {
        @Override
        public void apply(HttpHeaders headers) {
            headers.remove(name);
        }
    }

    /** {@code upsert-header}: replaces any header of that name. */
    record Upsert(AsciiString name, String value) implements HeaderFilter {
        @Override
        public void apply(HttpHeaders headers) {
            headers.set(name, value);
        }
    }

    /** {@code append-header}: keeps any header of that name. */
    record Append(AsciiString name, String value) implements HeaderFilter {
        @Override
        public void apply(HttpHeaders headers) {
            headers.add(name, value);
        }
    }
}
