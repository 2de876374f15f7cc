package io.tollgate.proxy;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.tollgate.proxy.http.ClientTimeoutHandler;
import io.tollgate.proxy.http.RequestDecoder;
import io.tollgate.proxy.http.ResponseEncoder;
import io.tollgate.proxy.media.MediaHandler;
import io.tollgate.proxy.media.MediaServices;


/** The client-facing pipeline, top to bottom. Auto-read is off: the frontend pulls each message. */
public final class ProxyInitializer extends ChannelInitializer<SocketChannel> {

    public static final String TIMEOUTS = "timeouts";
    public static final String DECODER = "decoder";
    public static final String ENCODER = "encoder";
    public static final String MEDIA = "media";
    public static final String FRONTEND = "frontend";

    private final ProxyServices services;
    private final MediaServices media;
    private final ChannelGroup open;

    public ProxyInitializer(ProxyServices services, MediaServices media) {
        this(services, media, null);
    }

    /** @param open where each accepted connection is kept until it closes, for shutdown; may be null */
    public ProxyInitializer(ProxyServices services, MediaServices media, ChannelGroup open) {
        this.services = services;
        this.media = media;
        this.open = open;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        if (open != null) {
            open.add(ch);
        }
        ProxyConfig config = services.config();
        ChannelPipeline p = ch.pipeline();
        // The head's clock and the idle clock in one handler: one context fewer to pass.
        p.addLast(TIMEOUTS, new ClientTimeoutHandler(config.requestHeadTimeout(), config.clientIdleTimeout()));
        // The decoder also hands on one message per read() and counts body bytes against the limit
        // (RequestDecoder): what a flow-control and a body-limit handler behind it did, without their contexts.
        RequestDecoder decoder = new RequestDecoder(new HttpDecoderConfig()
                .setMaxInitialLineLength(config.maxInitialLineBytes())
                .setMaxHeaderSize(config.maxHeaderBytes())
                .setMaxChunkSize(64 * 1024), config.maxBodyBytes());
        p.addLast(DECODER, decoder);
        // The handlers' read() passes the encoder's context on its way out: it asks the decoder first.
        p.addLast(ENCODER, new ResponseEncoder(decoder));
        // Image and video requests are taken here; everything else goes on to the frontend.
        p.addLast(MEDIA, new MediaHandler(services, media));
        p.addLast(FRONTEND, new FrontendHandler(services));
    }
}
