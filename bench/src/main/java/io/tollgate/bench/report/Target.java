package io.tollgate.bench.report;

/**
 * One of issue #3's targets, judged on one run.
 *
 * @param name     what is promised, as the issue states it
 * @param tollgate Tollgate's measured value, as printed
 * @param nginx    nginx's value on the same measure, for reference ("—" when not applicable)
 * @param met      true met, false missed, null not measured in this run
 * @param note     why it was judged so, when that is not obvious
 */
public record Target(String name, String tollgate, String nginx, Boolean met, String note) {

    public String verdict() {
        return met == null ? "not measured" : met ? "met" : "**missed**";
    }
}
