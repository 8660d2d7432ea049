package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/**
 * Finished HTTP/2 streams must not stay reachable: a stream's pending deadline timer once kept every
 * stream of a burst alive for a minute (626 MB of RSS after a benchmark). Checked with a heap
 * histogram of this JVM after an h2load burst.
 */
class Http2StreamRetentionTest {

    private static long liveInstances(String className) throws Exception {
        System.gc();
        Process jcmd = new ProcessBuilder(System.getProperty("java.home") + "/bin/jcmd", Long.toString(ProcessHandle.current().pid()),
                "GC.class_histogram").redirectErrorStream(true).start();
        String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(jcmd.waitFor(60, TimeUnit.SECONDS)).isTrue();
        Matcher m = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+\\d+\\s+" + Pattern.quote(className) + "\\s*$", Pattern.MULTILINE).matcher(out);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    @Test
    void finishedStreamsAreNotRetained() throws Exception {
        try (TestOrigin origin = new TestOrigin();
                RiverHarness river = RiverHarness.start("""
                        services {
                            proxy {
                                listeners {
                                    "127.0.0.1:0" h2c=true
                                }
                                connectors {
                                    "%s"
                                }
                            }
                        }
                        """.formatted(origin.address()))) {
            Process h2load = new ProcessBuilder("h2load", "-n", "3000", "-c", "4", "-m", "20",
                    "http://127.0.0.1:" + river.port("proxy") + "/echo").redirectErrorStream(true).start();
            String out = new String(h2load.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(h2load.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(out).contains("3000 succeeded");
            assertThat(liveInstances("river.http.Http2ServerStream")).as("stream handlers alive after the burst").isLessThan(50);
        }
    }
}
