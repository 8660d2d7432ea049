package river.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service's {@code tls-sessions} node: defaults, values, and located errors. */
class TlsSessionsConfigTest {
    @TempDir
    Path dir;

    private RiverConfig parse(String sessions) throws ConfigException {
        return new ConfigLoader(dir).parse(kdl(sessions), "river.kdl", ConfigFormat.KDL, SystemOverrides.none());
    }

    private static String kdl(String sessions) {
        return "services {\n  web {\n    listeners {\n      \"127.0.0.1:8080\"\n    }\n    connectors {\n      \"127.0.0.1:9000\"\n    }\n"
                + sessions + "\n  }\n}\n";
    }

    private List<ConfigError> errors(String sessions) {
        try {
            parse(sessions);
        } catch (ConfigException e) {
            return e.errors();
        }
        throw new AssertionError("expected the configuration to be rejected");
    }

    private void assertSingleError(String sessions, int column, String... fragments) {
        List<ConfigError> errors = errors(sessions);
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).line()).as("line of %s", errors.get(0)).isEqualTo(9);
        assertThat(errors.get(0).column()).as("column of %s", errors.get(0)).isEqualTo(column);
        assertThat(errors.get(0).message()).contains(fragments);
    }

    @Test
    void withoutTheNodeTicketsAreOnRotatedHourlyWithTwentyThousandCachedSessionsForFiveMinutes() throws Exception {
        TlsSessions s = parse("").services().get(0).tlsSessions();
        assertThat(s).isEqualTo(new TlsSessions(true, Optional.empty(), 3_600_000, 20_000, 300_000));
        assertThat(s.resumable()).isTrue();
    }

    @Test
    void everyPropertyIsRead() throws Exception {
        assertThat(parse("    tls-sessions tickets=false cache-size=0 timeout-ms=60000").services().get(0).tlsSessions())
                .isEqualTo(new TlsSessions(false, Optional.empty(), 3_600_000, 0, 60_000));
        assertThat(parse("    tls-sessions ticket-rotation-ms=600000 cache-size=500").services().get(0).tlsSessions())
                .isEqualTo(new TlsSessions(true, Optional.empty(), 600_000, 500, 300_000));
        Files.write(dir.resolve("ticket.key"), new byte[96]);
        assertThat(parse("    tls-sessions ticket-key-path=\"ticket.key\"").services().get(0).tlsSessions().ticketKeyPath())
                .contains(dir.resolve("ticket.key"));
    }

    @Test
    void aTicketKeyFileMustHoldWhole48ByteKeys() throws Exception {
        Files.write(dir.resolve("nginx80.key"), new byte[80]);
        // Column 34: where the value of ticket-key-path starts.
        assertSingleError("    tls-sessions ticket-key-path=\"nginx80.key\"", 34, "ticket-key-path \"nginx80.key\"", "80 bytes", "48 bytes each");
        assertSingleError("    tls-sessions ticket-key-path=\"none.key\"", 34, "ticket-key-path \"none.key\"", "no readable file");
        Files.write(dir.resolve("many.key"), new byte[48 * 17]);
        assertSingleError("    tls-sessions ticket-key-path=\"many.key\"", 34, "1 to 16 keys");
    }

    @Test
    void contradictionsAndOutOfRangeValuesAreErrors() throws Exception {
        Files.write(dir.resolve("ticket.key"), new byte[48]);
        assertSingleError("    tls-sessions tickets=false ticket-key-path=\"ticket.key\"", 32, "ticket-key-path needs tickets=true");
        assertSingleError("    tls-sessions ticket-key-path=\"ticket.key\" ticket-rotation-ms=1000", 47, "ticket-rotation-ms is for River's own keys");
        assertSingleError("    tls-sessions timeout-ms=999", 29, "timeout-ms must be 1000 to 604800000");
        assertSingleError("    tls-sessions cache-size=-1", 29, "cache-size");
        assertSingleError("    tls-sessions tickets=1", 26, "tickets expects true or false");
        assertSingleError("    tls-sessions session-tickets=true", 18, "session-tickets");
    }
}
