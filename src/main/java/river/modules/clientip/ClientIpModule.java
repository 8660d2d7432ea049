package river.modules.clientip;

import io.netty.util.AsciiString;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletionStage;
import river.config.CidrSet;
import river.config.RequestGuards;
import river.proxy.ProxyModule;
import river.proxy.RequestContext;
import river.proxy.Verdict;

/**
 * River 0.8's {@code client-ip}: when the connection comes from a trusted proxy, the client is the
 * rightmost address in the forwarding header that is not itself a trusted proxy — the last address
 * something trusted vouched for (the leftmost is whatever the client made up). From an untrusted
 * peer the header is ignored. Every later filter, limit and log line sees the result.
 */
public final class ClientIpModule implements ProxyModule {
    private final CidrSet trusted;
    private final AsciiString header;

    public ClientIpModule(RequestGuards.ClientIp config) {
        this.trusted = CidrSet.of(config.trustedProxies());
        this.header = AsciiString.of(config.header());
    }

    @Override
    public CompletionStage<Verdict> onRequest(RequestContext ctx) {
        InetSocketAddress peer = ctx.client();
        if (peer == null || !trusted.contains(peer.getAddress())) {
            return Verdict.CONTINUE_NOW;
        }
        List<String> values = ctx.request().headers().getAll(header);
        InetAddress chosen = null;
        // Read right to left across all the header lines, as if they were one list.
        for (int v = values.size() - 1; v >= 0 && chosen == null; v--) {
            String[] entries = values.get(v).split(",");
            for (int i = entries.length - 1; i >= 0; i--) {
                InetAddress address = parse(entries[i].strip());
                if (address == null) {
                    return Verdict.CONTINUE_NOW; // garbage in the chain: believe nothing beyond the peer
                }
                chosen = address;
                if (!trusted.contains(address)) {
                    break;
                }
            }
        }
        if (chosen != null) {
            ctx.client(new InetSocketAddress(chosen, 0));
        }
        return Verdict.CONTINUE_NOW;
    }

    /** An IP literal, with or without brackets or a port; null if it is none. Never resolves a name. */
    static InetAddress parse(String entry) {
        String ip = entry;
        if (ip.startsWith("[")) {
            int end = ip.indexOf(']');
            ip = end < 0 ? ip : ip.substring(1, end);
        } else if (ip.indexOf(':') == ip.lastIndexOf(':') && ip.indexOf(':') > 0) {
            ip = ip.substring(0, ip.indexOf(':')); // IPv4 with a port
        }
        return io.netty.util.NetUtil.isValidIpV4Address(ip) || io.netty.util.NetUtil.isValidIpV6Address(ip)
                ? io.netty.util.NetUtil.createInetAddressFromIpAddressString(ip) : null;
    }
}
