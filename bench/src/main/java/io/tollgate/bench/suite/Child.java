package io.tollgate.bench.suite;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** A process the suite started: its output goes to a log file (and, line by line, to a listener). */
final class Child implements AutoCloseable {

    private final String name;
    private final Process process;
    private final Path log;
    private final ArrayDeque<String> tail = new ArrayDeque<>();

    private Child(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    static Child start(String name, List<String> command, Path dir, Consumer<String> onLine) throws IOException {
        Path log = dir.resolve(name + ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        Child child = new Child(name, p, log);
        Thread reader = new Thread(() -> child.pump(onLine), name + "-output");
        reader.setDaemon(true);
        reader.start();
        return child;
    }

    private void pump(Consumer<String> onLine) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             Writer w = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                w.write(line);
                w.write('\n');
                w.flush();
                synchronized (tail) {
                    if (tail.size() == 20) {
                        tail.removeFirst();
                    }
                    tail.addLast(line);
                }
                onLine.accept(line);
            }
        } catch (IOException e) {
            // the process is gone
        }
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    Path log() {
        return log;
    }

    /** The last lines it printed, for error messages. */
    String tail() {
        synchronized (tail) {
            return String.join("\n", tail);
        }
    }

    /** SIGTERM, then SIGKILL if it has not exited within {@code grace}. */
    void stop(Duration grace) {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(20));
    }
}
