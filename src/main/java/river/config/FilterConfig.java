package river.config;

import java.util.List;
import java.util.regex.Pattern;

/** One path-control filter, by kind. */
public sealed interface FilterConfig {

    /** Rejects clients whose address falls in any of the ranges. */
    record BlockCidrRange(List<CidrRange> ranges) implements FilterConfig {
        public BlockCidrRange {
            ranges = List.copyOf(ranges);
        }
    }

    /** Removes every header whose name matches the pattern. */
    record RemoveHeaderKeyRegex(Pattern pattern) implements FilterConfig {}

    /** Sets a header, replacing any present with that name. */
    record UpsertHeader(String key, String value) implements FilterConfig {}
}
