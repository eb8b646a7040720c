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
    if (effectiveMaster.startsWith("local") && !conf.containsKey("spark.ui.enabled")) {
      builder.config("spark.ui.enabled", "false");
    }
    conf.forEach(builder::config);
    return builder.getOrCreate();
  }
}
