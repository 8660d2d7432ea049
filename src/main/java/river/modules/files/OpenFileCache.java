package river.modules.files;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import river.proxy.FileLease;

/**
 * The file server's open-file cache, as nginx's {@code open_file_cache}: what a lookup found for a
 * request (the open file, its attributes, its type and variant) kept for {@code valid-ms}, so that the
 * next requests for it are answered on the event loop without a lookup, a hop to the blocking pool or a
 * system call. At most {@code max} entries, least recently used evicted first, so at most {@code max}
 * descriptors. Transfers share an entry's file through {@link FileLease}s; the file is closed when the
 * entry has left the cache (evicted, expired, replaced) and the last lease is closed. A file changed on
 * disk is seen up to {@code valid-ms} later.
 */
final class OpenFileCache {
    /** What a lookup resolved a request to. The cache holds one reference, each lease one more. */
    static final class Entry {
        final FileChannel file;
        final long size;
        final BasicFileAttributes attrs;
        final String type;
        /** The precompressed variant's encoding, or null for the file itself. */
        final String encoding;
        final String cacheControl;
        private final long bornNanos;
        private final AtomicInteger references = new AtomicInteger(1);

        Entry(FileChannel file, long size, BasicFileAttributes attrs, String type, String encoding, String cacheControl, long bornNanos) {
            this.file = file;
            this.size = size;
            this.attrs = attrs;
            this.type = type;
            this.encoding = encoding;
            this.cacheControl = cacheControl;
            this.bornNanos = bornNanos;
        }

        /** A new hold on the file, or null if it is already closed. */
        FileLease lease() {
            for (int r = references.get(); r > 0; r = references.get()) {
                if (references.compareAndSet(r, r + 1)) {
                    return new FileLease(file, size, this::release);
                }
            }
            return null;
        }

        void release() {
            if (references.decrementAndGet() == 0) {
                try {
                    file.close();
                } catch (IOException ignored) {
                    // Read only: the descriptor is released all the same.
                }
            }
        }
    }

    private final int max;
    private final long validNanos;
    private final LongSupplier nanoClock;
    private final LinkedHashMap<String, Entry> entries;

    /**
     * @param max the most entries (and open files) kept
     * @param validMs how long an entry is used before the file is looked up again
     * @param nanoClock {@link System#nanoTime} but in tests
     */
    OpenFileCache(int max, long validMs, LongSupplier nanoClock) {
        this.max = max;
        this.validNanos = validMs * 1_000_000L;
        this.nanoClock = nanoClock;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                if (size() > OpenFileCache.this.max) {
                    eldest.getValue().release();
                    return true;
                }
                return false;
            }
        };
    }

    /** The file's clock reading for a new entry. */
    long now() {
        return nanoClock.getAsLong();
    }

    /** A lease on the fresh entry for the key, with the entry (through {@code found}), or null: look it up. */
    synchronized Entry get(String key) {
        Entry e = entries.get(key);
        if (e == null) {
            return null;
        }
        if (nanoClock.getAsLong() - e.bornNanos >= validNanos) {
            entries.remove(key);
            e.release();
            return null;
        }
        return e;
    }

    /** Keeps the entry (the cache takes the reference it was born with), replacing the key's previous one. */
    synchronized void put(String key, Entry e) {
        Entry old = entries.put(key, e);
        if (old != null && old != e) {
            old.release();
        }
    }

    synchronized int size() {
        return entries.size();
    }

    /** Drops every entry; files still being sent are closed when their transfers end. */
    synchronized void clear() {
        for (Entry e : entries.values()) {
            e.release();
        }
        entries.clear();
    }
}
