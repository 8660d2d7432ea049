package river.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import river.proxy.Downstream;
import river.proxy.Exchange;

/**
 * What the HTTP/1.x connection and the HTTP/2 stream share as an exchange's client side: the channel,
 * the exchange in progress, reading and writability toggles, and telling the exchange when the
 * client goes away.
 */
abstract class ExchangeDownstream extends ChannelInboundHandlerAdapter implements Downstream {
    protected Channel channel;
    /** The exchange in progress; volatile because the shutdown thread reads it. */
    protected volatile Exchange current;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange exchange = current;
        if (exchange != null && channel.isWritable()) {
            exchange.onDownstreamWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void flush() {
        channel.flush();
    }

    /** Ends the exchange in progress, if any, because the client is gone. */
    protected final void abandonExchange() {
        Exchange exchange = current;
        current = null;
        if (exchange != null) {
            exchange.onDownstreamClosed();
        }
    }

    @Override
    public java.net.InetSocketAddress localAddress() {
        return ClientAddress.local(channel);
    }

    @Override
    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    @Override
    public void setReading(boolean reading) {
        // Each change costs a system call (or a window update): only change when needed.
        if (channel.config().isAutoRead() != reading) {
            channel.config().setAutoRead(reading);
        }
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }
}
