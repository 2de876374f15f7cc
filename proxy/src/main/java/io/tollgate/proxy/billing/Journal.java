package io.tollgate.proxy.billing;

import io.tollgate.schema.BillingStore.Outcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The outcomes of finished requests on local disk until the database has them, so that neither a
 * database outage nor a crash of the proxy loses a settlement or a request-log row.
 *
 * <p>A directory of append-only segment files {@code outcomes-<n>.journal}, oldest first, and a
 * {@code journal.lock} that one process holds while it uses the directory. A record is
 * {@code int32 length | int32 check | payload} (payload: {@link JournalCodec}); the check is the
 * payload's CRC32C XOR a number drawn from the segment's {@code n} ({@link #salt}), so a record
 * is valid in its own segment only (records from before this salt, which proxies before
 * 2026-12-06 wrote, are recognised at start by their plain CRC and still read).
 * {@link #append} writes a whole batch with one write (group commit; {@code Billing} makes at most
 * one every 5 ms): once it returns, the batch is in the kernel's page cache and survives a crash
 * of the process. {@link #sync} ({@code fdatasync}) makes everything appended so far survive a
 * crash of the machine too; {@code Billing} calls it at most every 50 ms, since the sync, not the
 * write, was most of the journal's CPU. A crash mid-append (or a machine's crash before a sync)
 * leaves a torn or missing last record: found at start by its impossible length or wrong CRC,
 * everything from it on in its segment is ignored.
 *
 * <p>Nothing records what was applied: a segment is done once all its records were acknowledged,
 * and the segment being written starts over when everything is applied and it has grown past
 * 1 MB. So after a crash up to that much already-applied outcomes are applied again, which changes
 * nothing: spending and the request log are idempotent by request id. Each start writes a new
 * segment; older ones are only read.
 *
 * <p>Files are used again rather than written anew (as PostgreSQL recycles its WAL segments): the
 * segment being written starts over by being renamed to the next {@code n}, and up to
 * {@link #MAX_SPARES} done segments are kept as {@code outcomes.spare.<k>}, the latest renamed to
 * the next segment when one is started. Their old records fail the new name's check, so they read
 * as the end of the records exactly as zeros do, and the file keeps its size: no megabyte of zeros
 * written and flushed again for every megabyte of records (writing them was a sixth of the journal
 * thread's CPU), and pages the kernel still caches instead of new ones (a backlog that the
 * database works off and builds again, as under a load it cannot keep up with, took a new file
 * for every segment when one spare was kept: its zeros, first touches of new page-cache pages,
 * were a third of the journal thread's CPU in a saturation profile). A rename is made durable
 * (directory fsync) before anything is appended under the new name. Ids only grow within a run, so
 * a file never comes back under a name it had; spares found at start are deleted, as ids start
 * over after the last name in the directory.
 *
 * <p>The segment being written is extended with zeros a megabyte ({@link #PREALLOCATE}) at a time,
 * ahead of its records: an {@code fdatasync} of bytes written over those zeros makes only the data
 * durable, where one that grows the file also commits its new size through the file system's own
 * journal (measured on this ext4: 3 context switches and 51-55 µs of CPU a sync growing, 2 and
 * 40 µs overwriting). The zeros read as the end of the records, never as a torn write. A file
 * used again is only extended where its records outgrow it.
 *
 * <p>What this process appended is also kept in memory, up to {@link #MIRROR_LIMIT} outcomes, so
 * that {@link #peek} hands those back without reading and decoding the file: while every
 * unapplied record is mirrored, the file is only written. Past the limit (a long database
 * outage) the mirror is dropped, and reading goes to the file until everything is applied.
 */
public final class Journal implements OutcomeLog {

    private static final Logger log = LoggerFactory.getLogger(Journal.class);

    static final long DEFAULT_SEGMENT_BYTES = 8L << 20;
    /** Reuse the written segment from its start once everything is applied and it is this big. */
    static final long EMPTY_WHEN_APPLIED = 1L << 20;
    /** The written segment is extended with zeros this much at a time, ahead of its records. */
    static final long PREALLOCATE = 1L << 20;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 << 10);
    static final int MAX_RECORD = 1 << 20;
    static final int HEADER = 8;
    private static final String PREFIX = "outcomes-";
    private static final String SUFFIX = ".journal";
    /** Done segments' files, kept to become the next segments, are named this, a dot and a number; never read for records. */
    static final String SPARE = "outcomes.spare";
    /**
     * The most done segments kept to be used again: about 72 MB of disk at the default segment
     * size (8 MB, allocated up to a megabyte past), as PostgreSQL keeps 80 MB of WAL by default
     * ({@code min_wal_size}).
     */
    static final int MAX_SPARES = 8;
    /** By default, the most unapplied outcomes kept in memory besides the file (some 5 MB). */
    static final int MIRROR_LIMIT = 10_000;

    /** An outcome appended by this process, and where its record ends: what acknowledging it moves to. */
    private record Mirrored(Outcome outcome, Segment segment, long end) {
    }

    private static final class Segment {
        final long id;
        final Path path;
        /** What each record's CRC is XORed with: {@link #salt} of the id, or 0 in an older proxy's file. */
        final int salt;
        FileChannel channel;        // open while written or read
        long end;                   // bytes of whole, valid records
        boolean unsynced;           // written since its last fdatasync
        long allocated;             // bytes in the file (records, then zeros or old records) while it is written
        long records;

        Segment(long id, Path path, int salt) {
            this.id = id;
            this.path = path;
            this.salt = salt;
        }

        /** Written before records were salted: read, then deleted, never used again. */
        boolean legacy() {
            return salt == 0;
        }
    }

    /** What a segment's end, records and salt turned out to be when it was read from the start. */
    private record Scanned(long end, long records, int salt) {
    }

    private final Path dir;
    private final long segmentBytes;
    private final int mirrorLimit;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final ArrayDeque<Segment> segments = new ArrayDeque<>();   // last one is written
    private final ByteBuffer readBuffer = ByteBuffer.allocate(MAX_RECORD + HEADER);
    private final CRC32C crc = new CRC32C();
    private ByteBuffer writeBuffer = ByteBuffer.allocate(64 << 10);
    private long unapplied;
    private boolean rollBeforeAppend;
    private long appends;
    private long syncs;
    private Segment readSegment;
    private long readPos;
    private Segment peekSegment;
    /** Done segments' files waiting to be used again ({@link #SPARE}), the latest done last. */
    private final ArrayDeque<Path> spares = new ArrayDeque<>();
    private long spareNames;
    private long peekPos;
    private int peeked;
    /** The newest {@code mirror.size()} unapplied records; used only while that is all of them. */
    private final ArrayDeque<Mirrored> mirror = new ArrayDeque<>();
    private boolean peekedMirror;

    private Journal(Path dir, long segmentBytes, int mirrorLimit, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.segmentBytes = segmentBytes;
        this.mirrorLimit = mirrorLimit;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Opens (creating it if need be) the journal in {@code dir}; what it already holds from an
     * earlier run is {@link #unapplied()} and comes first in {@link #peek}.
     *
     * @throws IllegalStateException when another journal, in this process or another, has it open
     */
    public static Journal open(Path dir) throws IOException {
        return open(dir, DEFAULT_SEGMENT_BYTES);
    }

    static Journal open(Path dir, long segmentBytes) throws IOException {
        return open(dir, segmentBytes, MIRROR_LIMIT);
    }

    static Journal open(Path dir, long segmentBytes, int mirrorLimit) throws IOException {
        Files.createDirectories(dir);
        FileChannel lockChannel = FileChannel.open(dir.resolve("journal.lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            lockChannel.close();
            throw new IllegalStateException("the journal in " + dir + " is in use by another proxy");
        }
        Journal j = new Journal(dir, segmentBytes, mirrorLimit, lockChannel, lock);
        try {
            j.recover();
            return j;
        } catch (IOException | RuntimeException e) {
            j.close();
            throw e;
        }
    }

    /** Every outcome the segments in {@code dir} hold, read without taking the lock (tests, tools). */
    public static List<Outcome> read(Path dir) throws IOException {
        List<Outcome> all = new ArrayList<>();
        ByteBuffer buffer = ByteBuffer.allocate(MAX_RECORD + HEADER);
        for (Path p : segmentFiles(dir)) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                scanSegment(ch, idOf(p), buffer, new CRC32C(), all);
            }
        }
        return all;
    }

    private void recover() throws IOException {
        long lastId = 0;
        // A spare a crash left is not used: segment ids start over in each run, and the spare may
        // have been the very segment the next id names (its records would check again).
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, SPARE + "*")) {
            for (Path p : ds) {
                Files.deleteIfExists(p);
            }
        }
        for (Path p : segmentFiles(dir)) {
            long id = idOf(p);
            lastId = id;
            Scanned scanned;
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                long size = ch.size();
                scanned = scanSegment(ch, id, readBuffer, crc, null);
                if (scanned.end() < size && !zerosFrom(ch, scanned.end(), size)) {
                    log.warn("journal segment {}: ignoring {} bytes after its last whole record at {} "
                            + "(a torn write, or records of the file's earlier use)", p.getFileName(), size - scanned.end(),
                            scanned.end());
                }
            }
            if (scanned.records() == 0) {
                Files.deleteIfExists(p);
                continue;
            }
            Segment s = new Segment(id, p, scanned.salt());
            s.end = scanned.end();
            s.records = scanned.records();
            segments.addLast(s);
            unapplied += s.records;
        }
        if (unapplied > 0) {
            log.info("journal in {} holds {} outcomes not known to be in the database; applying them", dir, unapplied);
        }
        startSegment(lastId + 1);
        readSegment = segments.getFirst();
        readPos = 0;
    }

    /** True when the bytes of {@code ch} from {@code from} to {@code size} are all zero (a preallocated tail). */
    private boolean zerosFrom(FileChannel ch, long from, long size) throws IOException {
        for (long pos = from; pos < size; ) {
            readBuffer.clear();
            readBuffer.limit((int) Math.min(readBuffer.capacity(), size - pos));
            readFully(ch, readBuffer, pos);
            for (int i = 0; i < readBuffer.limit(); i++) {
                if (readBuffer.get(i) != 0) {
                    return false;
                }
            }
            pos += readBuffer.limit();
        }
        return true;
    }

    /**
     * Reads segment {@code id}'s whole, valid records from its start, decoding them into
     * {@code into} unless it is null. A file whose records check only without a salt is an older
     * proxy's: read as such (a record salted with {@code id} never checks without it, since the
     * salt is never 0, and the other way round).
     */
    private static Scanned scanSegment(FileChannel ch, long id, ByteBuffer buffer, CRC32C crc, List<Outcome> into)
            throws IOException {
        Scanned salted = scan(ch, buffer, crc, salt(id), into);
        if (salted.records() == 0) {
            Scanned legacy = scan(ch, buffer, crc, 0, into);
            if (legacy.records() > 0) {
                return legacy;
            }
        }
        return salted;
    }

    /**
     * A segment's salt: its id through a 64-bit multiplicative hash, never 0. Consecutive ids get
     * far apart values, so a file renamed to the next id sees none of its old records check.
     */
    static int salt(long id) {
        int h = (int) ((id * 0x9E3779B97F4A7C15L) >>> 32);
        return h != 0 ? h : 1;
    }

    /**
     * Reads whole records valid under {@code salt} from the start of {@code ch}, decoding them
     * into {@code into} unless it is null.
     */
    private static Scanned scan(FileChannel ch, ByteBuffer buffer, CRC32C crc, int salt, List<Outcome> into)
            throws IOException {
        long size = ch.size();
        long pos = 0;
        long records = 0;
        while (true) {
            buffer.clear();
            buffer.limit((int) Math.min(buffer.capacity(), size - pos));
            readFully(ch, buffer, pos);
            buffer.flip();
            int consumed = 0;
            while (true) {
                int len = validRecordAt(buffer, crc, salt);
                if (len < 0) {
                    break;
                }
                if (into != null) {
                    into.add(decodeAt(buffer, len));
                }
                buffer.position(buffer.position() + HEADER + len);
                consumed += HEADER + len;
                records++;
            }
            pos += consumed;
            // Nothing whole in a full buffer, or nothing more in the file: this is the end.
            if (consumed == 0) {
                return new Scanned(pos, records, salt);
            }
        }
    }

    /** The payload length of the whole record at the buffer's position that checks under {@code salt}, else −1. */
    private static int validRecordAt(ByteBuffer b, CRC32C crc, int salt) {
        if (b.remaining() < HEADER) {
            return -1;
        }
        int len = b.getInt(b.position());
        if (len <= 0 || len > MAX_RECORD || b.remaining() - HEADER < len) {
            return -1;
        }
        crc.reset();
        crc.update(b.array(), b.arrayOffset() + b.position() + HEADER, len);
        return ((int) crc.getValue() ^ salt) == b.getInt(b.position() + 4) ? len : -1;
    }

    private static Outcome decodeAt(ByteBuffer b, int len) throws IOException {
        try {
            return JournalCodec.decode(ByteBuffer.wrap(b.array(), b.arrayOffset() + b.position() + HEADER, len).slice());
        } catch (IllegalArgumentException e) {
            // The CRC matched, so we wrote it: a newer version's journal, not a torn write.
            throw new IOException("unreadable journal record: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void append(List<Outcome> outcomes) throws IOException {
        if (outcomes.isEmpty()) {
            return;
        }
        Segment s = segments.getLast();
        if (rollBeforeAppend || (s.end >= segmentBytes && s.end > 0)) {
            s = startSegment(s.id + 1);
        }
        ByteBuffer batch = encode(outcomes, s.salt);
        long start = s.end;
        try {
            if (s.end + batch.limit() > s.allocated) {
                preallocate(s, s.end + batch.limit());     // the next sync also makes the new size durable
            }
            long pos = s.end;
            s.unsynced = true;
            while (batch.hasRemaining()) {
                pos += s.channel.write(batch, pos);
            }
        } catch (IOException e) {
            // Whatever reached the file past s.end is never read by this process; a new segment
            // keeps later appends clear of it (a restart applies it again, harmlessly, if whole).
            rollBeforeAppend = true;
            throw e;
        }
        s.end += batch.limit();
        s.records += outcomes.size();
        appends++;
        boolean mirrored = mirror.size() == unapplied && unapplied + outcomes.size() <= mirrorLimit;
        unapplied += outcomes.size();
        if (mirrored) {
            long end = start;
            for (Outcome o : outcomes) {
                end += HEADER + batch.getInt((int) (end - start));
                mirror.addLast(new Mirrored(o, s, end));
            }
        } else {
            mirror.clear();                                  // until all is applied: read from the file
        }
    }

    /**
     * Makes every record appended so far survive a crash of the machine: one {@code fdatasync} of
     * the segment being written (a segment left behind was synced when the next one started).
     * After a failed sync the kernel may have dropped those pages' errors with them, so appends go
     * on in a new segment; the records written before stay where they are, for this process to
     * apply, and are lost only if the machine also crashes before the database has them.
     */
    public synchronized void sync() throws IOException {
        Segment s = segments.peekLast();
        try {
            force(s);
        } catch (IOException e) {
            rollBeforeAppend = true;
            throw e;
        }
    }

    /** One {@code fdatasync} of {@code s} if it was written since its last one; null or closed: nothing to do. */
    private void force(Segment s) throws IOException {
        if (s == null || !s.unsynced || s.channel == null) {
            return;
        }
        s.unsynced = false;
        s.channel.force(false);
        syncs++;
    }

    /** The {@code fdatasync}s of records so far (tests). */
    synchronized long syncs() {
        return syncs;
    }

    /** True while records written to the segment being written wait for a sync (tests). */
    synchronized boolean unsynced() {
        Segment s = segments.peekLast();
        return s != null && s.unsynced;
    }

    /** The batches appended so far (tests). */
    synchronized long appends() {
        return appends;
    }

    /** Extends {@code s} with zeros to at least {@code needed} bytes, in whole {@link #PREALLOCATE}s. */
    private static void preallocate(Segment s, long needed) throws IOException {
        long target = (needed + PREALLOCATE - 1) / PREALLOCATE * PREALLOCATE;
        long pos = s.allocated;
        while (pos < target) {
            ByteBuffer zeros = ZEROS.duplicate();
            zeros.limit((int) Math.min(zeros.capacity(), target - pos));
            pos += s.channel.write(zeros, pos);
        }
        s.allocated = target;
    }

    /** The end of the records in the segment being written (tests). */
    synchronized long writtenEnd() {
        return segments.getLast().end;
    }

    /** The records of {@code outcomes}, header and payload each, in {@link #writeBuffer} (reused). */
    private ByteBuffer encode(List<Outcome> outcomes, int salt) {
        ByteBuffer b = writeBuffer.clear();
        for (Outcome o : outcomes) {
            int start = b.position();
            while (true) {
                try {
                    b.position(start + HEADER);
                    JournalCodec.encode(o, b);
                    break;
                } catch (BufferOverflowException full) {
                    if (b.capacity() - start - HEADER > MAX_RECORD) {
                        throw new IllegalArgumentException("an outcome does not fit a journal record of " + MAX_RECORD + " bytes");
                    }
                    ByteBuffer bigger = ByteBuffer.allocate(b.capacity() * 2);
                    bigger.put(b.array(), 0, start);
                    b = writeBuffer = bigger;
                }
            }
            int len = b.position() - start - HEADER;
            if (len > MAX_RECORD) {
                throw new IllegalArgumentException("an outcome of " + len + " bytes does not fit a journal record");
            }
            crc.reset();
            crc.update(b.array(), start + HEADER, len);
            b.putInt(start, len).putInt(start + 4, (int) crc.getValue() ^ salt);
        }
        return b.flip();
    }

    @Override
    public synchronized List<Outcome> peek(int max) throws IOException {
        List<Outcome> out = new ArrayList<>(Math.min(max, (int) Math.min(unapplied, Integer.MAX_VALUE)));
        if (!mirror.isEmpty() && mirror.size() == unapplied) {
            Mirrored last = null;
            for (Mirrored m : mirror) {
                if (out.size() == max) {
                    break;
                }
                out.add(m.outcome());
                last = m;
            }
            if (last != null) {
                peekSegment = last.segment();
                peekPos = last.end();
            }
            peeked = out.size();
            peekedMirror = true;
            return out;
        }
        peekedMirror = false;
        Segment s = readSegment;
        long pos = readPos;
        while (out.size() < max) {
            if (pos >= s.end) {
                Segment next = after(s);
                if (next == null) {
                    break;
                }
                if (s != segments.getLast()) {
                    closeChannel(s);
                }
                s = next;
                pos = 0;
                continue;
            }
            FileChannel ch = channel(s);
            readBuffer.clear();
            readBuffer.limit((int) Math.min(readBuffer.capacity(), s.end - pos));
            readFully(ch, readBuffer, pos);
            readBuffer.flip();
            while (out.size() < max) {
                int len = validRecordAt(readBuffer, crc, s.salt);
                if (len < 0) {
                    break;
                }
                out.add(decodeAt(readBuffer, len));
                readBuffer.position(readBuffer.position() + HEADER + len);
                pos += HEADER + len;
            }
            if (readBuffer.position() == 0) {
                throw new IOException("journal segment " + s.path.getFileName() + " changed under us at " + pos);
            }
        }
        peekSegment = s;
        peekPos = pos;
        peeked = out.size();
        return out;
    }

    @Override
    public synchronized void acknowledge() throws IOException {
        if (peeked == 0) {
            return;
        }
        readSegment = peekSegment;
        readPos = peekPos;
        unapplied -= peeked;
        // An append past the limit since the peek dropped the mirror (it cannot fill again while
        // these are unapplied); otherwise the peeked records are still its first.
        if (peekedMirror && !mirror.isEmpty()) {
            for (int i = 0; i < peeked; i++) {
                mirror.removeFirst();
            }
        }
        peeked = 0;
        while (segments.getFirst() != readSegment) {
            Segment done = segments.removeFirst();
            closeChannel(done);
            Path spare = spares.size() < MAX_SPARES && !done.legacy()
                    ? dir.resolve(SPARE + "." + (spareNames + 1)) : null;
            if (spare != null && rename(done.path, spare)) {
                spareNames++;
                spares.addLast(spare);
            } else {
                Files.deleteIfExists(done.path);
            }
        }
        Segment written = segments.getLast();
        if (unapplied == 0 && readSegment == written && written.end >= EMPTY_WHEN_APPLIED && !rollBeforeAppend
                && !written.legacy()) {
            // Starts over as the next segment: the same file, its records now failing their check.
            Segment next = new Segment(written.id + 1, segmentPath(written.id + 1), salt(written.id + 1));
            if (rename(written.path, next.path)) {
                syncDirectory();                             // before a record is appended under the new name
                next.channel = written.channel;
                next.allocated = written.allocated;
                segments.removeLast();
                segments.addLast(next);
                readSegment = next;
                readPos = 0;
            }
        }
    }

    /** Renames {@code from} to {@code to} atomically; false (logged) when the file system refuses. */
    private static boolean rename(Path from, Path to) {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (IOException e) {
            log.warn("could not rename the journal file {} to {}: {}", from.getFileName(), to.getFileName(), e.toString());
            return false;
        }
    }

    @Override
    public synchronized long unapplied() {
        return unapplied;
    }

    @Override
    public boolean durable() {
        return true;
    }

    /** Syncs and closes the files and the lock; a journal with nothing unapplied leaves no segment behind. */
    @Override
    public synchronized void close() {
        boolean empty = unapplied == 0;
        if (!empty) {
            try {
                sync();
            } catch (IOException e) {
                log.warn("could not sync the journal at close: its last records may not survive a crash of the machine: {}",
                        e.toString());
            }
        }
        for (Segment s : segments) {
            closeChannel(s);
            if (empty) {
                try {
                    Files.deleteIfExists(s.path);
                } catch (IOException e) {
                    log.warn("could not delete the applied journal segment {}: {}", s.path, e.toString());
                }
            }
        }
        segments.clear();
        for (Path spare : spares) {
            try {
                Files.deleteIfExists(spare);
            } catch (IOException e) {
                log.warn("could not delete the spare journal file {}: {}", spare, e.toString());
            }
        }
        spares.clear();
        try {
            lock.release();
        } catch (IOException e) {
            log.warn("releasing the journal lock failed: {}", e.toString());
        }
        try {
            lockChannel.close();
        } catch (IOException e) {
            log.warn("closing the journal lock failed: {}", e.toString());
        }
    }

    private Segment startSegment(long id) throws IOException {
        Segment s = new Segment(id, segmentPath(id), salt(id));
        Path spare = spares.pollLast();                      // the latest done: the likeliest still cached
        if (spare != null && rename(spare, s.path)) {
            s.channel = FileChannel.open(s.path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            s.allocated = s.channel.size();
        } else {
            if (spare != null) {
                try {
                    Files.deleteIfExists(spare);
                } catch (IOException e) {
                    log.warn("could not delete the spare journal file {}: {}", spare, e.toString());
                }
            }
            s.channel = FileChannel.open(s.path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        }
        syncDirectory();
        Segment previous = segments.peekLast();
        try {
            force(previous);
        } catch (IOException e) {
            log.warn("could not sync the journal segment {}: its last records may not survive a crash of the machine: {}",
                    previous.path.getFileName(), e.toString());
        }
        if (previous != null && previous != readSegment) {
            closeChannel(previous);
        }
        segments.addLast(s);
        rollBeforeAppend = false;
        return s;
    }

    /** A new file's name must survive a crash too, or its fsynced records are lost with it. */
    private void syncDirectory() {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            log.debug("cannot fsync the journal directory {}: {}", dir, e.toString());
        }
    }

    private Path segmentPath(long id) {
        return dir.resolve(String.format("%s%020d%s", PREFIX, id, SUFFIX));
    }

    private Segment after(Segment s) {
        boolean found = false;
        for (Segment x : segments) {
            if (found) {
                return x;
            }
            found = x == s;
        }
        return null;
    }

    private FileChannel channel(Segment s) throws IOException {
        if (s.channel == null) {
            s.channel = FileChannel.open(s.path, StandardOpenOption.READ);
        }
        return s.channel;
    }

    private static void closeChannel(Segment s) {
        if (s.channel != null) {
            try {
                s.channel.close();
            } catch (IOException e) {
                log.debug("closing journal segment {}: {}", s.path, e.toString());
            }
            s.channel = null;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) {
                break;
            }
            pos += n;
        }
    }

    private static List<Path> segmentFiles(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return files;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX)) {
            ds.forEach(files::add);
        }
        files.sort((a, b) -> Long.compare(idOf(a), idOf(b)));
        return files;
    }

    private static long idOf(Path p) {
        String name = p.getFileName().toString();
        return Long.parseLong(name.substring(PREFIX.length(), name.length() - SUFFIX.length()));
    }
}
