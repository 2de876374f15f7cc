package io.tollgate.proxy.billing;

import io.tollgate.schema.BillingStore.Outcome;
import io.tollgate.schema.RequestLogEntry;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * One outcome as the payload of one journal record, big-endian: a version byte, then the holder,
 * the cost and every {@link RequestLogEntry} field in declaration order. Strings and decimals are
 * an int32 byte count (−1 for null) and UTF-8 (decimals as {@link BigDecimal#toPlainString()}, so
 * they come back exact); nullable numbers are a presence byte and the value; the instant is
 * epoch seconds (int64) and nanos (int32).
 */
final class JournalCodec {

    static final byte VERSION = 1;

    private JournalCodec() {
    }

    static byte[] encode(Outcome o) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            RequestLogEntry e = o.log();
            out.writeByte(VERSION);
            string(out, o.holder());
            decimal(out, o.cost());
            string(out, e.requestId());
            string(out, e.accountId());
            string(out, e.keyId());
            string(out, e.model());
            string(out, e.endpoint());
            out.writeInt(e.status());
            string(out, e.errorCode());
            nullableInt(out, e.latencyMs());
            nullableInt(out, e.ttfbMs());
            nullableLong(out, e.inputTokens());
            nullableLong(out, e.outputTokens());
            decimal(out, e.credits());
            string(out, e.upstreamId());
            Instant at = e.createdAt();
            out.writeBoolean(at != null);
            if (at != null) {
                out.writeLong(at.getEpochSecond());
                out.writeInt(at.getNano());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);          // a byte array cannot fail
        }
        return bytes.toByteArray();
    }

    /** Reads one payload; throws {@link IllegalArgumentException} when it is not one we wrote. */
    static Outcome decode(ByteBuffer in) {
        try {
            byte version = in.get();
            if (version != VERSION) {
                throw new IllegalArgumentException("journal record version " + version + " is not " + VERSION);
            }
            String holder = string(in);
            BigDecimal cost = decimal(in);
            RequestLogEntry e = new RequestLogEntry(
                    string(in), string(in), string(in), string(in), string(in),
                    in.getInt(),
                    string(in),
                    nullableInt(in), nullableInt(in),
                    nullableLong(in), nullableLong(in),
                    decimal(in),
                    string(in),
                    in.get() != 0 ? Instant.ofEpochSecond(in.getLong(), in.getInt()) : null);
            if (in.hasRemaining()) {
                throw new IllegalArgumentException(in.remaining() + " bytes after the record");
            }
            return new Outcome(holder, cost, e);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("journal record ends early", e);
        }
    }

    private static void string(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String string(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0) {
            return null;
        }
        if (n > in.remaining()) {
            throw new BufferUnderflowException();
        }
        String s = new String(in.array(), in.arrayOffset() + in.position(), n, StandardCharsets.UTF_8);
        in.position(in.position() + n);
        return s;
    }

    private static void decimal(DataOutputStream out, BigDecimal d) throws IOException {
        string(out, d == null ? null : d.toPlainString());
    }

    private static BigDecimal decimal(ByteBuffer in) {
        String s = string(in);
        return s == null ? null : new BigDecimal(s);
    }

    private static void nullableInt(DataOutputStream out, Integer v) throws IOException {
        out.writeBoolean(v != null);
        if (v != null) {
            out.writeInt(v);
        }
    }

    private static Integer nullableInt(ByteBuffer in) {
        return in.get() != 0 ? in.getInt() : null;
    }

    private static void nullableLong(DataOutputStream out, Long v) throws IOException {
        out.writeBoolean(v != null);
        if (v != null) {
            out.writeLong(v);
        }
    }

    private static Long nullableLong(ByteBuffer in) {
        return in.get() != 0 ? in.getLong() : null;
    }
}
