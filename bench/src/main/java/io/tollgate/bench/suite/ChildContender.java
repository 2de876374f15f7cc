package io.tollgate.bench.suite;

/** A contender that is a child process of the suite, listening on a loopback port. */
abstract class ChildContender implements Contender {

    final Child child;
    private final int port;

    ChildContender(Child child, int port) {
        this.child = child;
        this.port = port;
    }

    @Override
    public final String host() {
        return "127.0.0.1";
    }

    @Override
    public final int port() {
        return port;
    }

    @Override
    public final boolean alive() {
        return child.alive();
    }

    @Override
    public final String log() {
        return child.log().toString();
    }
}
