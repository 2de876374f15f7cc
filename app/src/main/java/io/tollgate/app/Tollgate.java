package io.tollgate.app;

import io.tollgate.proxy.ProxyServer;
import org.flywaydb.core.api.output.MigrateResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * {@code tollgate.jar}: one process that runs the proxy, the admin API or both, or migrates the
 * database and exits.
 */
@Command(name = "tollgate",
        mixinStandardHelpOptions = true,
        versionProvider = Tollgate.Version.class,
        description = {
                "OpenAI-compatible LLM API gateway.",
                "Without a subcommand it runs 'all'. Environment variables (TOLLGATE_*) override the config file."},
        subcommands = {
                Tollgate.All.class,
                Tollgate.Proxy.class,
                Tollgate.Admin.class,
                Tollgate.Migrate.class,
                CommandLine.HelpCommand.class})
public final class Tollgate implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "YAML configuration file (see docs/tollgate.example.yaml)")
    Path configFile;

    private final Map<String, String> env;
    private final PrintStream out;
    private final PrintStream err;
    private final Consumer<Launcher> onReady;

    Tollgate(Map<String, String> env, PrintStream out, PrintStream err, Consumer<Launcher> onReady) {
        this.env = env;
        this.out = out;
        this.err = err;
        this.onReady = onReady;
    }

    public static void main(String[] args) {
        System.exit(commandLine(System.getenv(), System.out, System.err).execute(args));
    }

    /** The command line over the given environment and streams: what tests drive. */
    static CommandLine commandLine(Map<String, String> env, PrintStream out, PrintStream err) {
        return commandLine(env, out, err, launcher -> {
        });
    }

    /**
     * The same, telling {@code onReady} about the running process once every server listens: how
     * a test learns the ports bound for port 0, and stops the process with {@link Launcher#close()}.
     */
    static CommandLine commandLine(Map<String, String> env, PrintStream out, PrintStream err,
                                   Consumer<Launcher> onReady) {
        CommandLine cl = new CommandLine(new Tollgate(env, out, err, onReady));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ConfigException) {
                err.println("tollgate: configuration error: " + e.getMessage());
                return 2;
            }
            err.println("tollgate: " + describe(e));
            if (e instanceof NullPointerException || e instanceof ClassCastException) {
                e.printStackTrace(err);                       // a bug, not an operating problem
            }
            return 1;
        });
        return cl;
    }

    /** No subcommand: the same as {@code all}. */
    @Override
    public Integer call() throws InterruptedException {
        return serve(true, true, false);
    }

    TollgateConfig loadConfig() {
        return ConfigLoader.load(configFile, env);
    }

    /** Starts the database, then the admin API and the proxy as asked, and runs until stopped. */
    int serve(boolean proxy, boolean admin, boolean demo) throws InterruptedException {
        TollgateConfig config = loadConfig();
        Launcher launcher = new Launcher(config, out, err);
        try {
            launcher.openDatabase();
            String token = admin ? AdminToken.resolve(config.admin().token(), config.dataDir(), out) : null;
            DemoSeed.DemoKey demoKey = demo ? DemoSeed.seed(launcher.database().dataSource(), config.dataDir()) : null;
            if (admin) {
                launcher.startAdmin(token);
            }
            // The public port opens last, once everything behind it is ready.
            ProxyServer proxyServer = proxy ? launcher.startProxy() : null;
            if (demoKey != null) {
                int port = proxyServer != null ? proxyServer.port() : config.proxy().port();
                out.println();
                out.println("demo key" + (demoKey.created() ? " (new)" : "") + ": " + demoKey.plaintext()
                        + "   (kept in " + config.dataDir().resolve(DemoSeed.KEY_FILE) + ")");
                out.println("try a streamed chat with the demo model:");
                out.println("  " + DemoSeed.curl(demoKey.plaintext(), port));
                out.println();
            }
            out.println("ready; Ctrl-C stops");
            onReady.accept(launcher);
        } catch (RuntimeException e) {
            launcher.close();
            throw e;
        }
        launcher.awaitClose();
        return 0;
    }

    static String describe(Throwable e) {
        StringBuilder message = new StringBuilder(String.valueOf(e.getMessage() == null ? e : e.getMessage()));
        String root = Launcher.rootMessage(e);
        if (!message.toString().contains(root)) {
            message.append(" (").append(root).append(')');
        }
        return message.toString();
    }

    @Command(name = "all", mixinStandardHelpOptions = true,
            description = "Run the proxy and the admin API in one process (the default).")
    static final class All implements Callable<Integer> {

        @ParentCommand
        Tollgate tollgate;

        @Option(names = "--demo",
                description = "Create (once) a demo account, key and model 'demo-chat' on the built-in mock "
                        + "provider, and print the key and a curl line to try.")
        boolean demo;

        @Override
        public Integer call() throws InterruptedException {
            return tollgate.serve(true, true, demo);
        }
    }

    @Command(name = "proxy", mixinStandardHelpOptions = true,
            description = "Run the public OpenAI-compatible proxy only.")
    static final class Proxy implements Callable<Integer> {

        @ParentCommand
        Tollgate tollgate;

        @Override
        public Integer call() throws InterruptedException {
            return tollgate.serve(true, false, false);
        }
    }

    @Command(name = "admin", mixinStandardHelpOptions = true,
            description = "Run the admin API only.")
    static final class Admin implements Callable<Integer> {

        @ParentCommand
        Tollgate tollgate;

        @Override
        public Integer call() throws InterruptedException {
            return tollgate.serve(false, true, false);
        }
    }

    @Command(name = "migrate", mixinStandardHelpOptions = true,
            description = "Apply the pending database migrations and exit.")
    static final class Migrate implements Callable<Integer> {

        @ParentCommand
        Tollgate tollgate;

        @Override
        public Integer call() {
            try (Launcher launcher = new Launcher(tollgate.loadConfig(), tollgate.out, tollgate.err)) {
                MigrateResult result = launcher.openDatabase();
                tollgate.out.println("applied " + result.migrationsExecuted + " migration"
                        + (result.migrationsExecuted == 1 ? "" : "s") + "; schema version "
                        + (result.targetSchemaVersion != null ? result.targetSchemaVersion
                        : currentVersion(result)));
            }
            return 0;
        }

        private static String currentVersion(MigrateResult result) {
            return result.initialSchemaVersion != null ? result.initialSchemaVersion : "none";
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Tollgate.class.getPackage().getImplementationVersion();
            return new String[] {"tollgate " + (version == null ? "(development build)" : version)};
        }
    }
}
