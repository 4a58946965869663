/*
 * Starts an embedded Neo4j 2026.08 Community DBMS with the Bolt connector, for machines without Docker.
 *
 * Run as a single-file source program (no compile step):
 *   java -Xmx1g --add-modules=jdk.incubator.vector -cp "$(cat classpath.txt)" deploy/neo4j/Launcher.java --port 7687 --data DIR [--password PW]
 * Java 21+; the Vector API module lets Lucene score the vector indexes with SIMD. The classpath comes from `mvn -f deploy/neo4j/pom.xml dependency:build-classpath`; `sensegraph neo4j start`
 * does all of this. Data lives under DIR and survives a restart. Bolt listens on 127.0.0.1 only, HTTP is off.
 * Without --password (or $SENSEGRAPH_NEO4J_PASSWORD) authentication is disabled; with it, the `neo4j`
 * user's password is set to PW.
 * SIGTERM (or Ctrl-C) shuts the DBMS down cleanly through a shutdown hook.
 */

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;

public class Launcher {

    /** Parsed command line: port, data directory, optional password, page cache size. */
    record Options(int port, Path data, String password, long pageCacheMb) {}

    static Options parse(String[] args) {
        int port = 7687;
        Path data = null;
        // The password may come from the environment so it never shows in `ps` output.
        String password = System.getenv("SENSEGRAPH_NEO4J_PASSWORD");
        if (password != null && password.isEmpty()) {
            password = null;
        }
        long pageCacheMb = 256;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (i + 1 >= args.length) {
                usage("missing value after " + flag);
            }
            String value = args[++i];
            switch (flag) {
                case "--port" -> port = Integer.parseInt(value);
                case "--data" -> data = Path.of(value).toAbsolutePath();
                case "--password" -> password = value;
                case "--pagecache-mb" -> pageCacheMb = Long.parseLong(value);
                default -> usage("unknown option " + flag);
            }
        }
        if (data == null) {
            usage("--data DIR is required");
        }
        if (port < 1 || port > 65535) {
            usage("--port must be 1..65535, got " + port);
        }
        if (password != null && password.length() < 8) {
            usage("--password must be at least 8 characters (Neo4j's minimum)");
        }
        return new Options(port, data, password, pageCacheMb);
    }

    static void usage(String problem) {
        System.err.println("Launcher: " + problem);
        System.err.println("usage: java -cp CLASSPATH Launcher.java --port P --data DIR [--password PW] [--pagecache-mb N]");
        System.exit(64);
    }

    static DatabaseManagementService start(Options o) throws Exception {
        Files.createDirectories(o.data());
        return new DatabaseManagementServiceBuilder(o.data())
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", o.port()))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, o.password() != null)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(o.pageCacheMb()))
                // Bolt otherwise waits 5 s for its idle connections and 5 s for its thread pool on shutdown.
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofSeconds(1))
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofSeconds(1))
                .build();
    }

    /** Set the neo4j user's password on the system database (a parameter, never pasted in). */
    static void setPassword(DatabaseManagementService dbms, String password) {
        GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        system.executeTransactionally(
                "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
    }

    public static void main(String[] args) throws Exception {
        Options o = parse(args);
        long t0 = System.nanoTime();
        DatabaseManagementService dbms = start(o);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("sensegraph-neo4j stopping");
            System.out.flush();
            dbms.shutdown();
            System.out.println("sensegraph-neo4j stopped");
            System.out.flush();
            stopped.countDown();
        }, "neo4j-shutdown"));
        if (o.password() != null) {
            setPassword(dbms, o.password());
        }
        // Touch the default database so "ready" means it is available, not merely starting.
        dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).executeTransactionally("RETURN 1");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("sensegraph-neo4j ready bolt://127.0.0.1:%d data=%s auth=%s started_ms=%d%n",
                o.port(), o.data(), o.password() != null, ms);
        System.out.flush();
        stopped.await();
    }
}
