package river.observe;

import ch.qos.logback.core.Context;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.util.FileSize;
import java.nio.file.Path;

/**
 * Log files rotated by Logback: by size and by time ({@link SizeAndTimeBasedRollingPolicy}), used by
 * the access log and the application log alike.
 *
 * <p>The file being written keeps its name; a rotated one is renamed to
 * {@code NAME.yyyy-MM-dd.N} (daily) or {@code NAME.yyyy-MM-dd-HH.N} (hourly), N counting from 0 within
 * the period, and {@code .gz}-compressed if asked. Logback deletes rotated files older than
 * {@code maxHistory} periods and, given {@code totalSizeCapBytes}, the oldest beyond that total.
 *
 * @param file the file written
 * @param maxSizeBytes the size at which the file is rotated
 * @param maxHistory how many periods (days or hours) of rotated files are kept
 * @param hourly rotate at least every hour (else every day)
 * @param totalSizeCapBytes the total size of rotated files kept, 0 for no cap
 * @param compress gzip rotated files
 */
public record LogFiles(Path file, long maxSizeBytes, int maxHistory, boolean hourly, long totalSizeCapBytes, boolean compress) {
    /** A rolling appender for {@code file}, started; throws IllegalStateException with Logback's reason if it cannot start. */
    public <E> RollingFileAppender<E> appender(Context context, String name, Encoder<E> encoder) {
        RollingFileAppender<E> appender = new RollingFileAppender<>();
        appender.setContext(context);
        appender.setName(name);
        appender.setFile(file.toString());
        appender.setAppend(true);
        appender.setImmediateFlush(true);
        SizeAndTimeBasedRollingPolicy<E> policy = new SizeAndTimeBasedRollingPolicy<>();
        policy.setContext(context);
        policy.setParent(appender);
        policy.setFileNamePattern(file + (hourly ? ".%d{yyyy-MM-dd-HH,UTC}" : ".%d{yyyy-MM-dd,UTC}") + ".%i" + (compress ? ".gz" : ""));
        policy.setMaxFileSize(new FileSize(maxSizeBytes));
        policy.setMaxHistory(maxHistory);
        if (totalSizeCapBytes > 0) {
            policy.setTotalSizeCap(new FileSize(totalSizeCapBytes));
        }
        appender.setRollingPolicy(policy);
        appender.setTriggeringPolicy(policy);
        encoder.setContext(context);
        encoder.start();
        appender.setEncoder(encoder);
        long since = System.currentTimeMillis();
        policy.start();
        appender.start();
        if (!appender.isStarted() || !policy.isStarted()) {
            StringBuilder why = new StringBuilder();
            for (Status s : context.getStatusManager().getCopyOfStatusList()) {
                if (s.getLevel() == Status.ERROR && s.getTimestamp() >= since) {
                    why.append(why.length() == 0 ? "" : "; ").append(s.getMessage());
                }
            }
            throw new IllegalStateException("cannot write the log file " + file + ": " + (why.length() == 0 ? "Logback did not start its appender" : why));
        }
        return appender;
    }
}
