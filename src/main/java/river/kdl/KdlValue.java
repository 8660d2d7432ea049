package river.kdl;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * A KDL value: a string, a number, a boolean or null, each with its optional type annotation and the
 * position where it was written.
 */
public sealed interface KdlValue {

    /** The type annotation written before the value, e.g. {@code (u8)}, or null when there is none. */
    String type();

    /** Where the value starts in the source text. */
    KdlPosition position();

    /** A short name of the value's kind, for error messages ("a string", "a number", ...). */
    String kindName();

    /** A string value (quoted, raw, or in KDL 2 a bare identifier). */
    record Str(String value, String type, KdlPosition position) implements KdlValue {
        @Override
        public String kindName() {
            return "a string";
        }
    }

    /**
     * A number. Integers hold a {@link BigInteger}, decimals a {@link BigDecimal}, and KDL 2's
     * {@code #inf}, {@code #-inf} and {@code #nan} a {@link Double}. {@code radix} is the base it was
     * written in (2, 8, 10 or 16); {@code text} is its canonical decimal spelling for floats.
     */
    record Num(Number value, int radix, String text, String type, KdlPosition position) implements KdlValue {
        @Override
        public String kindName() {
            return "a number";
        }

        /** True when the number was written without fraction or exponent. */
        public boolean isInteger() {
            return value instanceof BigInteger;
        }
    }

    /** {@code true} or {@code false}. */
    record Bool(boolean value, String type, KdlPosition position) implements KdlValue {
        @Override
        public String kindName() {
            return "a boolean";
        }
    }

    /** {@code null}. */
    record Null(String type, KdlPosition position) implements KdlValue {
        @Override
        public String kindName() {
            return "null";
        }
    }
}
