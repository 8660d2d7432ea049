package river.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpResponseEncoder;
import river.proxy.ProxyEngine;

/** Sets up an accepted connection for HTTP/1.x: strict decoder, encoder, and the connection handler. */
public final class Http1ServerInitializer extends ChannelInitializer<Channel> {
    private final ProxyEngine engine;
    private final Http1Settings settings;
    private final boolean secure;

    public Http1ServerInitializer(ProxyEngine engine, Http1Settings settings, boolean secure) {
        this.engine = engine;
        this.settings = settings;
        this.secure = secure;
    }

    @Override
    protected void initChannel(Channel ch) {
        Http1Connection connection = new Http1Connection(engine, settings, secure);
        ch.pipeline()
                .addLast("decoder", new StrictRequestDecoder(connection, settings.maxRequestLineBytes(), settings.maxRequestHeaderBytes()))
                .addLast("encoder", new HttpResponseEncoder())
                .addLast("connection", connection);
    }
}
