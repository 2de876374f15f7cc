package io.tollgate.proxy.billing;

import io.tollgate.schema.BillingStore.Outcome;
import io.tollgate.schema.RequestLogEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.math.BigDecimal;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The journal on a real file system: order, exact round trips, torn tails, segments and the lock. */
class JournalTest {

    @TempDir
    Path dir;

    static Outcome outcome(int i) {
        RequestLogEntry e = new RequestLogEntry("req_" + i, "acct_1", "key_1", "test-chat", "/v1/chat/completions",
                200, null, 12, 3, 100L + i, 7L, new BigDecimal("0.000212000000"), "up_1",
                Instant.ofEpochSecond(1_700_000_000L + i, 123_456_789));
        return new Outcome("px_holder", new BigDecimal("0.000212000000"), e);
    }

    /** A refused request: no holder, a zero cost, most fields null, a multi-byte model name. */
    static Outcome refused(int i) {
        RequestLogEntry e = new RequestLogEntry("req_r" + i, null, null, "modèle-ü", "/v1/chat/completions",
                503, "service_unavailable", 5, null, null, null, BigDecimal.ZERO, null, Instant.ofEpochSecond(1, 0));
        return new Outcome(null, BigDecimal.ZERO, e);
    }

    private static List<Outcome> range(int from, int to) {
        List<Outcome> l = new ArrayList<>();
        for (int i = from; i < to; i++) {
            l.add(i % 3 == 0 ? refused(i) : outcome(i));
        }
        return l;
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".journal")).sorted().toList();
        }
    }

    private List<Path> spares() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(Journal.SPARE)).sorted().toList();
        }
    }

    private static Object inode(Path p) throws IOException {
        return Files.getAttribute(p, "unix:ino");
    }

    @Test
    void outcomesComeBackExactlyAndInOrder() throws IOException {
        try (Journal j = Journal.open(dir)) {
            j.append(range(0, 5));
            j.append(range(5, 9));
            assertThat(j.unapplied()).isEqualTo(9);
            assertThat(j.peek(100)).isEqualTo(range(0, 9));
            assertThat(j.peek(4)).isEqualTo(range(0, 4));
            j.acknowledge();
            assertThat(j.unapplied()).isEqualTo(5);
            assertThat(j.peek(100)).isEqualTo(range(4, 9));
        }
    }

    @Test
    void anAppendIsInTheFileAtOnceAndSyncedWhenAskedOrAtClose() throws IOException {
        Journal j = Journal.open(dir);
        try {
            j.append(range(0, 5));
            j.append(range(5, 7));
            // Written, not yet synced: another reader of the file sees it (it survives this process).
            assertThat(Journal.read(dir)).isEqualTo(range(0, 7));
            assertThat(j.appends()).isEqualTo(2);
            assertThat(j.syncs()).isZero();
            j.sync();
            assertThat(j.syncs()).isEqualTo(1);
            j.sync();                                        // nothing written since: no second fdatasync
            assertThat(j.syncs()).isEqualTo(1);
            j.append(range(7, 8));
        } finally {
            j.close();
        }
        assertThat(j.syncs()).as("close syncs what is unapplied").isEqualTo(2);
        assertThat(Journal.read(dir)).isEqualTo(range(0, 8));
    }

    @Test
    void aSegmentLeftBehindIsSyncedWhenTheNextOneStarts() throws IOException {
        try (Journal j = Journal.open(dir, 1_000)) {
            j.append(range(0, 30));                          // past 1,000 bytes: the next append rolls
            assertThat(j.syncs()).isZero();
            j.append(range(30, 31));
            assertThat(segments()).hasSize(2);
            assertThat(j.syncs()).isEqualTo(1);
            assertThat(j.peek(100)).isEqualTo(range(0, 31));
        }
    }

    @Test
    void aBatchBiggerThanTheWriteBufferComesBackExactly() throws IOException {
        try (Journal j = Journal.open(dir)) {
            j.append(range(0, 1_000));                       // some 250 KB: the 64 KB buffer grows twice mid-batch
        }
        try (Journal j = Journal.open(dir)) {
            assertThat(j.peek(Integer.MAX_VALUE)).isEqualTo(range(0, 1_000));
        }
    }

    @Test
    void whatWasNotAcknowledgedIsThereAfterAReopen() throws IOException {
        try (Journal j = Journal.open(dir)) {
            j.append(range(0, 10));
            j.peek(3);
            j.acknowledge();
            j.peek(2);                                   // peeked, never acknowledged: the database did not take them
        }
        try (Journal j = Journal.open(dir)) {
            // A restart cannot know what was applied within the segment: it offers all of it again.
            assertThat(j.unapplied()).isEqualTo(10);
            assertThat(j.peek(100)).isEqualTo(range(0, 10));
            j.append(range(10, 12));
            assertThat(j.peek(100)).isEqualTo(range(0, 12));
        }
        assertThat(Journal.read(dir)).isEqualTo(range(0, 12));
    }

    @Test
    void aFullyAppliedJournalLeavesNothingBehind() throws IOException {
        try (Journal j = Journal.open(dir)) {
            j.append(range(0, 10));
            assertThat(j.peek(100)).hasSize(10);
            j.acknowledge();
            assertThat(j.unapplied()).isZero();
        }
        assertThat(segments()).isEmpty();
        try (Journal j = Journal.open(dir)) {
            assertThat(j.unapplied()).isZero();
            assertThat(j.peek(100)).isEmpty();
        }
    }

    @Test
    void aTornLastRecordIsIgnoredAtEveryCut() throws IOException {
        try (Journal j = Journal.open(dir)) {
            j.append(range(0, 3));
            j.append(range(3, 4));
        }
        Path segment = segments().getFirst();
        byte[] whole = java.util.Arrays.copyOf(Files.readAllBytes(segment), recordBytes(range(0, 4)));   // without the zeros after them
        int lastRecord = whole.length - (Journal.HEADER + JournalCodec.encode(range(3, 4).getFirst()).length);
        for (int cut = lastRecord; cut < whole.length; cut++) {
            Files.write(segment, java.util.Arrays.copyOf(whole, cut));
            try (Journal j = Journal.open(dir)) {
                assertThat(j.unapplied()).as("cut at %d", cut).isEqualTo(3);
                assertThat(j.peek(100)).isEqualTo(range(0, 3));
            }
            // Each open starts a segment of its own; keep only the one under test.
            for (Path p : segments()) {
                if (!p.equals(segment)) {
                    Files.delete(p);
                }
            }
        }
    }

    /** The bytes the records of {@code outcomes} take in a segment, headers included (the zeros after them not). */
    private static int recordBytes(List<Outcome> outcomes) {
        int bytes = 0;
        for (Outcome o : outcomes) {
            bytes += Journal.HEADER + JournalCodec.encode(o).length;
        }
        return bytes;
    }

    @Test
    void aCorruptedLastRecordIsIgnoredAndLaterAppendsAreKept() throws IOException {
        try (Journal j = Journal.open(dir)) {
            j.append(range(0, 4));
        }
        Path segment = segments().getFirst();
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            long at = recordBytes(range(0, 4)) - 3;                          // the zeros after the records do not count
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x5a);                            // a payload byte: the CRC no longer matches
        }
        try (Journal j = Journal.open(dir)) {
            assertThat(j.unapplied()).isEqualTo(3);
            j.append(range(10, 12));                       // into a new segment, clear of the damage
        }
        List<Outcome> expected = new ArrayList<>(range(0, 3));
        expected.addAll(range(10, 12));
        assertThat(Journal.read(dir)).isEqualTo(expected);
    }

    @Test
    void theWrittenSegmentGrowsAMegabyteOfZerosAtATime() throws IOException {
        int written = 2;
        try (Journal j = Journal.open(dir)) {
            j.append(range(0, 2));
            Path segment = segments().getLast();
            assertThat(Files.size(segment)).as("one record in, the file already holds a megabyte")
                    .isEqualTo(Journal.PREALLOCATE);
            while (j.writtenEnd() <= Journal.PREALLOCATE) {
                j.append(range(written, written + 100));
                written += 100;
            }
            assertThat(Files.size(segment)).isEqualTo(2 * Journal.PREALLOCATE);
            byte[] bytes = Files.readAllBytes(segment);
            for (long i = j.writtenEnd(); i < bytes.length; i++) {
                assertThat(bytes[(int) i]).as("byte %d, after the records", i).isZero();
            }
        }
        try (Journal j = Journal.open(dir)) {                      // read back from the file: no more, no less
            assertThat(j.unapplied()).isEqualTo(written);
            assertThat(j.peek(Integer.MAX_VALUE)).isEqualTo(range(0, written));
        }
    }

    @Test
    void zerosAtTheEndAreATornWriteToo() throws IOException {
        try (Journal j = Journal.open(dir)) {
            j.append(range(0, 2));
        }
        Path segment = segments().getFirst();
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(java.nio.ByteBuffer.allocate(4096));  // size grew, data never came
        }
        try (Journal j = Journal.open(dir)) {
            assertThat(j.peek(100)).isEqualTo(range(0, 2));
        }
    }

    /** Overwrites every segment with zeros of the same length: what is read from a file now fails its CRC. */
    private void wipeSegments() throws IOException {
        for (Path p : segments()) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.allocate((int) ch.size()), 0);
            }
        }
    }

    @Test
    void whatThisProcessAppendedIsHandedBackFromMemory() throws IOException {
        try (Journal j = Journal.open(dir, 1_000)) {
            j.append(range(0, 30));
            wipeSegments();                                  // not read again: nothing changes
            assertThat(j.peek(12)).isEqualTo(range(0, 12));
            j.acknowledge();
            j.append(range(30, 35));
            assertThat(j.peek(100)).isEqualTo(range(12, 35));
            j.acknowledge();
            assertThat(j.unapplied()).isZero();
        }
    }

    @Test
    void pastTheMirrorLimitTheFileIsReadInOrderUntilAllIsApplied() throws IOException {
        try (Journal j = Journal.open(dir, 1_000, 10)) {
            j.append(range(0, 6));                           // mirrored
            j.append(range(6, 14));                          // 14 > 10: the mirror is dropped
            List<Outcome> seen = new ArrayList<>(j.peek(5));
            j.acknowledge();
            j.append(range(14, 16));                         // still from the file: 11 unapplied
            while (j.unapplied() > 0) {
                seen.addAll(j.peek(4));
                j.acknowledge();
            }
            assertThat(seen).isEqualTo(range(0, 16));

            j.append(range(16, 20));                         // all applied: mirrored again
            wipeSegments();
            assertThat(j.peek(10)).isEqualTo(range(16, 20));
            j.acknowledge();
            j.append(range(20, 31));                         // over the limit at once: the file
            wipeSegments();
            assertThatThrownBy(() -> j.peek(100)).isInstanceOf(IOException.class);
        }
    }

    @Test
    void theMirrorDroppedBetweenAPeekAndItsAcknowledgementLosesNothing() throws IOException {
        try (Journal j = Journal.open(dir, 1_000, 10)) {
            j.append(range(0, 6));                           // mirrored
            List<Outcome> seen = new ArrayList<>(j.peek(4)); // handed back from the mirror
            j.append(range(6, 14));                          // meanwhile: 14 > 10, the mirror is dropped
            j.acknowledge();
            assertThat(j.unapplied()).isEqualTo(10);
            while (j.unapplied() > 0) {
                seen.addAll(j.peek(3));
                j.acknowledge();
            }
            assertThat(seen).isEqualTo(range(0, 14));
        }
    }

    @Test
    void anOutcomeTooBigForARecordIsRefusedAndTheJournalStaysUsable() throws IOException {
        RequestLogEntry e = outcome(1).log();
        Outcome huge = new Outcome("px_holder", BigDecimal.ONE, new RequestLogEntry(e.requestId(), e.accountId(),
                e.keyId(), "m".repeat(Journal.MAX_RECORD + 1), e.endpoint(), e.status(), e.errorCode(), e.latencyMs(),
                e.ttfbMs(), e.inputTokens(), e.outputTokens(), e.credits(), e.upstreamId(), e.createdAt()));
        try (Journal j = Journal.open(dir)) {
            j.append(range(0, 2));
            assertThatThrownBy(() -> j.append(List.of(outcome(2), huge))).isInstanceOf(IllegalArgumentException.class);
            j.append(range(3, 5));
            assertThat(j.peek(10)).isEqualTo(List.of(refused(0), outcome(1), refused(3), outcome(4)));
        }
        try (Journal j = Journal.open(dir)) {
            assertThat(j.peek(10)).isEqualTo(List.of(refused(0), outcome(1), refused(3), outcome(4)));
        }
    }

    @Test
    void segmentsRollAndAreDeletedOnceApplied() throws IOException {
        try (Journal j = Journal.open(dir, 1_000)) {
            for (int i = 0; i < 40; i += 4) {
                j.append(range(i, i + 4));
            }
            assertThat(segments().size()).isGreaterThan(3);
            List<Outcome> seen = new ArrayList<>();
            while (j.unapplied() > 0) {
                List<Outcome> batch = j.peek(7);
                seen.addAll(batch);
                j.acknowledge();
            }
            assertThat(seen).isEqualTo(range(0, 40));
            assertThat(segments()).hasSize(1);              // only the one being written
            j.append(range(40, 41));
            assertThat(j.peek(10)).isEqualTo(range(40, 41));
        }
    }

    @Test
    void theWrittenSegmentStartsOverUnderTheNextNameAndKeepsItsSize() throws IOException {
        try (Journal j = Journal.open(dir)) {
            int written = 0;
            while (j.writtenEnd() < Journal.EMPTY_WHEN_APPLIED) {
                j.append(range(written, written + 500));
                written += 500;
            }
            Path before = segments().getLast();
            long size = Files.size(before);
            assertThat(j.peek(Integer.MAX_VALUE)).hasSize(written);
            j.acknowledge();
            assertThat(j.writtenEnd()).isZero();
            Path after = segments().getLast();
            assertThat(segments()).as("the same file, renamed to the next segment").containsExactly(after);
            assertThat(after).isNotEqualTo(before);
            assertThat(Files.size(after)).as("no zeros written again").isEqualTo(size);
            j.append(range(0, 2));
            assertThat(j.peek(10)).isEqualTo(range(0, 2));
            assertThat(Files.size(after)).isEqualTo(size);
        }
        assertThat(Journal.read(dir)).as("the first pass's records fail the new name's check")
                .isEqualTo(range(0, 2));
        try (Journal j = Journal.open(dir)) {
            assertThat(j.unapplied()).isEqualTo(2);
            assertThat(j.peek(10)).isEqualTo(range(0, 2));
        }
    }

    @Test
    void aDoneSegmentBecomesTheNextOneAndItsRecordsAreNotReadAgain() throws IOException {
        try (Journal j = Journal.open(dir, 1_000)) {
            for (int i = 0; i < 40; i += 4) {
                j.append(range(i, i + 4));
            }
            int written = segments().size();
            while (j.unapplied() > 0) {
                j.peek(7);
                j.acknowledge();
            }
            assertThat(spares()).as("every done segment kept").hasSize(written - 1);
            Path spare = spares().getLast();
            Object spareInode = inode(spare);
            long spareSize = Files.size(spare);
            int i = 40;
            while (Files.exists(spare)) {                     // until the next roll takes the latest spare
                j.append(range(i, i + 4));
                i += 4;
            }
            assertThat(spares()).hasSize(written - 2);
            Path reused = segments().getLast();
            assertThat(inode(reused)).isEqualTo(spareInode);
            assertThat(Files.size(reused)).isEqualTo(spareSize);
            byte[] bytes = Files.readAllBytes(reused);
            long tail = java.util.stream.IntStream.range((int) j.writtenEnd(), bytes.length).filter(b -> bytes[b] != 0).count();
            assertThat(tail).as("the old records are still in the file after the new ones").isPositive();
            List<Outcome> seen = new ArrayList<>();
            while (j.unapplied() > 0) {
                seen.addAll(j.peek(5));
                j.acknowledge();
            }
            assertThat(seen).isEqualTo(range(40, i));
        }
        assertThat(spares()).as("closing leaves no file").isEmpty();
        assertThat(segments()).isEmpty();
    }

    /**
     * A database that falls behind and catches up again, over and over: the segments of one backlog
     * are the files of the next, never new ones (each new one is written twice, zeros then records,
     * into pages the kernel must find anew), and no more than {@link Journal#MAX_SPARES} wait.
     */
    @Test
    void aBacklogWorkedOffAndBuiltAgainUsesTheSameFiles() throws IOException {
        try (Journal j = Journal.open(dir, 1_000)) {
            java.util.Set<Object> files = new java.util.HashSet<>();
            int next = 0;
            for (int backlog = 0; backlog < 3; backlog++) {
                int first = next;
                while (segments().size() < 5) {
                    j.append(range(next, next + 4));
                    next += 4;
                }
                for (Path p : segments()) {
                    if (backlog == 0) {
                        files.add(inode(p));
                    } else {
                        assertThat(files).as("backlog %d: %s is a file of the first", backlog, p.getFileName()).contains(inode(p));
                    }
                }
                List<Outcome> seen = new ArrayList<>();
                while (j.unapplied() > 0) {
                    seen.addAll(j.peek(6));
                    j.acknowledge();
                }
                assertThat(seen).as("backlog %d: its own records, none of an earlier use of the files", backlog)
                        .isEqualTo(range(first, next));
                assertThat(spares()).hasSize(4);
            }
            // A backlog longer than the spares kept: the rest of its done files are deleted.
            while (segments().size() < Journal.MAX_SPARES + 4) {
                j.append(range(next, next + 4));
                next += 4;
            }
            while (j.unapplied() > 0) {
                j.peek(6);
                j.acknowledge();
            }
            assertThat(spares()).hasSize(Journal.MAX_SPARES);
            assertThat(segments()).hasSize(1);
        }
        assertThat(spares()).isEmpty();
    }

    @Test
    void aSpareLeftByACrashIsDeletedNotUsed() throws IOException {
        try (Journal j = Journal.open(dir)) {
            j.append(range(0, 5));
        }
        // As if applied and kept, then the process died: the next run's first segment has the same
        // id the spare had, so its records would check again there.
        Files.move(segments().getFirst(), dir.resolve(Journal.SPARE));
        try (Journal j = Journal.open(dir)) {
            assertThat(j.unapplied()).isZero();
            assertThat(spares()).isEmpty();
            j.append(range(5, 7));
            assertThat(j.peek(10)).isEqualTo(range(5, 7));
        }
        assertThat(Journal.read(dir)).isEqualTo(range(5, 7));
    }

    /** A segment as a proxy wrote it before records were salted: the plain CRC32C of each payload. */
    private Path legacySegment(long id, List<Outcome> outcomes) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (Outcome o : outcomes) {
            byte[] payload = JournalCodec.encode(o);
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(payload);
            out.writeBytes(java.nio.ByteBuffer.allocate(Journal.HEADER).putInt(payload.length)
                    .putInt((int) crc.getValue()).array());
            out.writeBytes(payload);
        }
        out.writeBytes(new byte[4096]);                             // and its zeros
        Path p = dir.resolve(String.format("outcomes-%020d.journal", id));
        Files.write(p, out.toByteArray());
        return p;
    }

    @Test
    void anOlderProxysSegmentIsReadThenDeletedNotUsedAgain() throws IOException {
        Path old = legacySegment(7, range(0, 6));
        assertThat(Journal.read(dir)).isEqualTo(range(0, 6));
        try (Journal j = Journal.open(dir)) {
            assertThat(j.unapplied()).isEqualTo(6);
            j.append(range(6, 8));
            List<Outcome> seen = new ArrayList<>();
            while (j.unapplied() > 0) {
                seen.addAll(j.peek(4));
                j.acknowledge();
            }
            assertThat(seen).isEqualTo(range(0, 8));
            assertThat(old).doesNotExist();
            assertThat(spares()).as("its records would still check, unsalted").isEmpty();
        }
    }

    @Test
    void neighbouringSegmentsNeverShareASalt() {
        java.util.Set<Integer> salts = new java.util.HashSet<>();
        for (long id = 1; id <= 1_000_000; id++) {
            assertThat(salts.add(Journal.salt(id))).as("salt of %d", id).isTrue();
        }
        assertThat(salts).doesNotContain(0);
    }

    @Test
    void oneProxyAtATime() throws IOException {
        try (Journal j = Journal.open(dir)) {
            assertThatThrownBy(() -> Journal.open(dir)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("in use");
        }
        Journal.open(dir).close();
    }
}
