package io.capo.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Round-robin TCP forwarding on 127.0.0.1 to several Capo replicas, as a Service spreads connections (TLS passes
 * through). Unlike the integration tests' {@code TcpProxy} (accept backlog 200), its accept backlog takes a burst
 * of 2,000 new connections without dropping SYNs, which would add the kernel's 1 s SYN retransmission to the
 * figures.
 */
final class Balancer implements AutoCloseable {

    private final ServerSocket server;
    private final List<InetSocketAddress> targets;
    private final AtomicInteger next = new AtomicInteger();
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "balancer");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closed;

    Balancer(List<InetSocketAddress> targets) throws IOException {
        this.targets = List.copyOf(targets);
        this.server = new ServerSocket(0, 4096, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                continue;
            }
            threads.execute(() -> connect(client));
        }
    }

    private void connect(Socket client) {
        Socket upstream = new Socket();
        try {
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
            upstream.connect(targets.get(Math.floorMod(next.getAndIncrement(), targets.size())), 5_000);
        } catch (IOException e) {
            close(upstream);
            close(client);
            return;
        }
        threads.execute(() -> pump(upstream, client));
        pump(client, upstream);
    }

    private static void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16_384];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException ignored) {
            // one side went away
        } finally {
            close(from);
            close(to);
        }
    }

    private static void close(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // already closed
        }
        threads.shutdownNow();
    }
}
