package io.tollgate.bench.suite;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** What /proc says about a process: resident memory, its peak, CPU time, children. Linux only. */
public final class ProcStats {

    /** USER_HZ: /proc reports CPU time in these ticks on every Linux the bench runs on. */
    static final long TICKS_PER_SECOND = 100;

    private ProcStats() {
    }

    /** VmRSS in bytes, 0 when the process is gone. */
    public static long rss(long pid) {
        return statusKb(pid, "VmRSS:") * 1024;
    }

    /** VmHWM (peak resident set since start or the last {@link #resetPeak}) in bytes. */
    public static long peakRss(long pid) {
        return statusKb(pid, "VmHWM:") * 1024;
    }

    public static long rss(List<Long> pids) {
        return pids.stream().mapToLong(ProcStats::rss).sum();
    }

    public static long peakRss(List<Long> pids) {
        return pids.stream().mapToLong(ProcStats::peakRss).sum();
    }

    /** Starts a new peak: writing 5 to clear_refs resets VmHWM to the current RSS. */
    public static void resetPeak(List<Long> pids) {
        for (long pid : pids) {
            try {
                Files.writeString(Path.of("/proc", Long.toString(pid), "clear_refs"), "5");
            } catch (IOException e) {
                // not ours to reset (another user): the peak then counts from the process's start
            }
        }
    }

    /**
     * Each CPU's busy and total time so far, in clock ticks, from /proc/stat's {@code cpuN} lines,
     * indexed by CPU number: {busy, total}. Busy is everything but idle and iowait (steal counts:
     * the CPU had work and the host ran something else). Empty when /proc/stat cannot be read.
     */
    public static long[][] cpuTicks() {
        String stat = read(Path.of("/proc/stat"));
        return stat == null ? new long[0][] : parseCpuTicks(stat);
    }

