package river.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.testsupport.LogCapture;

/** The store-dir: layout and modes, atomic replacement, corrupt files detected, the lock between processes. */
class AcmeStoreTest {
    private static final List<String> NAMES = List.of("example.com", "www.example.com");
    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");

    @TempDir
    Path tmp;

    private static StoredCertificate certificate(List<String> names) throws Exception {
        return TestCertificates.issue(names, T0, T0.plusSeconds(90 * 86400), T0);
    }

    @Test
    void savedCertificatesLoadBackInTheManualsLayoutWithPrivateModes() throws Exception {
        Path dir = tmp.resolve("acme");
        AcmeStore store = AcmeStore.open(dir);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        assertThat(store.certificate(NAMES)).isEmpty();
        StoredCertificate saved = certificate(NAMES);
        store.save(saved);

        Path certDir = dir.resolve("certs").resolve(AcmeStore.id(NAMES));
        assertThat(AcmeStore.id(NAMES)).startsWith("example.com-").isEqualTo(AcmeStore.id(List.of("www.example.com", "EXAMPLE.com")));
        assertThat(AcmeStore.id(List.of("*.example.com"))).startsWith("_.example.com-");
        try (var files = Files.list(certDir)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactlyInAnyOrder("fullchain.pem", "key.pem", "meta.json");
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(certDir.resolve("key.pem")))).isEqualTo("rw-------");
        assertThat(Files.readString(certDir.resolve("key.pem"))).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(Files.readString(certDir.resolve("meta.json"))).contains("\"issuedAt\" : \"2026-12-01T00:00:00Z\"", "www.example.com");

