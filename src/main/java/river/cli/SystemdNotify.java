package river.cli;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Socket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * systemd's notify protocol (sd_notify(3)) for a {@code Type=notify} unit: one datagram of
 * {@code KEY=VALUE} lines to the Unix socket {@code $NOTIFY_SOCKET} names (a path, or {@code @name}
 * in the abstract namespace). Without {@code NOTIFY_SOCKET} every call does nothing. The process-wide
 * hooks are {@link #ready()}, {@link #reloading()}, {@link #stopping()} and {@link #status(String)}.
 * A message that cannot be sent is logged and dropped: systemd's view of River is not worth failing
 * a request path, and systemd times out a unit that never says READY=1.
 */
final class SystemdNotify {
    private static final Logger LOG = LoggerFactory.getLogger(SystemdNotify.class);
    static final String NOTIFY_SOCKET = "NOTIFY_SOCKET";

    /** The notifier of this process, from its environment at start. */
    private static final SystemdNotify PROCESS = fromEnvironment(System.getenv());

    /** The socket address as the kernel takes it (a leading NUL for the abstract namespace); null when off. */
    private final byte[] address;
    private final String name;
    private Socket socket;

    SystemdNotify(String notifySocket) {
        this.name = notifySocket;
        if (notifySocket == null || notifySocket.isEmpty()) {
            this.address = null;
        } else if (notifySocket.startsWith("@")) {
            this.address = ("\0" + notifySocket.substring(1)).getBytes(StandardCharsets.UTF_8);
        } else if (notifySocket.startsWith("/")) {
            this.address = notifySocket.getBytes(StandardCharsets.UTF_8);
        } else {
            LOG.warn("{}={} is neither an absolute path nor an abstract name (@…): not notifying systemd", NOTIFY_SOCKET, notifySocket);
            this.address = null;
        }
    }

    static SystemdNotify fromEnvironment(Map<String, String> env) {
        return new SystemdNotify(env.get(NOTIFY_SOCKET));
    }

    /** READY=1 with MAINPID: River serves on every listener. Also sent when a reload has finished. */
    static void ready() {
        PROCESS.send(readyMessage(ProcessHandle.current().pid()));
    }

    /**
     * RELOADING=1 with MONOTONIC_USEC (systemd 253's {@code Type=notify-reload} wants it): a reload
     * has begun; send {@link #ready()} when it has ended, whatever its outcome.
     */
    static void reloading() {
        PROCESS.send(reloadingMessage(System.nanoTime()));
    }

    /** STOPPING=1: River is draining and will exit. */
    static void stopping() {
        PROCESS.send("STOPPING=1\nSTATUS=draining");
    }

    /** A free-form status line {@code systemctl status} shows. */
    static void status(String text) {
        PROCESS.send("STATUS=" + text.replace('\n', ' '));
    }

    static String readyMessage(long pid) {
        return "READY=1\nSTATUS=serving\nMAINPID=" + pid;
    }

    /** {@code monotonicNanos} from System.nanoTime, which is CLOCK_MONOTONIC on Linux, the clock systemd compares with. */
    static String reloadingMessage(long monotonicNanos) {
        return "RELOADING=1\nMONOTONIC_USEC=" + monotonicNanos / 1000 + "\nSTATUS=reloading the configuration";
    }

    /** Sends one message; false when notification is off or the datagram could not be sent. */
    synchronized boolean send(String message) {
        if (address == null) {
            return false;
        }
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        try {
            if (socket == null) {
                Epoll.ensureAvailability();
                socket = Socket.newSocketDomainDgram();
            }
            ByteBuffer datagram = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
            int sent = socket.sendToDomainSocket(datagram, 0, bytes.length, address);
            if (sent != bytes.length) {
                LOG.warn("systemd notification \"{}\" not sent to {}: its queue is full", message.replace('\n', ' '), name);
                return false;
            }
            LOG.debug("notified systemd: {}", message.replace('\n', ' '));
            return true;
        } catch (IOException | UnsatisfiedLinkError e) {
            LOG.warn("systemd notification \"{}\" not sent to {}: {}", message.replace('\n', ' '), name, e.toString());
            return false;
        }
    }
}
