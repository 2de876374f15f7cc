package io.tollgate.proxy.mock;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;

/**
 * Epoll when the native transport is there, NIO otherwise. The epoll classes are only on the
 * runtime classpath of this module (netty-transport-native-epoll comes with runtime scope), so
 * they are looked up by name.
 */
final class MockTransport {

    private static final String EPOLL = "io.netty.channel.epoll.Epoll";
    private static final String EPOLL_IO_HANDLER = "io.netty.channel.epoll.EpollIoHandler";
    private static final String EPOLL_SERVER_CHANNEL = "io.netty.channel.epoll.EpollServerSocketChannel";

    private MockTransport() {
    }

    /** For a group of the mock's own. */
    static IoHandlerFactory ioHandlerFactory() {
        if (epollAvailable()) {
            try {
                return (IoHandlerFactory) load(EPOLL_IO_HANDLER).getMethod("newFactory").invoke(null);
            } catch (ReflectiveOperationException e) {
                // fall back to NIO
            }
        }
        return NioIoHandler.newFactory();
    }

    /** The server channel that can register with {@code group}'s loops. */
    static Class<? extends ServerChannel> serverChannelType(EventLoopGroup group) {
        if (group instanceof IoEventLoopGroup io && epollAvailable()) {
            try {
                if (io.isIoType(load(EPOLL_IO_HANDLER).asSubclass(IoHandler.class))) {
                    return load(EPOLL_SERVER_CHANNEL).asSubclass(ServerChannel.class);
                }
            } catch (ClassNotFoundException e) {
                // fall back to NIO
            }
        }
        return NioServerSocketChannel.class;
    }

    private static boolean epollAvailable() {
        try {
            return (Boolean) load(EPOLL).getMethod("isAvailable").invoke(null);
        } catch (ReflectiveOperationException | LinkageError e) {
            return false;
        }
    }

    private static Class<?> load(String name) throws ClassNotFoundException {
        return Class.forName(name, true, MockTransport.class.getClassLoader());
    }
}
