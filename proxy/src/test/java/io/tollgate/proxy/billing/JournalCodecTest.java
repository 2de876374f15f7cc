package io.tollgate.proxy.billing;

import io.tollgate.schema.BillingStore.Outcome;
import io.tollgate.schema.RequestLogEntry;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.HexFormat;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One outcome as a journal payload: exact round trips, and the records an older proxy wrote. */
class JournalCodecTest {

    private static Outcome withAmounts(BigDecimal cost, BigDecimal credits) {
        RequestLogEntry e = new RequestLogEntry("req_1", "acct_1", "key_1", "modèle", "/v1/chat/completions",
                200, null, 12, null, 100L, 7L, credits, "up_1", Instant.ofEpochSecond(1_700_000_000L, 123_456_789));
        return new Outcome("px_holder", cost, e);
    }

    private static Outcome roundTrip(Outcome o) {
        return JournalCodec.decode(ByteBuffer.wrap(JournalCodec.encode(o)));
    }

    @Test
    void everyDecimalComesBackWithItsValueAndItsScale() {
        Stream.of("0", "0.000212000000", "-0.5", "1E+3", "-1E-40", "9223372036854775807", "-9223372036854775808",
                        "9223372036854775808", "-9223372036854775809", "123456789012345678901234567890.000000001",
                        "0.00000000000000000000000000000000000000000000000001")
                .map(BigDecimal::new)
                .forEach(d -> {
                    Outcome back = roundTrip(withAmounts(d, d.negate()));
                    // equals, not compareTo: 0.50 and 0.5 are different decimals to BigDecimal
                    assertThat(back.cost()).as("cost %s", d).isEqualTo(d).hasScaleOf(d.scale());
                    assertThat(back.log().credits()).as("credits %s", d.negate()).isEqualTo(d.negate());
                });
        BigDecimal huge = new BigDecimal(BigInteger.ONE.shiftLeft(4000).negate(), -17);
        assertThat(roundTrip(withAmounts(huge, huge)).cost()).isEqualTo(huge);
        assertThat(roundTrip(withAmounts(null, null))).isEqualTo(withAmounts(null, null));
    }

    @Test
    void aDecimalIsWrittenAsItsUnscaledValueNotAString() {
        Outcome o = withAmounts(new BigDecimal("0.000212000000"), new BigDecimal("0.000212000000"));
        byte[] payload = JournalCodec.encode(o);
        assertThat(payload[0]).isEqualTo(JournalCodec.VERSION);
        assertThat(new String(payload, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("0.000212");
        assertThat(roundTrip(o)).isEqualTo(o);
    }

    /** What Tollgate wrote before decimals were binary (hex of JournalCodec.encode at a7465ff). */
    private static final String VERSION_1_RECORD = "010000000970785f686f6c6465720000000e302e303030323132303030303030"
            + "000000057265715f3100000006616363745f31000000056b65795f31000000076d6f64c3a86c65000000142f76312f636861"
            + "742f636f6d706c6574696f6e73000000c8ffffffff010000000c000100000000000000640100000000000000070000000e30"
            + "2e3030303231323030303030300000000475705f3101000000006553f100075bcd15";

    @Test
    void aRecordAnOlderProxyLeftIsStillRead() {
        Outcome old = JournalCodec.decode(ByteBuffer.wrap(HexFormat.of().parseHex(VERSION_1_RECORD)));
        assertThat(old).isEqualTo(withAmounts(new BigDecimal("0.000212000000"), new BigDecimal("0.000212000000")));
    }

    @Test
    void anUnknownVersionOrDecimalTagIsRefusedNotGuessed() {
        byte[] payload = JournalCodec.encode(withAmounts(BigDecimal.ONE, BigDecimal.ONE));
        byte[] future = payload.clone();
        future[0] = 3;
        assertThatThrownBy(() -> JournalCodec.decode(ByteBuffer.wrap(future)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("version 3");
        byte[] badTag = payload.clone();
        int costTag = 1 + 4 + "px_holder".length();
        assertThat(badTag[costTag]).isEqualTo((byte) 1);
        badTag[costTag] = 7;
        assertThatThrownBy(() -> JournalCodec.decode(ByteBuffer.wrap(badTag)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("decimal tag 7");
    }
}
