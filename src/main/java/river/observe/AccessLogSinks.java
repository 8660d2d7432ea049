package river.observe;

import ch.qos.logback.core.ContextBase;
import ch.qos.logback.core.encoder.EncoderBase;
import ch.qos.logback.core.rolling.RollingFileAppender;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Arrays;

/** The destinations of the access log: a standard stream, or a file Logback rotates. */
public final class AccessLogSinks {
    private AccessLogSinks() {}

    /** Standard output or standard error as they are now (the same stream the application log may write to, so lines never interleave). */
    public static AccessLogWriter.Sink stream(PrintStream out) {
        return new AccessLogWriter.Sink() {
            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                out.write(bytes, offset, length);
                out.flush();
                if (out.checkError()) {
                    throw new IOException("the stream reported an error");
                }
            }

            @Override
            public void close() {
                out.flush();
            }
        };
    }

    /** Any stream (tests). */
    public static AccessLogWriter.Sink stream(OutputStream out) {
        return stream(new PrintStream(out, false));
    }

    /**
     * A file written through Logback's {@link RollingFileAppender}: each batch is one event whose
     * bytes are written as they are, so a rotation falls between batches and never inside a line.
     */
    public static AccessLogWriter.Sink file(LogFiles files) {
        ContextBase context = new ContextBase();
        context.setName("river-access-log");
        RollingFileAppender<byte[]> appender = files.appender(context, "access-log", new RawBytes());
        return new AccessLogWriter.Sink() {
            @Override
            public void write(byte[] bytes, int offset, int length) {
                appender.doAppend(Arrays.copyOfRange(bytes, offset, offset + length));
            }

            @Override
            public void close() {
                appender.stop();
                context.stop();
            }
        };
    }

    /** Writes an event's bytes unchanged. */
    static final class RawBytes extends EncoderBase<byte[]> {
        private static final byte[] NONE = new byte[0];

        @Override
        public byte[] headerBytes() {
            return NONE;
        }

        @Override
        public byte[] encode(byte[] event) {
            return event;
        }

        @Override
        public byte[] footerBytes() {
            return NONE;
        }
    }
}
