package dev.kiln.train;

import dev.kiln.data.Dataset;
import dev.kiln.io.Json;
import dev.kiln.nn.PlaneLoops;
import dev.kiln.runtime.Parallel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * What makes two runs the same, as a checkpoint records it and a resume compares it: the
 * {@linkplain TrainingConfig#settings() settings}, the seed, the batch size, {@code dropLast} and the training
 * data (its size and a CRC-32C of every sample and label). Also recorded, but allowed to differ, is where the
 * run computes: the thread count and the arithmetic path (scalar or vectorized, and the vector width), which
 * change a result only in its last bits.
 */
final class RunIdentity {
  /** The metadata keys a resume needs besides those {@link Checkpoint#read} requires. */
  static final List<String> RESUME_KEYS = List.of("settings", "train_data", "threads", "arithmetic");

  private final Map<String, String> settings;
  private final long seed;
  private final int batchSize;
  private final boolean dropLast;
  private final int trainSamples;
  private final String trainData;
  private final int threads;
  private final String arithmetic;

  private RunIdentity(TrainingConfig config, Dataset train) {
    this.settings = config.settings();
    this.seed = config.seed();
    this.batchSize = config.batchSize();
    this.dropLast = config.dropLast();
    this.trainSamples = train.size();
    this.trainData = fingerprint(train);
    this.threads = Parallel.threads();
    this.arithmetic = PlaneLoops.get().toString();
  }

  /** The identity of a run of {@code config} over {@code train} in this JVM. */
  static RunIdentity of(TrainingConfig config, Dataset train) {
    return new RunIdentity(Objects.requireNonNull(config, "config"), Objects.requireNonNull(train, "train"));
  }

  /** The checkpoint metadata entries that record this identity. */
  Map<String, String> metadata() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("seed", Long.toString(seed));
    m.put("batch_size", Integer.toString(batchSize));
    m.put("drop_last", Boolean.toString(dropLast));
    m.put("train_samples", Integer.toString(trainSamples));
    m.put("train_data", trainData);
    m.put("settings", Json.write(settings));
    m.put("threads", Integer.toString(threads));
    m.put("arithmetic", arithmetic);
    return m;
  }

  /**
   * Checks that the run that wrote {@code file} (its metadata {@code recorded}) is this run.
   *
   * @throws IOException if the metadata lacks what the check needs (a checkpoint of an earlier Kiln) or holds
   *     it malformed
   * @throws RunMismatchException naming the first setting that differs, with both values
   */
  void requireSameRun(Path file, Map<String, String> recorded) throws IOException {
    List<String> missing = new ArrayList<>();
    for (String key : RESUME_KEYS) {
      if (!recorded.containsKey(key)) {
        missing.add(key);
      }
    }
    if (!missing.isEmpty()) {
      throw new IOException(file + ": the checkpoint does not record " + String.join(", ", missing)
          + ", which a resume needs to check that this run repeats the one that wrote it (a checkpoint of an "
          + "earlier version of Kiln?); it cannot be resumed");
    }
    Map<String, String> theirs = settings(file, recorded.get("settings"));
    Set<String> names = new LinkedHashSet<>(theirs.keySet());
    names.addAll(settings.keySet());
    for (String name : names) {
      requireSame(file, name, theirs.get(name), settings.get(name));
    }
    requireSame(file, "seed", recorded.get("seed"), Long.toString(seed));
    requireSame(file, "batch size", recorded.get("batch_size"), Integer.toString(batchSize));
    requireSame(file, "dropLast", recorded.get("drop_last"), Boolean.toString(dropLast));
    requireSame(file, "training set size", recorded.get("train_samples"), Integer.toString(trainSamples));
    requireSame(file, "training data", recorded.get("train_data"), trainData);
  }

  /** What differs in where the run computes, as a notice for the user; null if nothing does. */
  String environmentNotice(Map<String, String> recorded) {
    List<String> now = new ArrayList<>();
    List<String> then = new ArrayList<>();
    String theirThreads = recorded.get("threads");
    if (!Integer.toString(threads).equals(theirThreads)) {
      now.add(threads(Integer.toString(threads)));
      then.add(threads(theirThreads));
    }
    String theirArithmetic = recorded.get("arithmetic");
    if (!arithmetic.equals(theirArithmetic)) {
      now.add("the " + arithmetic + " arithmetic");
      then.add("the " + theirArithmetic + " arithmetic");
    }
    if (now.isEmpty()) {
      return null;
    }
    return "resuming with " + String.join(" and ", now) + " where the checkpoint's run had "
        + String.join(" and ", then) + ": the result will differ from an uninterrupted run in the last bits";
  }

  private static String threads(String count) {
    return count + ("1".equals(count) ? " thread" : " threads");
  }

  private static Map<String, String> settings(Path file, String json) throws IOException {
    Map<String, Object> parsed;
    try {
      parsed = Json.parseObject(json);
    } catch (IOException e) {
      throw new IOException(file + ": checkpoint metadata 'settings' is not a JSON object: " + e.getMessage(), e);
    }
    Map<String, String> result = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : parsed.entrySet()) {
      if (!(e.getValue() instanceof String value)) {
        throw new IOException(file + ": checkpoint metadata 'settings' holds a value for '" + e.getKey()
            + "' that is not a string");
      }
      result.put(e.getKey(), value);
    }
    return result;
  }

  private static void requireSame(Path file, String what, String theirs, String ours) {
    if (Objects.equals(theirs, ours)) {
      return;
    }
    String then = theirs == null ? "without " + what : "with " + what + " " + theirs;
    String now = ours == null ? "has no " + what : "has " + (theirs == null ? what + " " : "") + ours;
    throw new RunMismatchException(file + " was written by a run " + then + " but this run " + now);
  }

  /**
   * A CRC-32C of the data set's sample shape, class count, and every sample's values (float bits) and label,
   * with the sample count: equal for the same data in the same order.
   */
  static String fingerprint(Dataset data) {
    int[] shape = data.sampleShape();
    int sampleSize = 1;
    for (int d : shape) {
      sampleSize *= d;
    }
    CRC32C crc = new CRC32C();
    ByteBuffer head = ByteBuffer.allocate(4 * (shape.length + 1)).order(ByteOrder.LITTLE_ENDIAN);
    for (int d : shape) {
      head.putInt(d);
    }
    crc.update(head.putInt(data.numClasses()).flip());
    float[] sample = new float[sampleSize];
    ByteBuffer bytes = ByteBuffer.allocate(4 * sampleSize + 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < data.size(); i++) {
      data.copySample(i, sample, 0);
      bytes.clear();
      bytes.asFloatBuffer().put(sample);
      bytes.position(4 * sampleSize).putInt(data.label(i)).flip();
      crc.update(bytes);
    }
    return String.format(java.util.Locale.ROOT, "%d samples, crc32c %08x", data.size(), crc.getValue());
  }
}
