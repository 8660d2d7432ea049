package river.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** River's Netty (and JDK TLS) defaults apply only where the operator set nothing. */
class NettyDefaultsTest {

    @Test
    void operatorSettingsWinOverRiversDefaults() {
        String allocator = System.getProperty("io.netty.allocator.type");
        String leaks = System.getProperty("io.netty.leakDetection.level");
        try {
            System.clearProperty("io.netty.allocator.type");
            System.setProperty("io.netty.leakDetection.level", "advanced");
            Main.applyNettyDefaults();
            assertThat(System.getProperty("io.netty.allocator.type")).isEqualTo("pooled");
            assertThat(System.getProperty("io.netty.leakDetection.level")).isEqualTo("advanced");

            System.setProperty("io.netty.allocator.type", "adaptive");
            System.clearProperty("io.netty.leakDetection.level");
            Main.applyNettyDefaults();
            assertThat(System.getProperty("io.netty.allocator.type")).isEqualTo("adaptive");
            assertThat(System.getProperty("io.netty.leakDetection.level")).isEqualTo("disabled");
        } finally {
            restore("io.netty.allocator.type", allocator);
            restore("io.netty.leakDetection.level", leaks);
        }
    }

    @Test
    void smallerAllocatorChunksAndNoNettyJfrEventsUnlessTheOperatorSetsThem() {
        String order = System.getProperty("io.netty.allocator.maxOrder");
        String jfr = System.getProperty("io.netty.jfr.enabled");
        try {
            System.clearProperty("io.netty.allocator.maxOrder");
            System.setProperty("io.netty.jfr.enabled", "true");
            Main.applyNettyDefaults();
            assertThat(System.getProperty("io.netty.allocator.maxOrder")).isEqualTo("7");
            assertThat(System.getProperty("io.netty.jfr.enabled")).isEqualTo("true");

            System.setProperty("io.netty.allocator.maxOrder", "9");
            System.clearProperty("io.netty.jfr.enabled");
            Main.applyNettyDefaults();
            assertThat(System.getProperty("io.netty.allocator.maxOrder")).isEqualTo("9");
            assertThat(System.getProperty("io.netty.jfr.enabled")).isEqualTo("false");
        } finally {
            restore("io.netty.allocator.maxOrder", order);
            restore("io.netty.jfr.enabled", jfr);
        }
    }

    @Test
    void jdkTlsRefusesClientInitiatedRenegotiationUnlessTheOperatorAllowsIt() {
        String key = "jdk.tls.rejectClientInitiatedRenegotiation";
        String before = System.getProperty(key);
        try {
            System.clearProperty(key);
            Main.applyTlsDefaults();
            assertThat(System.getProperty(key)).isEqualTo("true");
            System.setProperty(key, "false");
            Main.applyTlsDefaults();
            assertThat(System.getProperty(key)).isEqualTo("false");
        } finally {
            restore(key, before);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