    static long[][] parseCpuTicks(String stat) {
        List<long[]> out = new ArrayList<>();
        for (String line : stat.split("\n")) {
            if (!line.startsWith("cpu") || line.startsWith("cpu ")) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            int cpu = Integer.parseInt(f[0].substring(3));
            long total = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {     // user … steal; guest time is inside user already
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + (f.length > 5 ? Long.parseLong(f[5]) : 0);
            while (out.size() <= cpu) {
                out.add(new long[2]);
            }
            out.set(cpu, new long[] {total - idle, total});
        }
        return out.toArray(long[][]::new);
    }

    /** User plus system CPU time of every thread of the process, in nanoseconds. */
    public static long cpuNanos(long pid) {
        String stat = read(Path.of("/proc", Long.toString(pid), "stat"));
        if (stat == null) {
            return 0;
        }
        // Fields after the command name, which may itself hold spaces and parentheses.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);     // utime, stime (fields 14, 15)
        return TimeUnit.SECONDS.toNanos(ticks) / TICKS_PER_SECOND;
    }

    /**
     * Adds each thread of {@code pid} to {@code into} under its name ({@code comm}, which Linux
     * cuts to 15 characters), summing threads of one name: CPU time and run-queue wait in
     * nanoseconds and time slices, the three fields of {@code /proc/<pid>/task/<tid>/schedstat}.
     * Nothing is added for a process that is gone or a kernel without schedstats.
     */
    public static void addThreads(long pid, Map<String, long[]> into) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            tasks.forEach(task -> {
                String comm = read(task.resolve("comm"));
                String sched = read(task.resolve("schedstat"));
                if (comm == null || sched == null) {
                    return;                                  // the thread ended meanwhile
                }
                long[] fields = parseSchedstat(sched);
                if (fields != null) {
                    long[] sum = into.computeIfAbsent(comm.strip(), k -> new long[3]);
                    for (int i = 0; i < 3; i++) {
                        sum[i] += fields[i];
                    }
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // the process is gone
        }
    }

    /** CPU ns, run-queue wait ns and time slices from a schedstat line; null when it is not one. */
    static long[] parseSchedstat(String line) {
        byte[] bytes = line.getBytes(StandardCharsets.US_ASCII);
        long[] fields = new long[3];
        return parseSchedstat(bytes, bytes.length, fields) ? fields : null;
    }

    /**
     * The three fields of a schedstat line in {@code bytes[0, length)} into {@code into}; false
     * when it is not one. Allocates nothing: the loop-lag probe reads its thread's line every
     * millisecond on the event loop it watches.
     */
    public static boolean parseSchedstat(byte[] bytes, int length, long[] into) {
        int field = 0;
        long value = 0;
        boolean inNumber = false;
        for (int i = 0; i < length && field < 3; i++) {
            byte c = bytes[i];
            if (c >= '0' && c <= '9') {
                value = value * 10 + (c - '0');
                inNumber = true;
            } else if (c == ' ' || c == '\t' || c == '\n') {
                if (inNumber) {
                    into[field++] = value;
                    value = 0;
                    inNumber = false;
                }
            } else {
                return false;
            }
        }
        if (inNumber && field < 3) {
            into[field++] = value;
        }
        return field == 3;
    }

    public static long cpuNanos(List<Long> pids) {
        return pids.stream().mapToLong(ProcStats::cpuNanos).sum();
    }

    /** Direct children of {@code pid}. */
    public static List<Long> children(long pid) {
        return pids(p -> parent(p) == pid);
    }

    /** Every process whose command line (as ps shows it) satisfies {@code test}. */
    public static List<Long> withCommandLine(Predicate<String> test) {
        return pids(p -> {
            String cmd = read(Path.of("/proc", Long.toString(p), "cmdline"));
            return cmd != null && test.test(cmd.replace('\0', ' '));
        });
    }

    /** The soft and hard open-file limits of this process (children inherit them). */
    public static long[] openFileLimits() {
        String limits = read(Path.of("/proc/self/limits"));
        if (limits != null) {
            Matcher m = Pattern.compile("Max open files\\s+(\\S+)\\s+(\\S+)").matcher(limits);
            if (m.find()) {
                return new long[] {parseLimit(m.group(1)), parseLimit(m.group(2))};
            }
        }
        return new long[] {1024, 1024};
    }

    static long parseLimit(String s) {
        return "unlimited".equals(s) ? Long.MAX_VALUE : Long.parseLong(s);
    }

    private static long parent(long pid) {
        String stat = read(Path.of("/proc", Long.toString(pid), "stat"));
        if (stat == null) {
            return -1;
        }
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        return Long.parseLong(f[1]);
    }

    private static List<Long> pids(Predicate<Long> test) {
        List<Long> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            s.map(p -> p.getFileName().toString())
                    .filter(n -> n.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong)
                    .filter(test)
                    .forEach(out::add);
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        return out;
    }

    static long statusKb(long pid, String field) {
        String status = read(Path.of("/proc", Long.toString(pid), "status"));
        return status == null ? 0 : statusField(status, field);
    }

    static long statusField(String status, String field) {
        for (String line : status.split("\n")) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
            }
        }
        return 0;
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The JVM's heap as {@code jcmd <pid> GC.heap_info} reports it: used and committed bytes. */
    public record Heap(long usedBytes, long committedBytes, String raw) {
    }

    public static Optional<Heap> heap(Path javaHome, long pid) {
        try {
            Process p = new ProcessBuilder(javaHome.resolve("bin/jcmd").toString(), Long.toString(pid), "GC.heap_info")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.empty();
            }
            return parseHeap(out);
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /**
     * The heap of GC.heap_info: G1 prints one "garbage-first heap … committed NK, used NK" line,
     * generational collectors one line per generation (summed); metaspace lines are left out.
     */
    static Optional<Heap> parseHeap(String out) {
        Pattern p = Pattern.compile("(?:total|committed) (\\d+)K, used (\\d+)K");
        long committed = 0;
        long used = 0;
        List<String> lines = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (line.contains("Metaspace") || line.contains("class space")) {
                continue;
            }
            Matcher m = p.matcher(line);
            if (m.find()) {
                committed += Long.parseLong(m.group(1)) * 1024;
                used += Long.parseLong(m.group(2)) * 1024;
                lines.add(line.trim());
            }
        }
        return lines.isEmpty() ? Optional.empty() : Optional.of(new Heap(used, committed, String.join("; ", lines)));
    }
}
