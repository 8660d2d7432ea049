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
