package dev.kiln.samples.spark;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Option;

/** {@code --master} and {@code --conf}: which Spark the job runs on. */
final class SparkOptions {
  /** The master when neither {@code --master} nor {@code spark-submit} names one: every core of this JVM. */
  static final String DEFAULT_MASTER = "local[*]";

  @Option(names = "--master", paramLabel = "URL",
      description = "Spark master, e.g. local[2], spark://host:7077, yarn (default: the one spark-submit "
          + "passes, else " + DEFAULT_MASTER + ": in this JVM).")
  String master;

  @Option(names = "--conf", paramLabel = "KEY=VALUE",
      description = "A Spark setting (repeatable), e.g. --conf spark.executor.memory=2g.")
  Map<String, String> conf = new LinkedHashMap<>();

  /**
   * The JVM's Spark session: the existing one if there is one (then {@code --master} and static settings do
   * not change it), else a new one.
   */
  SparkSession session(String appName) {
    SparkSession.Builder builder = SparkSession.builder().appName(appName);
    String effectiveMaster = master != null ? master : new SparkConf().get("spark.master", DEFAULT_MASTER);
    builder.master(effectiveMaster);
    if (effectiveMaster.startsWith("local[") || effectiveMaster.equals("local")) {
      // One JVM: no web UI unless asked, and no executor timeout: the executor cannot die without the driver,
      // and after a suspended JVM (a laptop's sleep, a busy host) the default 120 s would remove it.
      builder.config("spark.ui.enabled", "false");
      builder.config("spark.network.timeout", "7d");
    }
    if (!effectiveMaster.startsWith("local[") && !effectiveMaster.equals("local") && !conf.containsKey("spark.jars")
        && !new SparkConf().contains("spark.jars")) {
      // Started with java -jar against a cluster: the executors fetch this jar (spark-submit ships it itself).
      ownJar().ifPresent(jar -> builder.config("spark.jars", jar));
    }
    conf.forEach(builder::config); // after the defaults, so that --conf overrides them
    return builder.getOrCreate();
  }

  /** The jar this class was loaded from, if it was loaded from a jar. */
  private static java.util.Optional<String> ownJar() {
    try {
      java.security.CodeSource source = SparkOptions.class.getProtectionDomain().getCodeSource();
      if (source != null) {
        java.nio.file.Path path = java.nio.file.Paths.get(source.getLocation().toURI());
        if (path.toString().endsWith(".jar")) {
          return java.util.Optional.of(path.toString());
        }
      }
    } catch (java.net.URISyntaxException | SecurityException e) {
      // not a file: leave spark.jars to the user
    }
    return java.util.Optional.empty();
  }
}
