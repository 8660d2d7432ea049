package river.server;

import io.netty.channel.unix.Socket;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import river.config.ListenAddress;

/**
 * Listening sockets River did not open itself: handed over by the instance it upgrades from, or
 * passed by systemd's socket activation. Each is identified by what the kernel says of the socket
 * (its family and bound address), not by what the sender claims, and a listener of the new
 * configuration adopts the one bound to its address, as HAProxy matches them. Built once at start;
 * {@link #take} is called from the start-up thread only.
 */
public final class InheritedListeners {
    /** SOL_SOCKET, SO_DOMAIN and SO_ACCEPTCONN from Linux's socket.h. */
    private static final int SOL_SOCKET = 1;
    private static final int SO_DOMAIN = 39;
    private static final int SO_ACCEPTCONN = 30;
    private static final int AF_UNIX = 1;

    /** One inherited listening socket: its descriptor, the address it is bound to, and where it came from. */
    public record Inherited(int fd, ListenAddress address, String origin) {
        @Override
        public String toString() {
            return address + " (fd " + fd + " from " + origin + ")";
        }
    }

    private final List<Inherited> unclaimed;
    private final List<Inherited> claimed = new ArrayList<>();

    private InheritedListeners(List<Inherited> sockets) {
        this.unclaimed = new ArrayList<>(sockets);
    }

    /** No inherited sockets: every listener is bound afresh. */
    public static InheritedListeners none() {
        return new InheritedListeners(List.of());
    }

    public static InheritedListeners of(List<Inherited> sockets) {
        return new InheritedListeners(sockets);
    }

    /**
     * Identifies a listening socket by its descriptor: fails, naming the descriptor, when it is not a
     * listening stream socket.
     */
    public static Inherited identify(int fd, String origin) throws IOException {
        Socket socket = new Socket(fd);
        if (socket.getIntOpt(SOL_SOCKET, SO_ACCEPTCONN) == 0) {
            throw new IOException("descriptor " + fd + " from " + origin + " is not a listening socket");
        }
        if (socket.getIntOpt(SOL_SOCKET, SO_DOMAIN) == AF_UNIX) {
            io.netty.channel.unix.DomainSocketAddress local = socket.localDomainSocketAddress();
            if (local == null || local.path().isEmpty()) {
                throw new IOException("descriptor " + fd + " from " + origin + " is an unnamed unix socket");
            }
            return new Inherited(fd, new ListenAddress.Unix(Path.of(local.path())), origin);
        }
        InetSocketAddress local = socket.localAddress();
        String host = local.getAddress().getHostAddress();
        int zone = host.indexOf('%');
        return new Inherited(fd, new ListenAddress.Tcp(zone < 0 ? host : host.substring(0, zone), local.getPort()), origin);
    }

    /** Claims the inherited socket bound to {@code address}, if there is one; each is claimed once. */
    public Optional<Inherited> take(ListenAddress address) {
        for (int i = 0; i < unclaimed.size(); i++) {
            if (sameAddress(unclaimed.get(i).address(), address)) {
                Inherited taken = unclaimed.remove(i);
                claimed.add(taken);
                return Optional.of(taken);
            }
        }
        return Optional.empty();
    }

    /**
     * Claims the inherited socket bound to {@code address}, as {@link #take} does, for a listener bound
     * apart from the services (the admin listener): a set holding that one socket, or none. It counts
     * among this set's {@link #claimed} ones, so the instance that handed it over keeps it open.
     */
    public InheritedListeners claimFor(ListenAddress address) {
        return new InheritedListeners(take(address).map(List::of).orElse(List.of()));
    }

    /** The inherited sockets a listener adopted. */
    public List<Inherited> claimed() {
        return List.copyOf(claimed);
    }

    /** Whether an unclaimed inherited socket is bound to {@code address}. */
    public boolean offers(ListenAddress address) {
        return unclaimed.stream().anyMatch(s -> sameAddress(s.address(), address));
    }

    /** The inherited sockets no listener claimed (the new configuration no longer names them). */
    public List<Inherited> unclaimed() {
        return List.copyOf(unclaimed);
    }

    /** Closes the copies of sockets no listener claimed: the sender still owns its own. */
    public void closeUnclaimed() {
        for (Inherited s : unclaimed) {
            try {
                new Socket(s.fd()).close();
            } catch (IOException e) {
                // Already closed: nothing is left to release.
            }
        }
        unclaimed.clear();
    }

    /** Same socket address: IP literals compared as addresses ("::0" is "::"), ports and paths exactly. */
    static boolean sameAddress(ListenAddress a, ListenAddress b) {
        if (a instanceof ListenAddress.Tcp ta && b instanceof ListenAddress.Tcp tb) {
            return ta.port() == tb.port() && ta.port() != 0 && ip(ta.host()).equals(ip(tb.host()));
        }
        if (a instanceof ListenAddress.Unix ua && b instanceof ListenAddress.Unix ub) {
            return ua.path().toAbsolutePath().normalize().equals(ub.path().toAbsolutePath().normalize());
        }
        return false;
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByAddress(io.netty.util.NetUtil.createByteArrayFromIpAddressString(literal));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("not an IP literal: " + literal, e);
        }
    }
}
