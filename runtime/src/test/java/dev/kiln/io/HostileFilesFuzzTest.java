package dev.kiln.io;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.data.IdxDataset;
import dev.kiln.data.InMemoryDataset;
import dev.kiln.data.Normalization;
import dev.kiln.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutates valid safetensors and IDX files (bit flips, interesting values in length and size fields, numbers
 * in the header text, truncation, appended and repeated bytes, gzip members) and checks that every outcome
 * is either a correct load or an {@link IOException}: never another exception, an {@link OutOfMemoryError}
 * or a hang. Some inputs declare large data that is really there, cheaply: sparse files of up to 8 GB (a
 * safetensors tensor of any dtype, IDX images) and gzip streams of repeated 16 MB zero members that inflate
 * to up to 1 GB. The readers run with a limit of {@value #LIMIT_MB} MB and the build runs the test in a JVM
 * of its own with {@code -Xmx256m}: a reader that allocates more than its limit, or what a header claims
 * instead of what the file holds, fails it with an {@link OutOfMemoryError}. A mutated safetensors file is
 * also read as {@link SafeTensors#load} reads it, into tensors of its seed's names and shapes: it must give
 * what {@link SafeTensors#read} gives, or refuse and leave every tensor as it was.
 *
 * <p>Seeded and bounded in time: input {@code i} is made from {@code new SplittableRandom(seed * 31 + i)}, and
 * inputs are tried until {@code kiln.fuzz.seconds} (default 20) have passed, and at least {@value #MIN_INPUTS}. A failure names the seed, the
 * input number and the input in Base64. {@code -Dkiln.fuzz.seed=S} replays another sequence.
 */
class HostileFilesFuzzTest {
  private static final long SEED = Long.getLong("kiln.fuzz.seed", 20261201L);
  private static final double SECONDS = Double.parseDouble(System.getProperty("kiln.fuzz.seconds", "20"));
  /** Inputs tried even when the time is up (a busy machine), so that the counts below mean something. */
  private static final int MIN_INPUTS = 1_000;
  /** With {@code -Dkiln.fuzz.verbose=true}, the test prints how often each kind of error message came up. */
  private static final boolean VERBOSE = Boolean.getBoolean("kiln.fuzz.verbose");
  /** Bytes of zeros in one gzip member of a large IDX input. */
  private static final int ZERO_MEMBER = 16 << 20;
  private static final String[] RESOURCE_SEEDS = {"bf16", "f16_sweep", "numpy_dtypes", "small_ints",
      "torch_batchnorm", "unicode_escaped", "unicode_raw_reordered"};

  /** The limit the readers are given, in MB: well below the test JVM's 256 MB heap. */
  private static final int LIMIT_MB = 48;
  private static final long LIMIT = (long) LIMIT_MB << 20;
  private static final ReadOptions OPTIONS = ReadOptions.defaults().withMaxBytes(LIMIT);

  @TempDir Path dir;

  /** An input: its bytes, followed by {@code zeros} zero bytes that take no disk space (a sparse file). */
  private record Input(byte[] bytes, long zeros) {
    Input(byte[] bytes) {
      this(bytes, 0);
    }

    void writeTo(Path file) throws IOException {
      Files.write(file, bytes);
      if (zeros > 0) {
        try (java.io.RandomAccessFile out = new java.io.RandomAccessFile(file.toFile(), "rw")) {
          out.setLength(bytes.length + zeros);
        }
      }
    }
  }

  /** What one kind of input does with a mutated file: loads it (checking the result) or throws IOException. */
  private interface Target {
    void load(Path file) throws IOException;
  }

  @Test
  void mutatedFilesLoadCorrectlyOrFailWithIoException() throws IOException {
    List<byte[]> safetensors = safetensorsSeeds();
    List<Map<String, int[]>> shapes = new ArrayList<>();
    for (byte[] seed : safetensors) {
      Path seedFile = Files.write(dir.resolve("seed-shapes"), seed);
      Map<String, int[]> seedShapes = new LinkedHashMap<>();
      SafeTensors.read(seedFile).forEach((name, t) -> seedShapes.put(name, t.shape()));
      shapes.add(seedShapes);
    }
    int loadedInto = 0;
    List<byte[]> images = idxImageSeeds();
    byte[] labels = idx(new int[] {6}, new byte[] {0, 1, 2, 3, 4, 9});
    Path file = dir.resolve("input");
    Path labelsFile = Files.write(dir.resolve("labels"), labels);
    Path imagesFile = dir.resolve("images");
    Target tensors = this::loadSafetensors;
    Target idxImages = path -> checkDataset(IdxDataset.load(path, labelsFile, Normalization.NONE, LIMIT), 6);
    Target idxLabels = path -> checkDataset(IdxDataset.load(imagesFile, path, Normalization.NONE, LIMIT), 6);
    byte[] zeroMember = gzip(new byte[ZERO_MEMBER]);

    long start = System.nanoTime();
    long cpuStart = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    long deadline = start + (long) (SECONDS * 1e9);
    int[] loaded = new int[3];
    int[] refused = new int[3];
    long i = 0;
    Map<String, Integer> messages = new java.util.TreeMap<>();
    long peak = 0;
    for (; i < MIN_INPUTS || System.nanoTime() < deadline; i++) {
      SplittableRandom random = new SplittableRandom(SEED * 31 + i);
      int kind = random.nextInt(3);
      boolean large = random.nextInt(10) == 0;
      Input input;
      Target target;
      Map<String, int[]> seedShapes = null;
      if (kind == 0) {
        int seed = random.nextInt(safetensors.size());
        input = large ? largeSafetensors(random) : new Input(Mutator.safetensors(safetensors.get(seed), random));
        seedShapes = large ? null : shapes.get(seed);
        target = tensors;
      } else if (kind == 1) {
        input = large ? largeImages(random, zeroMember)
            : new Input(Mutator.idx(images.get(random.nextInt(images.size())), random));
        target = idxImages;
      } else {
        Files.write(imagesFile, images.get(0));
        input = new Input(Mutator.idx(random.nextBoolean() ? labels : gzip(labels), random));
        target = idxLabels;
      }
      input.writeTo(file);
      try {
        try {
          target.load(file);
          peak = Math.max(peak, heapInUse());
          loaded[kind]++;
        } catch (IOException e) {
          refused[kind]++;
          assertWithMessage("message of input %s", i).that(e.getMessage()).isNotEmpty();
          if (VERBOSE) {
            messages.merge(kind + " " + e.getMessage().replace(dir.toString(), "").replaceAll("[0-9]+", "N")
                .replaceAll("\"[^\"]*\"", "S"), 1, Integer::sum);
          }
        }
        if (seedShapes != null) {
          loadedInto += checkReadInto(file, seedShapes) ? 1 : 0;
        }
      } catch (Throwable t) {
        throw new AssertionError("seed " + SEED + ", input " + i + " (" + (kind == 0 ? "safetensors" : "IDX") + "): "
            + t + "; input in Base64: " + Base64.getEncoder().encodeToString(input.bytes()) + " and "
            + input.zeros() + " zero bytes", t);
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    double cpu = (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - cpuStart) / 1e9;
    System.out.printf(Locale.ROOT, "fuzz: %,d inputs in %.1f s (%.1f s CPU, seed %d): safetensors %,d loaded / %,d refused, "
            + "IDX images %,d / %,d, IDX labels %,d / %,d; at most %.0f MB of heap in use after a load, of %.0f MB%n",
        i, seconds, cpu, SEED, loaded[0], refused[0], loaded[1], refused[1], loaded[2], refused[2], peak / 1e6,
        Runtime.getRuntime().maxMemory() / 1e6);
    messages.forEach((message, count) -> System.out.printf(Locale.ROOT, "%6d  %s%n", count, message));
    assertWithMessage("mutants read into their seed's tensors").that(loadedInto).isAtLeast(5);
    for (int kind = 0; kind < 3; kind++) { // the mutations must reach both outcomes for every kind of input
      assertWithMessage("loaded, kind %s", kind).that(loaded[kind]).isAtLeast(5);
      assertWithMessage("refused, kind %s", kind).that(refused[kind]).isAtLeast(100);
    }
  }

  /**
   * A valid safetensors file with one tensor of a random dtype whose size is log-uniform up to 8 GB, the data
   * a sparse run of zeros: loaded if its floats fit the limit, else refused.
   */
  private static Input largeSafetensors(SplittableRandom random) {
    String[] dtypes = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"};
    int[] sizes = {8, 4, 2, 2, 8, 4, 2, 1, 1, 1};
    int d = random.nextInt(dtypes.length);
    long elements = Math.min(Integer.MAX_VALUE - 8, (long) Math.exp(random.nextDouble() * Math.log(8e9 / sizes[d])));
    long bytes = elements * sizes[d];
    String json = "{\"w\":{\"dtype\":\"" + dtypes[d] + "\",\"shape\":[" + elements + "],\"data_offsets\":[0,"
        + bytes + "]}}";
    byte[] header = json.getBytes(StandardCharsets.US_ASCII);
    int padded = (header.length + 7) / 8 * 8;
    ByteBuffer b = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).put(header);
    while (b.hasRemaining()) {
      b.put((byte) ' ');
    }
    return new Input(b.array(), bytes);
  }

  /**
   * Six images of a random size whose pixels are all there: a sparse plain file of up to 8 GB, or a gzip of
   * the header followed by repeated members of 16 MB of zeros (up to 1 GB inflated, a few KB on disk).
   */
  private static Input largeImages(SplittableRandom random, byte[] zeroMember) throws IOException {
    boolean gzip = random.nextBoolean();
    double max = gzip ? 1e9 : 8e9;
    long pixels = (long) Math.exp(Math.log(6) + random.nextDouble() * Math.log(max / 6));
    int side = (int) Math.min(Integer.MAX_VALUE / 6, Math.max(1, Math.sqrt(pixels / 6.0)));
    long total = 6L * side * side;
    byte[] header = idx(new int[] {6, side, side}, new byte[0]);
    if (!gzip) {
      return new Input(header, total);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(gzip(header));
    for (long inflated = 0; inflated < total; inflated += ZERO_MEMBER) {
      out.write(zeroMember);
    }
    return new Input(out.toByteArray()); // up to one member more than declared: also refused, after reading
  }

  /** A load must give tensors that are what their shapes say and that survive a write and a read. */
  private void loadSafetensors(Path file) throws IOException {
    SafeTensors.Contents contents = SafeTensors.readWithMetadata(file, OPTIONS);
    for (Map.Entry<String, Tensor> e : contents.tensors().entrySet()) {
      long elements = 1;
      for (int d : e.getValue().shape()) {
        assertThat(d).isAtLeast(0);
        elements *= d;
      }
      assertWithMessage(e.getKey()).that((long) e.getValue().data().length).isEqualTo(elements);
    }
    if (Files.size(file) > 1 << 20) { // a large input: its data is zeros, and a round trip would only take time
      for (Tensor t : contents.tensors().values()) {
        for (float v : t.data()) {
          assertThat(v).isEqualTo(0f);
        }
      }
      return;
    }
    Path copy = dir.resolve("copy.safetensors");
    SafeTensors.write(copy, contents.tensors(), contents.metadata());
    SafeTensors.Contents back = SafeTensors.readWithMetadata(copy, OPTIONS);
    assertThat(back.metadata()).isEqualTo(contents.metadata());
    assertThat(back.tensors().keySet()).containsExactlyElementsIn(contents.tensors().keySet()).inOrder();
    for (String name : contents.tensors().keySet()) {
      assertThat(back.tensors().get(name).shape()).isEqualTo(contents.tensors().get(name).shape());
      assertThat(bits(back.tensors().get(name).data())).isEqualTo(bits(contents.tensors().get(name).data()));
    }
  }

  /** What targets hold before {@link #checkReadInto} reads into them: a NaN no file of the seeds holds. */
  private static final int UNTOUCHED = 0x7fc0dead;

  /**
   * {@link SafeTensors#load}'s reader, into tensors of the seed's names and shapes: either it reads what
   * {@link SafeTensors#read} reads, or it throws an {@link IOException} and leaves every target as it was.
   * Returns whether it read the file.
   */
  private static boolean checkReadInto(Path file, Map<String, int[]> shapes) throws IOException {
    Map<String, Tensor> targets = new LinkedHashMap<>();
    shapes.forEach((name, shape) -> targets.put(name, Tensor.zeros(shape).fill(Float.intBitsToFloat(UNTOUCHED))));
    try {
      SafeTensorsReader.readInto(file, targets, OPTIONS);
    } catch (IOException e) {
      for (Map.Entry<String, Tensor> t : targets.entrySet()) {
        for (float v : t.getValue().data()) {
          assertWithMessage("%s after a refused read into it (%s)", t.getKey(), e.getMessage())
              .that(Float.floatToRawIntBits(v)).isEqualTo(UNTOUCHED);
        }
      }
      return false;
    }
    Map<String, Tensor> read = SafeTensors.read(file, OPTIONS);
    assertThat(read.keySet()).containsExactlyElementsIn(targets.keySet());
    for (String name : targets.keySet()) {
      assertWithMessage(name).that(bits(targets.get(name).data())).isEqualTo(bits(read.get(name).data()));
    }
    return true;
  }

  private static int[] bits(float[] values) {
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToRawIntBits(values[i]);
    }
    return bits;
  }

  /** A load must give {@code n} samples of one channel, pixels in [0, 1] and labels in [0, 10). */
  private static void checkDataset(InMemoryDataset data, int n) {
    assertThat(data.size()).isEqualTo(n);
    int[] shape = data.sampleShape();
    assertThat(shape.length).isEqualTo(3);
    assertThat(shape[0]).isEqualTo(1);
    float[] sample = new float[shape[1] * shape[2]];
    for (int i = 0; i < n; i++) {
      data.copySample(i, sample, 0);
      for (float v : sample) {
        assertThat(v >= 0f && v <= 1f).isTrue();
      }
      assertThat(data.label(i)).isIn(Set.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
    }
  }

  private List<byte[]> safetensorsSeeds() throws IOException {
    List<byte[]> seeds = new ArrayList<>();
    for (String name : RESOURCE_SEEDS) {
      try (InputStream in = getClass().getResourceAsStream("/safetensors/" + name + ".safetensors")) {
        assertWithMessage(name).that(in).isNotNull();
        seeds.add(in.readAllBytes());
      }
    }
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("conv.weight", Tensor.of(new float[] {1, -2, 3.5f, Float.MIN_VALUE, -0f, 1e30f}, 2, 1, 3));
    tensors.put("bn.num_batches_tracked", Tensor.scalar(7));
    tensors.put("empty", Tensor.zeros(0, 4));
    tensors.put("\u00e9\"\\", Tensor.of(new float[] {0.5f}, 1));
    Path written = dir.resolve("seed.safetensors");
    SafeTensors.write(written, tensors, Map.of("format", "pt", "note", "a \"quoted\" note"),
        Set.of("bn.num_batches_tracked"));
    seeds.add(Files.readAllBytes(written));
    // F32 data, then BOOL data (the one dtype whose bytes can be invalid): a reader that finds a bad BOOL byte
    // only after writing the floats before it leaves a module partly loaded (checkReadInto).
    String header = "{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
        + "\"mask\":{\"dtype\":\"BOOL\",\"shape\":[4],\"data_offsets\":[16,20]}}";
    byte[] text = header.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer bools = ByteBuffer.allocate(8 + text.length + 20).order(ByteOrder.LITTLE_ENDIAN);
    bools.putLong(text.length).put(text).putFloat(1.5f).putFloat(-2f).putFloat(0.25f).putFloat(8f);
    seeds.add(bools.put((byte) 1).put((byte) 0).put((byte) 0).put((byte) 1).array());
    return seeds;
  }

  /** Six 3 x 4 images: plain, gzip, gzip in two members, and the fixture written by Python's gzip. */
  private List<byte[]> idxImageSeeds() throws IOException {
    byte[] pixels = new byte[6 * 3 * 4];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 37);
    }
    byte[] plain = idx(new int[] {6, 3, 4}, pixels);
    ByteArrayOutputStream twoMembers = new ByteArrayOutputStream();
    twoMembers.write(gzip(Arrays.copyOf(plain, 20)));
    twoMembers.write(gzip(Arrays.copyOfRange(plain, 20, plain.length)));
    List<byte[]> seeds = new ArrayList<>(List.of(plain, gzip(plain), twoMembers.toByteArray()));
    return seeds;
  }

  static byte[] idx(int[] dims, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
    b.put((byte) 0).put((byte) 0).put((byte) 8).put((byte) dims.length);
    for (int d : dims) {
      b.putInt(d);
    }
    return b.put(data).array();
  }

  static byte[] gzip(byte[] raw) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
      out.write(raw);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** The heap in use now (loaded data and garbage not yet collected). */
  private static long heapInUse() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** The mutations. */
  static final class Mutator {
    /** Values that break size arithmetic when they land in a length, a dimension or an offset. */
    private static final long[] INTERESTING = {0, 1, -1, 7, 8, 255, 256, 0x7f, 0x80, 0xffff, 0x7fffffffL,
        0x80000000L, 0xffffffffL, Integer.MAX_VALUE - 8, 1L << 31, 1L << 32, 1L << 40, 1L << 62, Long.MAX_VALUE,
        Long.MIN_VALUE, 100_000_000L, 100_000_001L};
    /** IDX dimensions whose products pass 2^31 and, three together, 2^63. */
    private static final int[] LARGE_DIMENSIONS = {Integer.MAX_VALUE, Integer.MAX_VALUE - 8, 1 << 30, 65536, 46341};
    /** Numbers to put into a safetensors header's text. */
    private static final String[] NUMBERS = {"0", "1", "-1", "2147483639", "2147483647", "2147483648",
        "4294967296", "9223372036854775807", "9223372036854775808", "99999999999999999999", "1e3", "1.5", "00",
        "-0", "3", "1000000000", "1500000000"};
    private static final String[] TOKENS = {"\"F32\"", "\"I8\"", "\"BOOL\"", "\"F16\"", "\"F64\"", "\"U8\"", "[]",
        "{}", "[0]", "null", "true", "\"__metadata__\"", "\"shape\"", "\"data_offsets\"", "\"dtype\"", ",", ":",
        "\"", "\\", "\\u0000", "\\ud800", "[[[[[[[[", "}}}}"};

    private Mutator() {}

    /** A mutated safetensors file: byte-level changes, or changes to the numbers and tokens of its header. */
    static byte[] safetensors(byte[] seed, SplittableRandom random) {
      byte[] file = seed.clone();
      int rounds = 1 + random.nextInt(3);
      for (int r = 0; r < rounds; r++) {
        int choice = random.nextInt(10);
        if (choice < 4) {
          file = headerText(file, random);
        } else if (choice == 4) {
          file = setLength(file, random);
        } else if (choice == 5) {
          file = dataByte(file, random);
        } else {
          file = bytes(file, random);
        }
      }
      return file;
    }

    /** A mutated IDX file (plain or gzip): byte-level changes, dimensions, gzip members and trailing bytes. */
    static byte[] idx(byte[] seed, SplittableRandom random) {
      byte[] file = seed.clone();
      boolean gzip = file.length > 2 && (file[0] & 0xff) == 0x1f && (file[1] & 0xff) == 0x8b;
      int rounds = 1 + random.nextInt(3);
      for (int r = 0; r < rounds; r++) {
        int choice = random.nextInt(8);
        if (gzip && choice == 0) { // mutate the content, compress again: reaches the IDX checks behind gzip
          file = HostileFilesFuzzTest.gzip(bytes(ungzip(file), random));
        } else if (choice == 1 && file.length >= 8) {
          int at = 4 * (1 + random.nextInt(Math.min(3, file.length / 4 - 1)));
          ByteBuffer.wrap(file).putInt(at, (int) INTERESTING[random.nextInt(INTERESTING.length)]);
        } else if (choice == 2 && file.length >= 8) { // large sizes together: their product must not wrap round
          for (int at = 4; at + 4 <= Math.min(file.length, 16); at += 4) {
            if (random.nextBoolean()) {
              ByteBuffer.wrap(file).putInt(at, LARGE_DIMENSIONS[random.nextInt(LARGE_DIMENSIONS.length)]);
            }
          }
        } else {
          file = bytes(file, random);
        }
      }
      return file;
    }

    private static byte[] ungzip(byte[] gz) {
      try (InputStream in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gz))) {
        return in.readAllBytes();
      } catch (IOException e) {
        return gz;
      }
    }

    /** One byte-level mutation anywhere in the file. */
    /**
     * One byte of the data section (after the header the length field declares) set to another value: the
     * header stays valid, so the readers get as far as the data (a BOOL byte other than 0 or 1, a NaN).
     */
    static byte[] dataByte(byte[] file, SplittableRandom random) {
      if (file.length < 8) {
        return file;
      }
      long headerLength = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
      if (headerLength < 0 || headerLength >= file.length - 8) {
        return file;
      }
      int at = (int) (8 + headerLength + random.nextInt((int) (file.length - 8 - headerLength)));
      file[at] = (byte) new int[] {2, 0xff, 0x80, 0x7f, 0x01, random.nextInt(256)}[random.nextInt(6)];
      return file;
    }

    static byte[] bytes(byte[] file, SplittableRandom random) {
      int n = file.length;
      int mutation = random.nextInt(8);
      switch (mutation) {
        case 0: // flip bits
          if (n > 0) {
            for (int k = 1 + random.nextInt(8); k > 0; k--) {
              file[random.nextInt(n)] ^= (byte) (1 << random.nextInt(8));
            }
          }
          return file;
        case 1: // interesting bytes
          if (n > 0) {
            file[random.nextInt(n)] = (byte) new int[] {0, 0xff, 0x7f, 0x80, 0x20, '"', '{', '}'}[random.nextInt(8)];
          }
          return file;
        case 2: // an interesting 4- or 8-byte value, little- or big-endian
          if (n >= 8) {
            ByteBuffer b = ByteBuffer.wrap(file).order(random.nextBoolean() ? ByteOrder.LITTLE_ENDIAN
                : ByteOrder.BIG_ENDIAN);
            long v = INTERESTING[random.nextInt(INTERESTING.length)];
            int at = random.nextInt(n - 7);
            if (random.nextBoolean()) {
              b.putLong(at, v);
            } else {
              b.putInt(at, (int) v);
            }
          }
          return file;
        case 3: // truncate
          return Arrays.copyOf(file, n == 0 ? 0 : random.nextInt(n));
        case 4: // append random bytes
          byte[] longer = Arrays.copyOf(file, n + 1 + random.nextInt(64));
          for (int i = n; i < longer.length; i++) {
            longer[i] = (byte) random.nextInt(256);
          }
          return longer;
        case 5: // repeat a chunk of 1 to 64 bytes
        case 6: // delete a chunk of 1 to 64 bytes
          if (n == 0) {
            return file;
          }
          int from = random.nextInt(n);
          int to = from + 1 + random.nextInt(Math.min(64, n - from));
          return mutation == 5 ? splice(file, to, from) : splice(file, from, to);
        default: // the whole file twice
          byte[] twice = Arrays.copyOf(file, 2 * n);
          System.arraycopy(file, 0, twice, n, n);
          return twice;
      }
    }

    /**
     * The first {@code head} bytes of {@code file} followed by its bytes from {@code tail} on: the bytes
     * {@code [tail, head)} twice when {@code tail < head}, the bytes {@code [head, tail)} left out when
     * {@code tail > head}.
     */
    private static byte[] splice(byte[] file, int head, int tail) {
      byte[] out = new byte[head + file.length - tail];
      System.arraycopy(file, 0, out, 0, head);
      System.arraycopy(file, tail, out, head, file.length - tail);
      return out;
    }

    /** The length field set to an interesting value, or near the real one. */
    private static byte[] setLength(byte[] file, SplittableRandom random) {
      if (file.length < 8) {
        return file;
      }
      ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
      long v = random.nextBoolean() ? INTERESTING[random.nextInt(INTERESTING.length)]
          : b.getLong(0) + random.nextInt(17) - 8;
      b.putLong(0, v);
      return file;
    }

    /**
     * A number or token of the header text replaced, keeping the length field consistent (the header is
     * re-padded), so that the mutation reaches the checks of the parsed header.
     */
    private static byte[] headerText(byte[] file, SplittableRandom random) {
      if (file.length < 8) {
        return file;
      }
      long length = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
      if (length <= 0 || length > file.length - 8) {
        return bytes(file, random);
      }
      String header = new String(file, 8, (int) length, StandardCharsets.UTF_8);
      byte[] data = Arrays.copyOfRange(file, 8 + (int) length, file.length);
      String mutated;
      List<int[]> numbers = spans(header);
      if (random.nextBoolean() && !numbers.isEmpty()) {
        int[] span = numbers.get(random.nextInt(numbers.size()));
        mutated = header.substring(0, span[0]) + NUMBERS[random.nextInt(NUMBERS.length)] + header.substring(span[1]);
      } else {
        int at = random.nextInt(header.length() + 1);
        int cut = random.nextInt(4) == 0 ? Math.min(header.length() - at, random.nextInt(8)) : 0;
        mutated = header.substring(0, at) + TOKENS[random.nextInt(TOKENS.length)] + header.substring(at + cut);
      }
      byte[] text = mutated.stripTrailing().getBytes(StandardCharsets.UTF_8);
      int padded = (text.length + 7) / 8 * 8;
      ByteBuffer out = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
      out.putLong(padded).put(text);
      for (int i = text.length; i < padded; i++) {
        out.put((byte) ' ');
      }
      return out.put(data).array();
    }

    /** {@code [start, end)} of every run of digits in {@code text}. */
    private static List<int[]> spans(String text) {
      List<int[]> spans = new ArrayList<>();
      for (int i = 0; i < text.length(); i++) {
        if (Character.isDigit(text.charAt(i))) {
          int start = i;
          while (i < text.length() && Character.isDigit(text.charAt(i))) {
            i++;
          }
          spans.add(new int[] {start, i});
        }
      }
      return spans;
    }
  }
}
