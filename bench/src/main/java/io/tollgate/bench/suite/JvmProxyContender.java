package io.tollgate.bench.suite;

import java.util.List;

/** A proxy contender that is one JVM child process: its memory, CPU and heap are that process's. */
abstract class JvmProxyContender extends ChildContender {

    JvmProxyContender(Child child, int port) {
        super(child, port);
    }

    @Override
    public final List<Long> proxyPids() {
        return List.of(child.pid());
    }

    @Override
    public final long jvmPid() {
        return child.pid();
    }
}
