package river.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import river.config.ConfigFormat;
import river.config.ConfigLoader;
import river.config.RiverConfig;
import river.config.SystemOverrides;
import river.testsupport.RiverHarness;
import river.testsupport.TestOrigin;

/** A reload (SIGHUP) applies the levels of system { log { logger … } } at once, and gives back those it no longer names. */
class LogLevelReloadTest {
    private static RiverConfig parse(String kdl) throws Exception {
        return new ConfigLoader(Path.of("").toAbsolutePath()).parse(kdl, "test.kdl", ConfigFormat.KDL, SystemOverrides.none());
    }

    private static String config(TestOrigin origin, String log) {
        return RiverHarness.proxyConfig(1, "", origin.address()).replace("system {\n", "system {\n  log {\n" + log + "\n  }\n");
    }

    @Test
    void changedLoggerLevelsApplyOnReload() throws Exception {
        ch.qos.logback.classic.Logger probe = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("river.reloadprobe.Inner");
        try (TestOrigin origin = new TestOrigin(); RiverHarness river = RiverHarness.start(config(origin, "    level \"info\""))) {
            assertThat(probe.isDebugEnabled()).isFalse();
            assertThat(river.server().reload(parse(config(origin, "    logger \"river.reloadprobe\" level=\"debug\""))).ok()).isTrue();
            assertThat(probe.isDebugEnabled()).isTrue();
            assertThat(river.server().reload(parse(config(origin, "    logger \"river.reloadprobe\" level=\"error\""))).ok()).isTrue();
            assertThat(probe.isWarnEnabled()).isFalse();
            assertThat(probe.isErrorEnabled()).isTrue();
            assertThat(river.server().reload(parse(config(origin, "    level \"info\""))).ok()).isTrue();
            assertThat(probe.isInfoEnabled()).isTrue();
            assertThat(probe.isDebugEnabled()).isFalse();
            assertThat(((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("river.reloadprobe")).getLevel()).isNull();
        }
    }
}
