package river.modules.files;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.FileRegion;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import river.proxy.FileLease;
import river.testsupport.OpenDescriptors;

/** The open-file cache: hits, expiry on the injected clock, bounded size, and files closed only when no transfer holds them. */
class OpenFileCacheTest {
    @TempDir
    Path dir;
    final AtomicLong nanos = new AtomicLong();

    static long descriptorsOn(Path file) throws IOException {
        return OpenDescriptors.on(file);
    }

    OpenFileCache.Entry entry(OpenFileCache cache, Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        return new OpenFileCache.Entry(ch, ch.size(), Files.readAttributes(file, BasicFileAttributes.class),
                "text/plain", null, null, cache.now());
    }

    Path file(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    static String read(FileChannel lease) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) lease.size());
        while (b.hasRemaining() && lease.read(b) > 0) {
            // until full
        }
        return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
    }

    @Test
    void aHitLeasesTheOpenFileWithItsSizeAndTwoLeasesReadIndependently() throws IOException {
        OpenFileCache cache = new OpenFileCache(10, 1000, nanos::get);
        Path a = file("a.txt", "hello");
        cache.put("a.txt", entry(cache, a));
        OpenFileCache.Entry hit = cache.get("a.txt");
        assertThat(hit).isNotNull();
        try (FileLease one = hit.lease(); FileLease two = hit.lease()) {
            assertThat(one.size()).isEqualTo(5);
            ByteBuffer b = ByteBuffer.allocate(2);
            one.read(b);
            assertThat(read(two)).isEqualTo("hello"); // its own position
            assertThat(one.position()).isEqualTo(2);
        }
        assertThat(cache.get("b.txt")).isNull();
        assertThat(descriptorsOn(a)).isEqualTo(1);
        cache.clear();
        assertThat(descriptorsOn(a)).isZero();
    }

    @Test
    void anEntryExpiresAfterValidMsOnTheClockAndItsFileIsClosed() throws IOException {
        OpenFileCache cache = new OpenFileCache(10, 100, nanos::get);
        Path a = file("a.txt", "hello");
        cache.put("a.txt", entry(cache, a));
        nanos.set(99_999_999L);
        assertThat(cache.get("a.txt")).isNotNull();
        nanos.set(100_000_000L);
        assertThat(cache.get("a.txt")).isNull();
        assertThat(cache.size()).isZero();
        assertThat(descriptorsOn(a)).isZero();
    }

    @Test
    void anEvictedFileStaysOpenUntilTheLastTransferHoldingItEnds() throws IOException {
        OpenFileCache cache = new OpenFileCache(1, 1000, nanos::get);
        Path a = file("a.txt", "first");
        Path b = file("b.txt", "second");
        OpenFileCache.Entry ea = entry(cache, a);
        cache.put("a.txt", ea);
        FileLease sending = cache.get("a.txt").lease();
        FileLease alsoSending = cache.get("a.txt").lease();
        cache.put("b.txt", entry(cache, b)); // evicts a
        assertThat(cache.get("a.txt")).isNull();
        assertThat(descriptorsOn(a)).isEqualTo(1);
        sending.close();
        sending.close(); // a second close releases nothing more
        assertThat(descriptorsOn(a)).isEqualTo(1);
        assertThat(read(alsoSending)).isEqualTo("first");
        alsoSending.close();
        assertThat(descriptorsOn(a)).isZero();
        assertThat(ea.lease()).isNull(); // closed for good: a late hit looks the file up again
        assertThat(descriptorsOn(b)).isEqualTo(1);
    }

    @Test
    void aZeroCopyRegionReleasesItsLeaseNotTheSharedFile() throws IOException {
        OpenFileCache cache = new OpenFileCache(1, 1000, nanos::get);
        Path a = file("a.txt", "hello");
        OpenFileCache.Entry e = entry(cache, a);
        cache.put("a.txt", e);
        FileLease lease = e.lease();
        FileRegion region = lease.region(0, 5);
        region.release();
        assertThat(lease.isOpen()).isFalse();
        assertThat(e.file.isOpen()).isTrue();
        cache.clear();
        assertThat(e.file.isOpen()).isFalse();
    }

    @Test
    void theCacheHoldsAtMostMaxEntriesAndDescriptors() throws IOException {
        OpenFileCache cache = new OpenFileCache(3, 1000, nanos::get);
        long open = 0;
        for (int i = 0; i < 10; i++) {
            Path f = file(i + ".txt", "x" + i);
            cache.put(i + ".txt", entry(cache, f));
            assertThat(cache.size()).isLessThanOrEqualTo(3);
        }
        for (int i = 0; i < 10; i++) {
            open += descriptorsOn(dir.resolve(i + ".txt"));
        }
        assertThat(open).isEqualTo(3);
        assertThat(cache.get("9.txt")).isNotNull();
        assertThat(cache.get("0.txt")).isNull();
    }

    @Test
    void replacingAKeyReleasesThePreviousEntry() throws IOException {
        OpenFileCache cache = new OpenFileCache(3, 1000, nanos::get);
        Path a = file("a.txt", "one");
        OpenFileCache.Entry first = entry(cache, a);
        cache.put("a.txt", first);
        cache.put("a.txt", entry(cache, a));
        assertThat(first.file.isOpen()).isFalse();
        assertThat(descriptorsOn(a)).isEqualTo(1);
    }
}
