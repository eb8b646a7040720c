package dev.kiln.samples.spark;

import java.io.IOException;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkExecutorInfo;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * A job's output directory, written in a staging directory next to it and moved into place only when the job
 * succeeded: a failed job leaves no output (and no {@code _SUCCESS} marker) behind, and an existing output is
 * replaced only when asked, and only by a complete one. Works on any Hadoop file system with a rename.
 */
final class OutputPath {
  private final FileSystem fs;
  private final Path target;
  private final Path staging;
  private final boolean overwrite;

  private OutputPath(FileSystem fs, Path target, Path staging, boolean overwrite) {
    this.fs = fs;
    this.target = target;
    this.staging = staging;
    this.overwrite = overwrite;
  }

  /**
   * Prepares writing {@code location}.
   *
   * @throws JobException exit code 2 if it exists and {@code overwrite} is false
   */
  static OutputPath prepare(SparkSession spark, String location, boolean overwrite) {
    Path path = new Path(location);
    try {
      FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
      Path target = fs.makeQualified(path);
      if (!overwrite && fs.exists(target)) {
        throw exists(location);
      }
      Path parent = target.getParent();
      if (parent == null) {
        throw new JobException(JobException.USAGE, "output " + location + " has no parent directory");
      }
      Path staging = new Path(parent, "." + target.getName() + ".kiln-staging-" + UUID.randomUUID());
      return new OutputPath(fs, target, staging, overwrite);
    } catch (IOException e) {
      throw new JobException(JobException.FAILURE, "cannot reach output " + location + ": " + e.getMessage(), e);
    }
  }

  private static JobException exists(Object location) {
    return new JobException(JobException.USAGE, "output " + location + " already exists; give --overwrite to "
        + "replace it");
  }

  /** Where the job writes. */
  String staging() {
    return staging.toString();
  }

  /** The output's qualified path. */
  String target() {
    return target.toString();
  }

  /**
   * Runs the job that computes {@code rows}, writes them as Parquet to the staging directory and moves it into
   * place ({@link #commit}); if anything fails, deletes what was staged.
   *
   * @param job what the job does, for the error message, e.g. {@code scoring}
   * @throws JobException as {@link #commit} does, or exit code 1 if the job failed (the message is the cause's,
   *     on one line)
   */
  void writeParquet(Supplier<Dataset<Row>> rows, String job) {
    Dataset<Row> data = null;
    try {
      data = rows.get();
      data.write().mode(SaveMode.ErrorIfExists).parquet(staging());
      commit();
    } catch (JobException e) {
      abort();
      throw e;
    } catch (Exception e) { // Spark throws its checked SparkException undeclared
      if (data != null) {
        awaitNoRunningTasks(data.sparkSession());
      }
      abortAndSettle();
      throw new JobException(JobException.FAILURE, job + " failed: " + Failures.describe(e), e);
    }
  }

  /**
   * Waits (at most {@link #SETTLE_NANOS}) until no task runs: when a task fails, Spark fails the job at once and
   * cancels the job's other tasks asynchronously, so a task still running could write into the staging
   * directory after {@link #abort} deleted it.
   */
  private static void awaitNoRunningTasks(SparkSession session) {
    long deadline = System.nanoTime() + SETTLE_NANOS;
    while (runningTasks(session) > 0 && System.nanoTime() - deadline < 0) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static final long SETTLE_NANOS = TimeUnit.SECONDS.toNanos(30);

  /** How long the staging directory must stay deleted after a failed job before the failure is reported. */
  private static final long QUIET_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  /**
   * Deletes what was staged, then again whenever it reappears, until it has stayed away for
   * {@link #QUIET_NANOS} (at most {@link #SETTLE_NANOS}). The running-task count that
   * {@link #awaitNoRunningTasks} waits on comes from Spark's listener events, which arrive asynchronously: it
   * can read 0 while a cancelled task is still finishing its partition, and that task's writer then created
   * the staging directory again after it was deleted (seen in one of several runs of the failure tests).
   */
  private void abortAndSettle() {
    abort();
    long deadline = System.nanoTime() + SETTLE_NANOS;
    long quietSince = System.nanoTime();
    while (System.nanoTime() - quietSince < QUIET_NANOS && System.nanoTime() - deadline < 0) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      try {
        if (fs.exists(staging)) {
          abort();
          quietSince = System.nanoTime();
        }
      } catch (IOException e) {
        return;
      }
    }
  }

  private static int runningTasks(SparkSession session) {
    int running = 0;
    for (SparkExecutorInfo executor : session.sparkContext().statusTracker().getExecutorInfos()) {
      running += executor.numRunningTasks();
    }
    return running + session.sparkContext().statusTracker().getActiveStageIds().length;
  }

  /**
   * Moves the staged output into place, replacing an existing one if allowed.
   *
   * @throws JobException if the output appeared meanwhile without {@code overwrite} or cannot be moved
   */
  void commit() {
    try {
      Path replaced = null;
      if (fs.exists(target)) {
        if (!overwrite) {
          throw exists(target);
        }
        replaced = new Path(target.getParent(), "." + target.getName() + ".kiln-replaced-" + UUID.randomUUID());
        if (!fs.rename(target, replaced)) {
          throw new IOException("cannot move the existing output aside to " + replaced);
        }
      }
      if (!fs.rename(staging, target)) {
        if (replaced != null) {
          fs.rename(replaced, target);
        }
        throw new IOException("cannot move " + staging + " to " + target);
      }
      if (replaced != null) {
        fs.delete(replaced, true);
      }
    } catch (IOException e) {
      abort();
      throw new JobException(JobException.FAILURE, "cannot write output " + target + ": " + e.getMessage(), e);
    } catch (JobException e) {
      abort();
      throw e;
    }
  }

  /** Deletes whatever the job staged. */
  void abort() {
    try {
      fs.delete(staging, true);
    } catch (IOException ignored) {
      // nothing was staged, or the file system is gone: there is nothing more to clean
    }
  }
}
