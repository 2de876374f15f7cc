package io.tollgate.proxy.billing;

import io.tollgate.schema.BillingStore.Outcome;
import io.tollgate.schema.RequestLogEntry;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.BufferOverflowException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * One outcome as the payload of one journal record, big-endian: a version byte, then the holder,
 * the cost and every {@link RequestLogEntry} field in declaration order. Strings are an int32 byte
 * count (−1 for null) and UTF-8; nullable numbers are a presence byte and the value; the instant is
 * epoch seconds (int64) and nanos (int32).
 *
 * <p>A decimal (version 2) is a tag byte: 0 for null; 1, then its scale (int32) and its unscaled
 * value (int64), for up to 18 digits, which every price-sized amount fits; 2, then its scale and its unscaled value as
 * a string-like byte count and two's-complement bytes. Either way it comes back exact, scale
 * included. Version 1 wrote decimals as {@link BigDecimal#toPlainString()} strings, and its
 * records, from a journal an older proxy left behind, are still read: that string took a fifth
 * of the journal thread's CPU.
 */
final class JournalCodec {

    static final byte VERSION = 2;
    /** Decimals as strings; read, no longer written. */
    static final byte VERSION_1 = 1;
    private static final byte DECIMAL_NULL = 0;
    private static final byte DECIMAL_LONG = 1;
    private static final byte DECIMAL_BIG = 2;

    private JournalCodec() {
    }

    /** One payload on its own (tests, tools); the journal encodes into its own buffer instead. */
    static byte[] encode(Outcome o) {
        ByteBuffer b = ByteBuffer.allocate(Journal.MAX_RECORD);
        encode(o, b);
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    /**
     * Writes one payload at {@code out}'s position, straight into its array (no stream, no
     * per-string byte array for ASCII text).
     *
     * @throws BufferOverflowException when it does not fit; {@code out}'s position is then undefined
     */
    static void encode(Outcome o, ByteBuffer out) {
        RequestLogEntry e = o.log();
        out.put(VERSION);
        string(out, o.holder());
        decimal(out, o.cost());
        string(out, e.requestId());
        string(out, e.accountId());
        string(out, e.keyId());
        string(out, e.model());
        string(out, e.endpoint());
        out.putInt(e.status());
        string(out, e.errorCode());
        nullableInt(out, e.latencyMs());
        nullableInt(out, e.ttfbMs());
        nullableLong(out, e.inputTokens());
        nullableLong(out, e.outputTokens());
        decimal(out, e.credits());
        string(out, e.upstreamId());
        Instant at = e.createdAt();
        out.put((byte) (at != null ? 1 : 0));
        if (at != null) {
            out.putLong(at.getEpochSecond());
            out.putInt(at.getNano());
        }
    }

    /** Reads one payload; throws {@link IllegalArgumentException} when it is not one we wrote. */
    static Outcome decode(ByteBuffer in) {
        try {
            byte version = in.get();
            if (version != VERSION && version != VERSION_1) {
                throw new IllegalArgumentException("journal record version " + version + " is not " + VERSION_1
                        + " or " + VERSION);
            }
            boolean v1 = version == VERSION_1;
            String holder = string(in);
            BigDecimal cost = decimal(in, v1);
            RequestLogEntry e = new RequestLogEntry(
                    string(in), string(in), string(in), string(in), string(in),
                    in.getInt(),
                    string(in),
                    nullableInt(in), nullableInt(in),
                    nullableLong(in), nullableLong(in),
                    decimal(in, v1),
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

    private static void string(ByteBuffer out, String s) {
        if (s == null) {
            out.putInt(-1);
            return;
        }
        int at = out.position();
        int n = s.length();
        out.putInt(n);
        if (out.remaining() < n) {
            throw new BufferOverflowException();
        }
        // ASCII straight into the array: a put() per byte, with its checks, was most of the encoding.
        byte[] a = out.array();
        int p = out.arrayOffset() + out.position();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {                                 // not ASCII: the encoder's bytes instead
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                out.position(at);
                out.putInt(b.length).put(b);
                return;
            }
            a[p + i] = (byte) c;
        }
        out.position(out.position() + n);
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

    private static void decimal(ByteBuffer out, BigDecimal d) {
        if (d == null) {
            out.put(DECIMAL_NULL);
            return;
        }
        if (d.precision() <= 18) {
            // The unscaled value without unscaledValue(), which builds a BigInteger for it (as
            // costly as the string was): the same digits at scale 0, read as a long.
            out.put(DECIMAL_LONG).putInt(d.scale()).putLong(d.movePointRight(d.scale()).longValue());
        } else {
            byte[] bytes = d.unscaledValue().toByteArray();
            out.put(DECIMAL_BIG).putInt(d.scale()).putInt(bytes.length).put(bytes);
        }
    }

    private static BigDecimal decimal(ByteBuffer in, boolean v1) {
        if (v1) {
            String s = string(in);
            return s == null ? null : new BigDecimal(s);
        }
        byte tag = in.get();
        return switch (tag) {
            case DECIMAL_NULL -> null;
            case DECIMAL_LONG -> {
                int scale = in.getInt();
                yield BigDecimal.valueOf(in.getLong(), scale);
            }
            case DECIMAL_BIG -> {
                int scale = in.getInt();
                int n = in.getInt();
                if (n <= 0 || n > in.remaining()) {
                    throw new BufferUnderflowException();
                }
                byte[] bytes = new byte[n];
                in.get(bytes);
                yield new BigDecimal(new BigInteger(bytes), scale);
            }
            default -> throw new IllegalArgumentException("unknown decimal tag " + tag);
        };
    }

    private static void nullableInt(ByteBuffer out, Integer v) {
        out.put((byte) (v != null ? 1 : 0));
        if (v != null) {
            out.putInt(v);
        }
    }

    private static Integer nullableInt(ByteBuffer in) {
        return in.get() != 0 ? in.getInt() : null;
    }

    private static void nullableLong(ByteBuffer out, Long v) {
        out.put((byte) (v != null ? 1 : 0));
        if (v != null) {
            out.putLong(v);
        }
    }

    private static Long nullableLong(ByteBuffer in) {
        return in.get() != 0 ? in.getLong() : null;
    }
}