        StoredCertificate loaded = AcmeStore.open(dir).certificate(List.of("www.example.com", "example.com")).orElseThrow();
        assertThat(loaded.chain()).isEqualTo(saved.chain());
        assertThat(loaded.key().getEncoded()).isEqualTo(saved.key().getEncoded());
        assertThat(loaded.issuedAt()).isEqualTo(T0);
    }

    @Test
    void theAccountIsKeptPerDirectory() throws Exception {
        AcmeStore store = AcmeStore.open(tmp);
        var key = AcmeClient.newKey(river.config.AcmeConfig.KeyType.ECDSA_P256);
        store.saveAccount("https://ca.test/dir", key, "https://ca.test/acct/1");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("account.json")))).isEqualTo("rw-------");
        AcmeStore.StoredAccount account = store.account("https://ca.test/dir").orElseThrow();
        assertThat(account.key().getPrivate().getEncoded()).isEqualTo(key.getPrivate().getEncoded());
        assertThat(account.location()).contains("https://ca.test/acct/1");
        assertThat(store.account("https://other.test/dir")).isEmpty();
        Files.writeString(tmp.resolve("account.json"), "{\"directory\": \"https://ca.test/dir\", \"algo");
        assertThat(store.account("https://ca.test/dir")).isEmpty();
    }

    @Test
    void corruptOrPartialFilesAreReportedAndTreatedAsAbsent() throws Exception {
        AcmeStore store = AcmeStore.open(tmp);
        Path certDir = tmp.resolve("certs").resolve(AcmeStore.id(NAMES));
        store.save(certificate(NAMES));
        String chain = Files.readString(certDir.resolve("fullchain.pem"));
        Files.writeString(certDir.resolve("fullchain.pem"), chain.substring(0, chain.length() / 2));
        assertThat(store.certificate(NAMES)).isEmpty();

        store.save(certificate(NAMES));
        StoredCertificate other = certificate(NAMES);
        Files.write(certDir.resolve("key.pem"), AcmeStore.pem("PRIVATE KEY", other.key().getEncoded()));
        try (LogCapture log = LogCapture.of(AcmeStore.class.getName())) {
            assertThat(store.certificate(NAMES)).isEmpty();
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("key.pem is not the key of the certificate", "ordered again"));

            store.save(certificate(NAMES));
            Files.writeString(certDir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
            assertThat(store.certificate(NAMES)).isEmpty();

            store.save(certificate(NAMES));
            Files.delete(certDir.resolve("meta.json"));
            assertThat(store.certificate(NAMES)).isEmpty();

            // A certificate that does not name every managed name (the set was changed by hand).
            StoredCertificate narrow = certificate(List.of("example.com"));
            store.save(new StoredCertificate(NAMES, narrow.key(), narrow.chain(), T0));
            assertThat(store.certificate(NAMES)).isEmpty();
            assertThat(log.lines()).anySatisfy(l -> assertThat(l).contains("does not name www.example.com"));

            store.save(certificate(NAMES));
            assertThat(store.certificate(NAMES)).isPresent();
        }
    }

    @Test
    void aReaderSeesTheOldFileOrTheNewOneNeverAHalf() throws Exception {
        Path file = tmp.resolve("big.pem");
        byte[] a = "A".repeat(1 << 19).getBytes(StandardCharsets.US_ASCII);
        byte[] b = "B".repeat(1 << 18).getBytes(StandardCharsets.US_ASCII);
        AcmeStore.writeAtomically(file, a, "rw-------");
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; i < 200; i++) {
                    AcmeStore.writeAtomically(file, i % 2 == 0 ? b : a, "rw-------");
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        writer.start();
        int reads = 0;
        while (writer.isAlive() || reads == 0) {
            byte[] seen = Files.readAllBytes(file);
            assertThat(seen.length == a.length && seen[seen.length - 1] == 'A' || seen.length == b.length && seen[seen.length - 1] == 'B')
                    .as("read %d bytes", seen.length).isTrue();
            reads++;
        }
        writer.join();
        assertThat(failed.get()).isNull();
        try (var files = Files.list(tmp)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly("big.pem");
        }
    }

    @Test
    void anUnwritableStoreDirRefusesToOpen() throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "");
        assertThatThrownBy(() -> AcmeStore.open(file.resolve("acme"))).isInstanceOf(IOException.class).hasMessageContaining("is not writable");
        Path readOnly = Files.createDirectory(tmp.resolve("ro"));
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-x------"));
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.isWritable(readOnly), "running as root: every directory is writable");
        assertThatThrownBy(() -> AcmeStore.open(readOnly.resolve("acme"))).isInstanceOf(IOException.class).hasMessageContaining("is not writable");
        assertThatThrownBy(() -> AcmeStore.open(readOnly)).isInstanceOf(IOException.class).hasMessageContaining("is not writable");
    }

    @Test
    void theLockIsExclusiveBetweenProcesses() throws Exception {
        AcmeStore store = AcmeStore.open(tmp);
        Path holder = tmp.resolve("LockHolder.java");
        Files.writeString(holder, """
                import java.nio.channels.FileChannel;
                import java.nio.file.*;
                public class LockHolder {
                    public static void main(String[] args) throws Exception {
                        try (FileChannel c = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                                var lock = c.lock()) {
                            System.out.println("locked");
                            System.out.flush();
                            System.in.read();
                        }
                        System.out.println("released");
                    }
                }
                """);
        Process other = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), holder.toString(),
                tmp.resolve("lock").toString()).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(other.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).isEqualTo("locked");
            assertThat(store.tryLock()).isEmpty();
            other.getOutputStream().write('\n');
            other.getOutputStream().flush();
            assertThat(out.readLine()).isEqualTo("released");
            try (AcmeStore.Lock lock = store.lock()) {
                assertThat(AcmeStore.open(tmp).tryLock()).as("another thread of this process").isEmpty();
            }
            store.tryLock().orElseThrow().close();
        } finally {
            other.destroy();
            other.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void closingTheStoreReleasesTheLockItsHolderStillHoldsAndTheHolderReleasesNothingTwice() throws Exception {
        AcmeStore stopping = AcmeStore.open(tmp);
        AcmeStore.Lock abandoned = stopping.lock(); // an ACME thread still unwinding an abandoned order
        AcmeStore next = AcmeStore.open(tmp);
        assertThat(next.tryLock()).isEmpty();
        stopping.close();
        AcmeStore.Lock taken = next.tryLock().orElseThrow();
        abandoned.close(); // the abandoned order's try-with-resources, afterwards: must not free the lock next holds
        assertThat(AcmeStore.open(tmp).tryLock()).isEmpty();
        taken.close();
        AcmeStore.open(tmp).tryLock().orElseThrow().close();
    }
}
