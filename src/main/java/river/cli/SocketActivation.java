package river.cli;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import river.server.InheritedListeners;

/**
 * systemd's socket activation (sd_listen_fds(3)): the listening sockets a {@code .socket} unit opened,
 * passed as descriptors 3, 4, … with {@code LISTEN_PID} (this process), {@code LISTEN_FDS} (how many)
 * and {@code LISTEN_FDNAMES} (their {@code FileDescriptorName=}, for the log). Each becomes an
 * inherited listener, adopted by the configured listener bound to the same address; so River serves
 * port 443 without ever holding the privilege to bind it.
 */
final class SocketActivation {
    private static final Logger LOG = LoggerFactory.getLogger(SocketActivation.class);
    static final String LISTEN_PID = "LISTEN_PID";
    static final String LISTEN_FDS = "LISTEN_FDS";
    static final String LISTEN_FDNAMES = "LISTEN_FDNAMES";

    /**
     * The variables that describe this process's descriptors only: never passed on to a process River
     * starts (Java cannot unset its own environment, which is what sd_listen_fds' unset is for).
     */
    static final List<String> VARIABLES = List.of(LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES);

    /** SD_LISTEN_FDS_START: the first passed descriptor. */
    static final int FIRST_FD = 3;
    /** More descriptors than any socket unit passes: a bound on a malformed LISTEN_FDS. */
    private static final int MAX_FDS = 1024;
    private static final int O_NONBLOCK = 04000;

    private SocketActivation() {}

    /** Whether systemd passed sockets to this very process. */
    static boolean passedTo(Map<String, String> env, long pid) {
        return env.get(LISTEN_FDS) != null && Long.toString(pid).equals(env.getOrDefault(LISTEN_PID, "").strip());
    }

    /**
     * The sockets systemd passed to this process; none when LISTEN_FDS is unset or LISTEN_PID names
     * another process (the variables were inherited, not meant for River). Each is made non-blocking.
     */
    static List<InheritedListeners.Inherited> listeners(Map<String, String> env) throws IOException {
        String fds = env.get(LISTEN_FDS);
        if (fds == null) {
            return List.of();
        }
        long self = ProcessHandle.current().pid();
        if (!passedTo(env, self)) {
            LOG.info("{}={} is for process {}, not this one ({}): ignored", LISTEN_FDS, fds, env.get(LISTEN_PID), self);
            return List.of();
        }
        int count;
        try {
            count = Integer.parseInt(fds.strip());
        } catch (NumberFormatException e) {
            throw new IOException("socket activation: " + LISTEN_FDS + " must be a number of descriptors, got \"" + fds + "\"");
        }
        if (count < 0 || count > MAX_FDS) {
            throw new IOException("socket activation: " + LISTEN_FDS + "=" + count + " is out of range (0 to " + MAX_FDS + ")");
        }
        if (count > 0 && !io.netty.channel.epoll.Epoll.isAvailable()) {
            throw new IOException("socket activation needs the epoll transport, which did not load: "
                    + io.netty.channel.epoll.Epoll.unavailabilityCause());
        }
        String[] names = env.getOrDefault(LISTEN_FDNAMES, "").split(":", -1);
        List<InheritedListeners.Inherited> sockets = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int fd = FIRST_FD + i;
            String origin = "systemd" + (i < names.length && !names[i].isEmpty() ? " socket " + names[i] : "");
            makeNonBlocking(fd, origin);
            InheritedListeners.Inherited socket = InheritedListeners.identify(fd, origin);
            LOG.info("socket activation: {}", socket);
            sockets.add(socket);
        }
        return sockets;
    }

    /**
     * systemd passes a socket in blocking mode unless the unit says {@code NonBlocking=yes}, and
     * Netty accepts until the kernel says "no more": on a blocking socket that last accept would
     * hold the event loop until the next client. The file status flag is set here, once, before
     * Netty sees the socket.
     */
    static void makeNonBlocking(int fd, String origin) throws IOException {
        if (!isBlocking(fd)) {
            return;
        }
        try {
            setNonBlocking(fd);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IOException("descriptor " + fd + " from " + origin + " is in blocking mode and River could not change it ("
                    + e + "); set NonBlocking=yes in the .socket unit, or run the jar (whose manifest opens it) or the JVM with"
                    + " --add-opens java.base/sun.nio.ch=ALL-UNNAMED");
        }
        if (isBlocking(fd)) {
            throw new IOException("descriptor " + fd + " from " + origin + " stayed in blocking mode; set NonBlocking=yes in the .socket unit");
        }
        LOG.info("descriptor {} from {} was in blocking mode: made non-blocking", fd, origin);
    }

    /** Whether O_NONBLOCK is clear, from the kernel's account of the descriptor (octal "flags:"). */
    static boolean isBlocking(int fd) throws IOException {
        Path info = Path.of("/proc/self/fdinfo/" + fd);
        List<String> lines;
        try {
            lines = Files.readAllLines(info);
        } catch (IOException e) {
            throw new IOException("descriptor " + fd + " is not open (" + info + ": " + e.getMessage() + ")", e);
        }
        for (String line : lines) {
            if (line.startsWith("flags:")) {
                return (Integer.parseInt(line.substring("flags:".length()).strip(), 8) & O_NONBLOCK) == 0;
            }
        }
        throw new IOException(info + " has no flags line");
    }

    /**
     * fcntl(O_NONBLOCK) through the JDK's own native call, sun.nio.ch.IOUtil: the JDK offers no
     * public way to change a descriptor it did not open, nor does Netty, and River ships no JNI code
     * of its own. The jar's manifest opens the package (Add-Opens); the reflection stays in this one
     * method.
     */
    private static void setNonBlocking(int fd) throws ReflectiveOperationException {
        Class<?> ioUtil = Class.forName("sun.nio.ch.IOUtil");
        Method newFd = ioUtil.getDeclaredMethod("newFD", int.class);
        Method configureBlocking = ioUtil.getDeclaredMethod("configureBlocking", FileDescriptor.class, boolean.class);
        newFd.setAccessible(true);
        configureBlocking.setAccessible(true);
        // A FileDescriptor made by newFD has no cleaner: it never closes the descriptor it names.
        configureBlocking.invoke(null, newFd.invoke(null, fd), false);
    }
}
