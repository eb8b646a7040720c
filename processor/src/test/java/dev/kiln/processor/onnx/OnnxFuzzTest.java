package dev.kiln.processor.onnx;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.processor.testing.InMemoryCompiler;
import dev.kiln.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import javax.lang.model.SourceVersion;
import javax.tools.Diagnostic;
import javax.tools.JavaFileObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutates valid ONNX models, and reads, imports and writes each mutant as {@code kiln-cli import} does
 * ({@link OnnxReader#read}, {@link OnnxImporter#importModel}, {@link ModelSourceWriter#write}): every outcome is
 * either a correct import or an {@link IOException} ({@link UnsupportedGraphException} is one) with a one-line
 * message, never another exception, an {@link OutOfMemoryError} or a hang (each input runs on a worker thread
 * with {@value #INPUT_SECONDS} s to finish). The build runs the test in a JVM of its own with {@code -Xmx256m}.
 *
 * <p>The models: the test resources the other tests import (among them one with external data, one with local
 * functions and two that are refused), and models generated from the operators the importer covers ({@link Gen},
 * half of them with boundary values in their dimensions and attributes). The mutations: bytes (bit flips,
 * boundary bytes, truncation, spans deleted, repeated or inserted, an interesting varint inserted) and, on the
 * parsed protobuf, varint values, declared lengths that lie, tensor and input dimensions (huge, zero, negative,
 * more than 16), empty tensors and tensors without data, node inputs and outputs removed, duplicated, emptied or
 * renamed, attributes changed, added, retyped or removed, op types and domains, nodes wrapped in local functions
 * nested up to 18 deep, calling themselves or fanning out (an exponential expansion), functions' formal
 * parameters, hostile text (comment ends, also as unicode escapes, line breaks, non-ASCII, invalid UTF-8, long
 * names) as producer, node, graph, function, domain and tensor names and file names, and generic changes (fields
 * deleted, repeated, grafted elsewhere, swapped, of another wire type; payload bytes).
 *
 * <p>A successful import must be well-formed (a positive input shape of at most 2^31 - 1 elements, layers with
 * Java names) and its source safe: exactly one top-level type (the interface), each Javadoc opened and closed
 * once on lines of their own and none other, no backslash, only printable ASCII. The first
 * {@value #COMPILED_PLAIN} distinct sources and the first {@value #COMPILED_ESCAPED} distinct ones with escaped
 * file text are compiled with the Kiln processor, which must give exactly each interface and its model class.
 *
 * <p>Seeded and bounded in time: input {@code i} is made from {@code new SplittableRandom(base + i)}, {@code base}
 * the first {@code nextLong()} of {@code new SplittableRandom(seed)}, and inputs are tried until
 * {@code kiln.fuzz.seconds} (default 15) have passed, and at least {@value #MIN_INPUTS}. A failure names the seed,
 * the input number, the mutations and the model in Base64. {@code -Dkiln.fuzz.seed=S} tries another sequence;
 * {@code -Dkiln.fuzz.verbose=true} prints the outcomes by kind of mutation and how often each message came up.
 */
class OnnxFuzzTest {
  private static final long SEED = Long.getLong("kiln.fuzz.seed", 20261206L);
  private static final double SECONDS = Double.parseDouble(System.getProperty("kiln.fuzz.seconds", "15"));
  /** Inputs tried even when the time is up (a busy machine), so that the counts below mean something. */
  private static final int MIN_INPUTS = 3_000;
  /** The time one input may take to read, import and write (they take milliseconds). */
  private static final int INPUT_SECONDS = 5;
  private static final boolean VERBOSE = Boolean.getBoolean("kiln.fuzz.verbose");
  /** Distinct sources compiled: any, and ones with file text escaped in their Javadoc. */
  private static final int COMPILED_PLAIN = 10;
  private static final int COMPILED_ESCAPED = 10;
  private static final String[] RESOURCE_SEEDS = {"unsupported.onnx", "branching.onnx", "external.onnx",
      "functions.onnx", "mobile-relu6.onnx", "digits-deploy.onnx", "repvgg-deploy.onnx"};
  /** How often each resource is the seed (the large ones cost more to copy and write). */
  private static final int[] RESOURCE_WEIGHTS = {2, 2, 4, 5, 4, 2, 1};

  @TempDir Path dir;

  /** What the worker gives: an import and its source, or the IOException that refused the model. */
  private record Outcome(ImportedNetwork network, String source, IOException refusal) {}

  /** A successful import kept to be compiled at the end. */
  private record Sample(long input, String how, String origin, byte[] model, ImportedNetwork network) {}

  @Test
  void mutatedModelsImportCorrectlyOrFailWithIoException() throws Exception {
    List<Seed> seeds = new ArrayList<>();
    for (String name : RESOURCE_SEEDS) {
      byte[] bytes = resource(name);
      List<Field> tree = parse(bytes, 0, bytes.length, "Model");
      assertWithMessage("%s parses", name).that(tree).isNotNull();
      assertWithMessage("%s round trip", name).that(serialize(tree)).isEqualTo(bytes);
      seeds.add(new Seed(name, tree));
    }
    Files.write(dir.resolve("external.onnx.data"), resource("external.onnx.data"));
    Path file = dir.resolve("model.onnx");

    Thread[] workerThread = new Thread[1];
    ExecutorService worker = Executors.newSingleThreadExecutor(task -> {
      Thread t = new Thread(task, "onnx-fuzz-worker");
      t.setDaemon(true); // a hung input is left running when the test fails
      workerThread[0] = t;
      return t;
    });
    Map<String, int[]> byMutation = new TreeMap<>(); // {imported, refused} for each kind of mutation
    Map<String, Integer> messages = new TreeMap<>();
    List<Sample> plain = new ArrayList<>();
    List<Sample> escaped = new ArrayList<>();
    Set<String> sources = new HashSet<>();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      pool.resetPeakUsage();
    }
    long base = new SplittableRandom(SEED).nextLong(); // other seeds, other inputs (not the same ones shifted)
    long start = System.nanoTime();
    long deadline = start + (long) (SECONDS * 1e9);
    int imported = 0;
    int refused = 0;
    long peak = 0;
    long slowest = 0;
    long workerCpu;
    long i = 0;
    try {
      for (; i < MIN_INPUTS || System.nanoTime() < deadline; i++) {
        SplittableRandom random = new SplittableRandom(base + i);
        Mutant mutant = Mutant.make(seeds, random);
        String origin = random.nextInt(8) == 0 ? HOSTILE[random.nextInt(HOSTILE.length)] + ".onnx" : "model.onnx";
        try {
          Files.write(file, mutant.bytes());
          long t0 = System.nanoTime();
          Future<Outcome> future = worker.submit(() -> pipeline(file, origin));
          Outcome outcome;
          try {
            outcome = future.get(INPUT_SECONDS, TimeUnit.SECONDS);
          } catch (TimeoutException e) {
            AssertionError hang = new AssertionError("no outcome within " + INPUT_SECONDS + " s (a hang); the worker "
                + "was at the stack trace below");
            hang.setStackTrace(workerThread[0].getStackTrace());
            future.cancel(true);
            throw hang;
          } catch (ExecutionException e) {
            throw e.getCause();
          }
          slowest = Math.max(slowest, System.nanoTime() - t0);
          boolean ok = outcome.refusal() == null;
          if (ok) {
            imported++;
            peak = Math.max(peak, heapInUse());
            checkNetwork(outcome.network());
            try {
              checkSource(outcome.source(), outcome.network());
            } catch (AssertionError e) {
              throw new AssertionError(e.getMessage() + "\ngenerated source:\n" + outcome.source(), e);
            }
            if (sources.add(outcome.source())) {
              boolean hasText = outcome.source().contains("&#");
              List<Sample> sample = hasText && escaped.size() < COMPILED_ESCAPED ? escaped
                  : plain.size() < COMPILED_PLAIN ? plain : null;
              if (sample != null) {
                sample.add(new Sample(i, mutant.how(), origin, mutant.bytes(), outcome.network()));
              }
            }
          } else {
            refused++;
            String message = outcome.refusal().getMessage();
            assertWithMessage("message").that(message).isNotEmpty();
            assertWithMessage("one line: %s", message).that(message.contains("\n") || message.contains("\r"))
                .isFalse();
            assertWithMessage("message length").that(message.length())
                .isAtMost(UnsupportedGraphException.MAX_MESSAGE + 8);
            if (VERBOSE) {
              messages.merge(message.replace(dir.toString(), "").replaceAll("[0-9]+", "N")
                  .replaceAll("'[^']*'", "S"), 1, Integer::sum);
            }
          }
          for (String kind : mutant.kinds()) {
            byMutation.computeIfAbsent(kind, k -> new int[2])[ok ? 0 : 1]++;
          }
        } catch (Throwable t) {
          throw new AssertionError("seed " + SEED + ", input " + i + " (" + mutant.how() + "; origin " + origin
              + "): " + t + "; model in Base64: " + Base64.getEncoder().encodeToString(mutant.bytes()), t);
        }
      }
      workerCpu = ManagementFactory.getThreadMXBean().getThreadCpuTime(workerThread[0].getId());
    } finally {
      worker.shutdownNow();
    }
    double seconds = (System.nanoTime() - start) / 1e9;

    long compileStart = System.nanoTime();
    List<Sample> compiled = new ArrayList<>(plain);
    compiled.addAll(escaped);
    compile(compiled);
    double compileSeconds = (System.nanoTime() - compileStart) / 1e9;

    System.out.printf(Locale.ROOT, "onnx fuzz: %,d inputs in %.1f s (%.1f s CPU, seed %d): %,d imported / %,d refused "
            + "(slowest %.0f ms); %d distinct sources compiled in %.1f s; at most %.0f MB of heap in use after an "
            + "import (peak %.0f MB), of %.0f MB%n", i, seconds, workerCpu / 1e9, SEED, imported, refused,
        slowest / 1e6, compiled.size(), compileSeconds, peak / 1e6, heapPeak() / 1e6,
        Runtime.getRuntime().maxMemory() / 1e6);
    if (VERBOSE) {
      byMutation.forEach((kind, n) -> System.out.printf(Locale.ROOT, "%-10s %,7d imported / %,7d refused%n", kind,
          n[0], n[1]));
      messages.forEach((message, count) -> System.out.printf(Locale.ROOT, "%6d  %s%n", count, message));
    }
    // The mutations must reach both outcomes, and each kind of mutation the refusals at least.
    assertWithMessage("imported").that(imported).isAtLeast(300);
    assertWithMessage("refused").that(refused).isAtLeast(1_500);
    assertWithMessage("compiled").that(compiled.size()).isEqualTo(COMPILED_PLAIN + COMPILED_ESCAPED);
    for (String kind : Mutant.KINDS) {
      assertWithMessage("mutation %s applied", kind).that(byMutation).containsKey(kind);
      assertWithMessage("refused after mutation %s", kind).that(byMutation.get(kind)[1]).isAtLeast(5);
    }
    for (String kind : new String[] {"generated", "text", "function", "attribute", "inputs", "dims"}) {
      assertWithMessage("imported after mutation %s", kind).that(byMutation.get(kind)[0]).isAtLeast(5);
    }
  }

  private static Outcome pipeline(Path file, String origin) {
    ImportedNetwork network;
    try {
      network = OnnxImporter.importModel(OnnxReader.read(file));
    } catch (IOException e) {
      return new Outcome(null, null, e);
    }
    return new Outcome(network, ModelSourceWriter.write(network, "fuzz.out", "Net", origin, "Net.safetensors"), null);
  }

  private byte[] resource(String name) throws IOException {
    try (InputStream in = getClass().getResourceAsStream("/onnx/" + name)) {
      assertWithMessage(name).that(in).isNotNull();
      return in.readAllBytes();
    }
  }

  /** The heap in use now (live data and garbage not yet collected). */
  private static long heapInUse() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** The sum of the heap pools' peaks since the test started (an upper bound of the heap's peak). */
  private static long heapPeak() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  // ---- checks of a successful import ----

  /** A one-sample input shape Kiln's tensors hold, layers with Java names, weights of layers. */
  private static void checkNetwork(ImportedNetwork network) {
    int[] input = network.input();
    assertWithMessage("input rank").that(input.length == 1 || input.length == 3).isTrue();
    long elements = 1;
    for (int d : input) {
      assertWithMessage("input %s", Arrays.toString(input)).that(d).isAtLeast(1);
      elements *= d;
    }
    assertWithMessage("input %s", Arrays.toString(input)).that(elements).isAtMost(Integer.MAX_VALUE);
    assertThat(network.layers()).isNotEmpty();
    Set<String> methods = new HashSet<>();
    for (ImportedNetwork.Layer layer : network.layers()) {
      assertWithMessage("method %s", layer.method()).that(SourceVersion.isIdentifier(layer.method())
          && !SourceVersion.isKeyword(layer.method())).isTrue();
      assertWithMessage("method %s twice", layer.method()).that(methods.add(layer.method())).isTrue();
      assertThat(layer.nodes()).isNotEmpty();
    }
    for (Map.Entry<String, Tensor> w : network.weights().entrySet()) {
      String key = w.getKey();
      assertWithMessage("weight %s of a layer", key).that(methods.contains(key.substring(0, Math.max(0,
          key.indexOf('.'))))).isTrue();
      long n = 1;
      for (int d : w.getValue().shape()) {
        assertThat(d).isAtLeast(0);
        n *= d;
      }
      assertWithMessage("weight %s", key).that((long) w.getValue().data().length).isEqualTo(n);
    }
  }

  /**
   * The source declares exactly the interface: only printable ASCII and no backslash (so no unicode escape,
   * which javac decodes anywhere), one Javadoc for the interface and one per layer, each opened by a line
   * {@code /**} and closed by a line {@code * /} with no other comment delimiter anywhere, and outside the
   * comments one top-level type, {@code public interface Net}, with one abstract method per layer and no other
   * type, class or enum.
   */
  private static void checkSource(String source, ImportedNetwork network) {
    for (int k = 0; k < source.length(); k++) {
      char c = source.charAt(k);
      if (c != '\n' && (c < 0x20 || c >= 0x7f)) {
        throw new AssertionError("character " + (int) c + " at " + k + " of the source:\n" + source);
      }
    }
    assertWithMessage("a backslash").that(source.indexOf('\\')).isEqualTo(-1);
    int comments = 0;
    boolean inComment = false;
    StringBuilder code = new StringBuilder();
    for (String line : source.split("\n", -1)) {
      String t = line.trim();
      if (t.equals("/**")) {
        assertWithMessage("a comment opened in a comment").that(inComment).isFalse();
        inComment = true;
        comments++;
      } else if (t.equals("*/")) {
        assertWithMessage("a comment closed outside one").that(inComment).isTrue();
        inComment = false;
      } else if (inComment) {
        assertWithMessage("Javadoc line %s", line).that(t.startsWith("*")).isTrue();
        assertWithMessage("Javadoc line %s", line).that(t.indexOf('*', 1)).isEqualTo(-1); // so no */ or /*
      } else {
        assertWithMessage("code line %s", line).that(line.contains("/*") || line.contains("*/")
            || line.contains("//")).isFalse();
        code.append(line).append('\n');
      }
    }
    assertWithMessage("comment left open").that(inComment).isFalse();
    assertWithMessage("Javadoc comments").that(comments).isEqualTo(1 + network.layers().size());

    // Outside the comments: string literals and array values blanked, then braces and the words that declare
    // types counted.
    String c = code.toString().replaceAll("\"[^\"\n]*\"", "\"\"").replaceAll("\\{[-0-9., ]*\\}", "0");
    int depth = 0;
    int topLevel = 0;
    for (int k = 0; k < c.length(); k++) {
      if (c.charAt(k) == '{') {
        topLevel += depth == 0 ? 1 : 0;
        depth++;
      } else if (c.charAt(k) == '}') {
        depth--;
        assertWithMessage("braces").that(depth).isAtLeast(0);
      }
    }
    assertWithMessage("braces").that(depth).isEqualTo(0);
    assertWithMessage("top-level bodies").that(topLevel).isEqualTo(1);
    List<String> words = Arrays.asList(c.split("[^A-Za-z0-9_$]+"));
    assertWithMessage("'interface'").that(words.stream().filter("interface"::equals).count()).isEqualTo(1);
    for (String word : new String[] {"class", "enum", "record", "static", "default"}) {
      assertWithMessage("'%s' in the code", word).that(words).doesNotContain(word);
    }
    assertWithMessage("declaration").that(c).contains("\npublic interface Net {\n");
    assertWithMessage("a @interface").that(c).doesNotContain("@interface");
    long methods = Arrays.stream(c.split("\n")).filter(l -> l.matches("  Module [a-z]+[0-9]+\\(\\);")).count();
    assertWithMessage("abstract methods").that(methods).isEqualTo(network.layers().size());
    assertWithMessage("semicolons").that(c.chars().filter(ch -> ch == ';').count())
        .isEqualTo(1 + c.lines().filter(l -> l.startsWith("import ")).count() + methods);
  }

  /**
   * Compiles the samples in one javac run, each interface in a package of its own, with the Kiln processor:
   * it must succeed and give exactly each interface and the model class the processor generates from it.
   */
  private static void compile(List<Sample> samples) {
    if (samples.isEmpty()) {
      return;
    }
    List<JavaFileObject> files = new ArrayList<>();
    Set<String> expected = new TreeSet<>();
    for (int k = 0; k < samples.size(); k++) {
      Sample s = samples.get(k);
      String pkg = "fuzz.s" + k;
      files.add(JavaFileObjects.forSourceString(pkg + ".Net",
          ModelSourceWriter.write(s.network(), pkg, "Net", s.origin(), "Net.safetensors")));
      expected.add(pkg + ".Net");
      expected.add(pkg + ".NetModel");
    }
    Compilation compilation;
    try {
      compilation = InMemoryCompiler.compile(files.toArray(new JavaFileObject[0]));
    } catch (AssertionError e) { // a warning or error in a generated source
      throw new AssertionError(e.getMessage() + describe(samples, e.getMessage()), e);
    }
    for (Diagnostic<? extends JavaFileObject> d : compilation.diagnostics()) {
      if (d.getKind() == Diagnostic.Kind.ERROR) {
        throw new AssertionError("does not compile: " + d + describe(samples, String.valueOf(d.getSource())));
      }
    }
    assertThat(compilation.status()).isEqualTo(Compilation.Status.SUCCESS);
    Set<String> topLevel = new TreeSet<>();
    for (String name : InMemoryCompiler.classFiles(compilation).keySet()) {
      if (!name.contains("$")) {
        topLevel.add(name);
      }
    }
    Set<String> extra = new TreeSet<>(topLevel);
    extra.removeAll(expected);
    assertWithMessage("top-level classes%s", extra.isEmpty() ? "" : describe(samples, extra.toString()))
        .that(topLevel).containsExactlyElementsIn(expected);
  }

  /** The samples {@code text} names by their package ({@code fuzz.s<k>}), for a failure message. */
  private static String describe(List<Sample> samples, String text) {
    StringBuilder s = new StringBuilder();
    for (int k = samples.size() - 1; k >= 0; k--) {
      if (text != null && (text.contains("fuzz.s" + k + ".") || text.contains("fuzz/s" + k + "/"))) {
        Sample sample = samples.get(k);
        s.append("; seed ").append(SEED).append(", input ").append(sample.input()).append(" (").append(sample.how())
            .append("; origin ").append(sample.origin()).append("), model in Base64: ")
            .append(Base64.getEncoder().encodeToString(sample.model()));
        text = text.replace("fuzz.s" + k + ".", "").replace("fuzz/s" + k + "/", "");
      }
    }
    return s.toString();
  }

  // ---- the protobuf tree ----

  /**
   * One field of a message: a varint, fixed bytes, a string or bytes, or (for the fields of {@link #SCHEMA}) a
   * parsed message of that type. {@code lengthDelta} (or {@code lengthValue}) makes its length field lie.
   */
  static final class Field {
    int number;
    int wireType;
    long value;
    byte[] bytes; // never changed in place: mutations replace the array
    List<Field> children;
    String type;
    long lengthDelta;
    Long lengthValue;

    Field(int number, int wireType) {
      this.number = number;
      this.wireType = wireType;
    }

    static Field varint(int number, long v) {
      Field f = new Field(number, 0);
      f.value = v;
      return f;
    }

    static Field text(int number, String s) {
      return bytes(number, s.getBytes(StandardCharsets.UTF_8));
    }

    static Field bytes(int number, byte[] b) {
      Field f = new Field(number, 2);
      f.bytes = b;
      return f;
    }

    static Field fixed32(int number, float v) {
      Field f = new Field(number, 5);
      int bits = Float.floatToRawIntBits(v);
      f.bytes = new byte[] {(byte) bits, (byte) (bits >>> 8), (byte) (bits >>> 16), (byte) (bits >>> 24)};
      return f;
    }

    static Field message(int number, String type, List<Field> children) {
      Field f = new Field(number, 2);
      f.type = type;
      f.children = children;
      return f;
    }

    boolean isString() {
      return wireType == 2 && children == null && bytes != null;
    }

    String string() {
      return bytes == null ? "" : new String(bytes, StandardCharsets.UTF_8);
    }

    Field copy() {
      Field f = new Field(number, wireType);
      f.value = value;
      f.bytes = bytes;
      f.type = type;
      f.lengthDelta = lengthDelta;
      f.lengthValue = lengthValue;
      if (children != null) {
        f.children = copy(children);
      }
      return f;
    }

    static List<Field> copy(List<Field> fields) {
      List<Field> out = new ArrayList<>(fields.size());
      for (Field f : fields) {
        out.add(f.copy());
      }
      return out;
    }
  }

  /** For each message type of onnx.proto that is mutated, its fields that are messages and their types. */
  static final Map<String, Map<Integer, String>> SCHEMA = Map.ofEntries(
      Map.entry("Model", Map.of(7, "Graph", 8, "OpsetId", 14, "Entry", 25, "Function")),
      Map.entry("Graph", Map.of(1, "Node", 5, "Tensor", 11, "ValueInfo", 12, "ValueInfo", 13, "ValueInfo")),
      Map.entry("Node", Map.of(5, "Attribute")),
      Map.entry("Attribute", Map.of(5, "Tensor", 6, "Graph")),
      Map.entry("Tensor", Map.of(13, "Entry")),
      Map.entry("ValueInfo", Map.of(2, "Type")),
      Map.entry("Type", Map.of(1, "TensorType")),
      Map.entry("TensorType", Map.of(2, "Shape")),
      Map.entry("Shape", Map.of(1, "Dim")),
      Map.entry("Function", Map.of(7, "Node", 11, "Attribute")));

  /** Parses {@code [from, to)} as a message of {@code type}; null if it is not a well-formed message. */
  static List<Field> parse(byte[] b, int from, int to, String type) {
    Map<Integer, String> inner = SCHEMA.getOrDefault(type, Map.of());
    List<Field> out = new ArrayList<>();
    int[] at = {from};
    while (at[0] < to) {
      long key = readVarint(b, at, to);
      if (at[0] < 0 || key >>> 3 == 0 || key >>> 3 > Integer.MAX_VALUE) {
        return null;
      }
      Field f = new Field((int) (key >>> 3), (int) (key & 7));
      switch (f.wireType) {
        case 0 -> f.value = readVarint(b, at, to);
        case 1, 5 -> {
          int n = f.wireType == 1 ? 8 : 4;
          if (to - at[0] < n) {
            return null;
          }
          f.bytes = Arrays.copyOfRange(b, at[0], at[0] + n);
          at[0] += n;
        }
        case 2 -> {
          long length = readVarint(b, at, to);
          if (at[0] < 0 || length < 0 || length > to - at[0]) {
            return null;
          }
          int end = at[0] + (int) length;
          String t = inner.get(f.number);
          if (t != null) {
            f.children = parse(b, at[0], end, t);
            f.type = f.children != null ? t : null;
          }
          if (f.children == null) {
            f.bytes = Arrays.copyOfRange(b, at[0], end);
          }
          at[0] = end;
        }
        default -> {
          return null;
        }
      }
      if (at[0] < 0) {
        return null;
      }
      out.add(f);
    }
    return out;
  }

  /** A varint at {@code at[0]}; sets {@code at[0]} to -1 if there is none. */
  private static long readVarint(byte[] b, int[] at, int to) {
    long v = 0;
    for (int shift = 0; shift < 64 && at[0] >= 0 && at[0] < to; shift += 7) {
      byte x = b[at[0]++];
      v |= (long) (x & 0x7f) << shift;
      if (x >= 0) {
        return v;
      }
    }
    at[0] = -1;
    return 0;
  }

  static byte[] serialize(List<Field> fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    write(fields, out);
    return out.toByteArray();
  }

  private static void write(List<Field> fields, ByteArrayOutputStream out) {
    for (Field f : fields) {
      Proto.writeVarint(out, (long) f.number << 3 | f.wireType);
      switch (f.wireType) {
        case 0 -> Proto.writeVarint(out, f.value);
        case 2 -> {
          byte[] payload = f.children != null ? serialize(f.children) : f.bytes;
          Proto.writeVarint(out, f.lengthValue != null ? f.lengthValue : payload.length + f.lengthDelta);
          out.writeBytes(payload);
        }
        default -> out.writeBytes(f.bytes == null ? new byte[0] : f.bytes);
      }
    }
  }

  /** A field with the message it is in (its type, and the list holding it). */
  record Slot(List<Field> parent, String parentType, Field field) {}

  static List<Slot> slots(List<Field> root) {
    List<Slot> out = new ArrayList<>();
    collect(root, "Model", out);
    return out;
  }

  private static void collect(List<Field> fields, String type, List<Slot> out) {
    for (Field f : fields) {
      out.add(new Slot(fields, type, f));
      if (f.children != null) {
        collect(f.children, f.type, out);
      }
    }
  }

  /** A resource model parsed. */
  record Seed(String name, List<Field> tree) {}

  // ---- the mutations ----

  /** Producer, node, function, domain and file names that must stay inert in the generated source. */
  static final String[] HOSTILE = {"*/ class X {} /*", "a*/b", "\\u002a/ class U {} /\\u002a",
      "\\uuu002a\\uuuu002f class V {} /*", "line\nbreak */ class W {}", "cr\rreturn", "sep\u2028arator\u2029",
      "\n@Deprecated", "<b>&amp;</b>", "\u202etxt.exe", "snow\u2603man \ud83d\ude00", "*/", "/*", "/**", "//",
      "\\", "\"", "a\u0000b", "@param x", "} class Y {", "{@code", "*".repeat(700), "\\u000a", "\t\f\u0085"};
  static final long[] VARINTS = {0, 1, 2, 3, -1, 0x7f, 0x80, 0x7fffffffL, 0x80000000L, 0xffffffffL, 1L << 32,
      1L << 28, (1L << 28) + 1, Long.MAX_VALUE, Long.MIN_VALUE, 64, 65, 6, 7, 9, 11, 16, 17, 100_000, 1L << 16,
      (1L << 16) + 1};
  static final long[] DIMS = {0, 1, 2, 3, -1, -2, 65536, 65537, 1L << 28, (1L << 28) + 1, Integer.MAX_VALUE,
      1L << 31, (1L << 32) + 1, 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE};
  static final float[] FLOATS = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 6f, 1e-5f,
      -1f, 1e30f, 0.5f, 1f, Float.MIN_VALUE};
  static final String[] OPS = {"Conv", "BatchNormalization", "Relu", "Clip", "MaxPool", "AveragePool",
      "GlobalAveragePool", "Flatten", "Reshape", "Gemm", "MatMul", "Add", "Dropout", "Identity", "Pad", "Constant",
      "Sigmoid", "If", "", "F0"};
  static final String[] DOMAINS = {"", "ai.onnx", "local", "com.microsoft", "ai.onnx.ml"};
  static final String[] ATTRIBUTES = {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad", "value",
      "value_float", "value_floats", "value_int", "value_ints", "ratio", "axis", "epsilon", "transA", "transB",
      "alpha", "beta", "mode", "min", "max", "training_mode", "ceil_mode", "count_include_pad", "storage_order",
      "allowzero", "momentum", ""};
  static final String[] ATTRIBUTE_STRINGS = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "constant", "reflect",
      "edge", "", "x"};

  /** A mutated model: its bytes, what was done (for a failure message) and the kinds of mutation applied. */
  record Mutant(byte[] bytes, String how, Set<String> kinds) {
    static final String[] KINDS = {"text", "function", "outputs", "inputs", "attribute", "dims", "empty",
        "opType", "varint", "length", "tree", "payload", "bytes"};
    private static final int[] WEIGHTS = {12, 10, 7, 7, 12, 8, 5, 4, 5, 4, 9, 3, 8};

    static Mutant make(List<Seed> seeds, SplittableRandom r) {
      StringBuilder how = new StringBuilder();
      Set<String> kinds = new LinkedHashSet<>();
      List<Field> model;
      boolean generated = r.nextInt(100) < 45;
      if (generated) {
        byte[] b = new Gen(r, how).generate();
        model = parse(b, 0, b.length, "Model");
        kinds.add("generated");
      } else {
        int pick = r.nextInt(Arrays.stream(RESOURCE_WEIGHTS).sum());
        int s = 0;
        while (pick >= RESOURCE_WEIGHTS[s]) {
          pick -= RESOURCE_WEIGHTS[s++];
        }
        how.append(seeds.get(s).name()).append(':');
        model = Field.copy(seeds.get(s).tree());
      }
      int rounds = generated && r.nextInt(4) == 0 ? 0 : r.nextInt(3) == 0 ? 2 + r.nextInt(3) : 1;
      int byteRounds = 0;
      Mutator m = new Mutator(model, r, how);
      for (int k = 0; k < rounds; k++) {
        int pick = r.nextInt(Arrays.stream(WEIGHTS).sum());
        int kind = 0;
        while (pick >= WEIGHTS[kind]) {
          pick -= WEIGHTS[kind++];
        }
        kinds.add(KINDS[kind]);
        if (KINDS[kind].equals("bytes")) {
          byteRounds++;
        } else {
          m.apply(KINDS[kind]);
        }
      }
      byte[] bytes = serialize(model);
      for (int k = 0; k < byteRounds; k++) {
        bytes = Mutator.bytes(bytes, r, how);
      }
      return new Mutant(bytes, how.toString(), kinds);
    }
  }

  /** The structure-aware mutations, on a parsed model. */
  static final class Mutator {
    private final List<Field> model;
    private final SplittableRandom r;
    private final StringBuilder how;

    Mutator(List<Field> model, SplittableRandom r, StringBuilder how) {
      this.model = model;
      this.r = r;
      this.how = how;
    }

    void apply(String kind) {
      switch (kind) {
        case "text" -> text();
        case "function" -> function();
        case "outputs" -> nodeNames(2, "output");
        case "inputs" -> nodeNames(1, "input");
        case "attribute" -> attribute();
        case "dims" -> dims();
        case "empty" -> emptyTensor();
        case "opType" -> opType();
        case "varint" -> varint();
        case "length" -> length();
        case "tree" -> tree();
        case "payload" -> payload();
        default -> throw new IllegalArgumentException(kind);
      }
    }

    private <T> T any(List<T> items) {
      return items.get(r.nextInt(items.size()));
    }

    private String hostile() {
      return HOSTILE[r.nextInt(HOSTILE.length)];
    }

    private List<Field> messages(String type) {
      List<Field> out = new ArrayList<>();
      for (Slot s : slots(model)) {
        if (type.equals(s.field().type)) {
          out.add(s.field());
        }
      }
      return out;
    }

    private static List<Field> fields(Field message, int number) {
      List<Field> out = new ArrayList<>();
      for (Field f : message.children) {
        if (f.number == number) {
          out.add(f);
        }
      }
      return out;
    }

    /** Sets string field {@code number} of {@code message} (the first, or a new one). */
    private static void setString(Field message, int number, byte[] value) {
      for (Field f : message.children) {
        if (f.number == number && f.wireType == 2 && f.children == null) {
          f.bytes = value;
          return;
        }
      }
      message.children.add(Field.bytes(number, value));
    }

    private static String string(Field message, int number) {
      for (Field f : message.children) {
        if (f.number == number && f.isString()) {
          return f.string();
        }
      }
      return "";
    }

    /** The main graph, or null. */
    private Field graph() {
      for (Field f : model) {
        if ("Graph".equals(f.type)) {
          return f;
        }
      }
      return null;
    }

    /** Tensor names in use: node inputs and outputs, initializers, graph inputs and outputs. */
    private List<String> names() {
      List<String> out = new ArrayList<>();
      for (Slot s : slots(model)) {
        if (isName(s)) {
          out.add(s.field().string());
        }
      }
      return out;
    }

    /** Whether the field names a tensor: a node input or output, an initializer, a graph input or output. */
    private static boolean isName(Slot s) {
      Field f = s.field();
      String in = s.parentType();
      return f.isString() && ("Node".equals(in) && (f.number == 1 || f.number == 2)
          || "Tensor".equals(in) && f.number == 8 || "ValueInfo".equals(in) && f.number == 1);
    }

    /** Hostile text where it reaches the generated source or a message. */
    void text() {
      byte[] text = r.nextInt(12) == 0 ? new byte[] {'a', (byte) 0xc3, 0x28, (byte) 0xff, (byte) 0xed, (byte) 0xa0,
          (byte) 0x80} : hostile().getBytes(StandardCharsets.UTF_8);
      String t = new String(text, StandardCharsets.UTF_8);
      how.append(" text");
      int op = r.nextInt(8);
      Field graph = graph();
      List<Field> nodes = messages("Node");
      List<Field> functions = messages("Function");
      if (op <= 1) { // producer name or version
        setString(Field.message(0, "Model", model), op == 0 ? 2 : 3, text);
        how.append(op == 0 ? " producer" : " producer_version");
      } else if (op <= 3 && !nodes.isEmpty()) { // a node's name, replaced or extended
        Field node = any(nodes);
        String name = string(node, 3);
        setString(node, 3, r.nextBoolean() ? text : (name + t).getBytes(StandardCharsets.UTF_8));
        how.append(" node name");
      } else if (op == 4) { // a tensor's name everywhere it appears (the graph stays the same)
        List<String> names = names();
        if (!names.isEmpty()) {
          String old = any(names);
          byte[] renamed = (old + t).getBytes(StandardCharsets.UTF_8);
          for (Slot s : slots(model)) {
            Field f = s.field();
            if ((isName(s) || f.isString() && "Function".equals(s.parentType()) && (f.number == 4 || f.number == 5))
                && f.string().equals(old)) {
              f.bytes = renamed;
            }
          }
          how.append(" tensor name");
        }
      } else if (op == 5 && !functions.isEmpty()) { // a function's name, and its calls' op type
        Field function = any(functions);
        String old = string(function, 1);
        String domain = string(function, 10);
        byte[] renamed = r.nextBoolean() ? text : (old + t).getBytes(StandardCharsets.UTF_8);
        setString(function, 1, renamed);
        for (Field node : nodes) {
          if (string(node, 4).equals(old) && string(node, 7).equals(domain)) {
            setString(node, 4, renamed);
          }
        }
        how.append(" function name");
      } else if (op == 6 && !functions.isEmpty()) { // a function's domain, and its calls'
        Field function = any(functions);
        String old = string(function, 10);
        String name = string(function, 1);
        setString(function, 10, text);
        for (Field node : nodes) {
          if (string(node, 4).equals(name) && string(node, 7).equals(old)) {
            setString(node, 7, text);
          }
        }
        how.append(" function domain");
      } else if (graph != null) {
        setString(graph, 2, text);
        how.append(" graph name");
      }
    }

    /** Wraps a graph node in a chain of local functions; or a function calling itself; or formals changed. */
    void function() {
      Field graph = graph();
      List<Field> functions = messages("Function");
      int op = r.nextInt(10);
      if (op >= 7 && !functions.isEmpty()) {
        Field f = any(functions);
        String name = string(f, 1);
        String domain = string(f, 10);
        if (op == 7) { // calls itself
          Field call = Field.message(7, "Node", new ArrayList<>(List.of(Field.text(4, name), Field.text(7, domain))));
          for (Field in : fields(f, 4)) {
            call.children.add(Field.text(1, in.string()));
          }
          for (Field out : fields(f, 5)) {
            call.children.add(Field.text(2, out.string()));
          }
          f.children.add(r.nextInt(f.children.size() + 1), call);
          how.append(" function calls itself");
        } else if (op == 8) { // a formal input or output removed or added
          List<Field> formals = fields(f, r.nextBoolean() ? 4 : 5);
          if (!formals.isEmpty() && r.nextBoolean()) {
            f.children.remove(any(formals));
            how.append(" formal removed");
          } else {
            f.children.add(Field.text(r.nextBoolean() ? 4 : 5, "extra"));
            how.append(" formal added");
          }
        } else { // the function removed, or defined twice
          if (r.nextBoolean()) {
            model.removeIf(x -> x == f);
            how.append(" function removed");
          } else {
            model.add(f.copy());
            how.append(" function twice");
          }
        }
        return;
      }
      if (graph == null) {
        return;
      }
      List<Field> nodes = fields(graph, 1);
      nodes.removeIf(n -> n.children == null);
      if (nodes.isEmpty()) {
        return;
      }
      Field node = any(nodes);
      int levels = r.nextInt(5) == 0 ? 14 + r.nextInt(5) : 1 + r.nextInt(3);
      int fanout = r.nextInt(4) == 0 ? 2 + r.nextInt(7) : 1;
      String domain = r.nextInt(6) == 0 ? any(List.of(DOMAINS)) : "local";
      String base = "F" + r.nextInt(100) + "_";
      boolean empty = fanout > 1 && r.nextInt(3) == 0; // calls of nothing: only the work of inlining
      how.append(" function chain ").append(levels).append('x').append(fanout).append(empty ? " of nothing" : "");
      List<String> inputs = fields(node, 1).stream().map(Field::string).toList();
      List<String> outputs = fields(node, 2).stream().map(Field::string).toList();
      // Attributes passed down the chain by reference (ref_attr_name), or kept in the body node.
      List<Field> referenced = new ArrayList<>();
      List<Field> kept = new ArrayList<>();
      for (Field a : fields(node, 5)) {
        (a.children != null && r.nextBoolean() ? referenced : kept).add(a);
      }
      // The body: the node with its inputs and outputs the formal parameters a0, a1, ... and b0, b1, ...
      List<Field> body = new ArrayList<>();
      for (Field f : node.children) {
        if (f.number != 5) {
          body.add(f.copy());
        }
      }
      renumber(body, 1, "a");
      renumber(body, 2, "b");
      for (Field a : kept) {
        body.add(a.copy());
      }
      for (Field a : referenced) {
        body.add(reference(a));
      }
      Field bottom = Field.message(7, "Node", body);
      for (int level = levels - 1; level >= 0; level--) {
        Field function = Field.message(25, "Function", new ArrayList<>());
        function.children.add(Field.text(1, base + level));
        function.children.add(Field.text(10, domain));
        for (int k = 0; k < inputs.size(); k++) {
          function.children.add(Field.text(4, "a" + k));
        }
        for (int k = 0; k < outputs.size(); k++) {
          function.children.add(Field.text(5, "b" + k));
        }
        for (Field a : referenced) {
          function.children.add(Field.text(6, string(a, 1)));
        }
        if (level == levels - 1) {
          if (!empty) {
            function.children.add(bottom);
          }
        } else {
          for (int c = 0; c < fanout; c++) {
            List<Field> call = new ArrayList<>();
            for (int k = 0; k < inputs.size(); k++) {
              call.add(Field.text(1, inputs.get(k).isEmpty() ? "" : "a" + k));
            }
            for (int k = 0; k < outputs.size(); k++) {
              call.add(Field.text(2, outputs.get(k).isEmpty() ? "" : "b" + k));
            }
            call.add(Field.text(3, r.nextInt(4) == 0 ? "" : "c" + c));
            call.add(Field.text(4, base + (level + 1)));
            call.add(Field.text(7, domain));
            for (Field a : referenced) {
              call.add(reference(a));
            }
            function.children.add(Field.message(7, "Node", call));
          }
        }
        if (level == 0 && r.nextInt(8) == 0) { // the top calls itself: nested without end
          List<Field> self = new ArrayList<>(List.of(Field.text(1, "a0"), Field.text(2, "b0"),
              Field.text(4, base + 0), Field.text(7, domain)));
          function.children.add(Field.message(7, "Node", self));
          how.append(" recursive");
        }
        model.add(function);
      }
      // The graph's node becomes the call of the chain's top.
      List<Field> call = new ArrayList<>();
      for (Field f : node.children) {
        if (f.number == 1 || f.number == 2 || f.number == 3) {
          call.add(f.copy());
        }
      }
      if (r.nextInt(4) == 0) {
        call.removeIf(f -> f.number == 3); // unnamed: its inlined nodes are named by path
      }
      call.add(Field.text(4, base + 0));
      call.add(Field.text(7, domain));
      for (Field a : referenced) {
        call.add(a.copy());
      }
      node.children = call;
      if (!domain.isEmpty() && r.nextInt(3) != 0) {
        model.add(Field.message(8, "OpsetId", new ArrayList<>(List.of(Field.text(1, domain), Field.varint(2, 1)))));
      }
    }

    /** The string fields {@code number} renamed {@code prefix0}, {@code prefix1}, ... in order, empty ones kept. */
    private static void renumber(List<Field> fields, int number, String prefix) {
      int k = 0;
      for (Field f : fields) {
        if (f.number == number && f.isString()) {
          if (!f.string().isEmpty()) {
            f.bytes = (prefix + k).getBytes(StandardCharsets.UTF_8);
          }
          k++;
        }
      }
    }

    /** An attribute of {@code a}'s name and type taking the caller's value of that name. */
    private static Field reference(Field a) {
      String name = string(a, 1);
      long type = 0;
      for (Field f : a.children) {
        if (f.number == 20 && f.wireType == 0) {
          type = f.value;
        }
      }
      return Field.message(5, "Attribute", new ArrayList<>(List.of(Field.text(1, name), Field.text(21, name),
          Field.varint(20, type))));
    }

    /** A node's inputs ({@code number} 1) or outputs (2): removed, repeated, emptied, renamed or one more. */
    void nodeNames(int number, String what) {
      List<Field> nodes = messages("Node");
      if (nodes.isEmpty()) {
        return;
      }
      Field node = any(nodes);
      List<Field> items = fields(node, number);
      int op = r.nextInt(6);
      if (op == 0 || items.isEmpty()) {
        node.children.removeIf(f -> f.number == number);
        how.append(" all ").append(what).append("s removed");
      } else if (op == 1) {
        node.children.remove(any(items));
        how.append(" an ").append(what).append(" removed");
      } else if (op == 2) {
        Field f = any(items);
        node.children.add(node.children.indexOf(f), f.copy());
        how.append(" an ").append(what).append(" repeated");
      } else if (op == 3) {
        any(items).bytes = new byte[0];
        how.append(" an ").append(what).append(" emptied");
      } else if (op == 4) {
        List<String> names = names();
        any(items).bytes = any(names).getBytes(StandardCharsets.UTF_8);
        how.append(" an ").append(what).append(" renamed");
      } else {
        node.children.add(Field.text(number, r.nextBoolean() ? "extra" : any(names())));
        how.append(" one more ").append(what);
      }
    }

    /** A node's attribute changed, retyped, removed, repeated or renamed, or one added. */
    void attribute() {
      List<Field> nodes = messages("Node");
      if (nodes.isEmpty()) {
        return;
      }
      Field node = any(nodes);
      List<Field> attributes = fields(node, 5);
      attributes.removeIf(a -> a.children == null);
      int op = r.nextInt(10);
      if (attributes.isEmpty() || op >= 8) {
        String name = any(List.of(ATTRIBUTES));
        node.children.add(newAttribute(name));
        how.append(" attribute ").append(name).append(" added");
        return;
      }
      Field a = any(attributes);
      how.append(" attribute ").append(string(a, 1));
      switch (op) {
        case 0 -> {
          a.children.removeIf(f -> f.number == 3);
          a.children.add(Field.varint(3, r.nextBoolean() ? VARINTS[r.nextInt(VARINTS.length)] : r.nextInt(4)));
          how.append(" i");
        }
        case 1 -> {
          a.children.removeIf(f -> f.number == 8);
          for (int k = r.nextInt(6); k > 0; k--) {
            a.children.add(Field.varint(8, r.nextInt(3) == 0 ? VARINTS[r.nextInt(VARINTS.length)] : r.nextInt(4)));
          }
          how.append(" ints");
        }
        case 2 -> {
          a.children.removeIf(f -> f.number == 2);
          a.children.add(Field.fixed32(2, FLOATS[r.nextInt(FLOATS.length)]));
          how.append(" f");
        }
        case 3 -> {
          a.children.removeIf(f -> f.number == 4);
          a.children.add(Field.text(4, r.nextInt(4) == 0 ? hostile() : any(List.of(ATTRIBUTE_STRINGS))));
          how.append(" s");
        }
        case 4 -> {
          a.children.removeIf(f -> f.number == 20);
          a.children.add(Field.varint(20, r.nextInt(14)));
          how.append(" type");
        }
        case 5 -> {
          node.children.remove(a);
          how.append(" removed");
        }
        case 6 -> {
          node.children.add(a.copy());
          how.append(" repeated");
        }
        default -> {
          a.children.removeIf(f -> f.number == 1);
          a.children.add(0, Field.text(1, any(List.of(ATTRIBUTES))));
          how.append(" renamed");
        }
      }
    }

    /** An attribute of a random type and value. */
    private Field newAttribute(String name) {
      List<Field> a = new ArrayList<>(List.of(Field.text(1, name)));
      switch (r.nextInt(6)) {
        case 0 -> a.addAll(List.of(Field.varint(3, r.nextBoolean() ? r.nextInt(3) : VARINTS[r.nextInt(VARINTS.length)]),
            Field.varint(20, 2)));
        case 1 -> {
          for (int k = r.nextInt(5); k > 0; k--) {
            a.add(Field.varint(8, r.nextInt(3) == 0 ? VARINTS[r.nextInt(VARINTS.length)] : r.nextInt(3)));
          }
          a.add(Field.varint(20, 7));
        }
        case 2 -> a.addAll(List.of(Field.fixed32(2, FLOATS[r.nextInt(FLOATS.length)]), Field.varint(20, 1)));
        case 3 -> {
          for (int k = r.nextInt(3); k > 0; k--) {
            a.add(Field.fixed32(7, FLOATS[r.nextInt(FLOATS.length)]));
          }
          a.add(Field.varint(20, 6));
        }
        case 4 -> a.addAll(List.of(Field.text(4, any(List.of(ATTRIBUTE_STRINGS))), Field.varint(20, 3)));
        default -> {
          List<Field> t = new ArrayList<>();
          int rank = r.nextInt(3);
          for (int k = 0; k < rank; k++) {
            t.add(Field.varint(1, r.nextInt(3)));
          }
          t.add(Field.varint(2, r.nextBoolean() ? 1 : 7));
          if (r.nextBoolean()) {
            t.add(Field.bytes(9, new byte[r.nextInt(3) * 4]));
          }
          a.addAll(List.of(Field.message(5, "Tensor", t), Field.varint(20, 4)));
        }
      }
      return Field.message(5, "Attribute", a);
    }

    /** A dimension of a tensor or of a graph input or output: changed, removed, repeated, or very many. */
    void dims() {
      List<Field> dims = new ArrayList<>();
      List<Field> holders = new ArrayList<>();
      for (Slot s : slots(model)) {
        Field f = s.field();
        if (f.wireType == 0 && f.number == 1 && ("Tensor".equals(s.parentType()) || "Dim".equals(s.parentType()))) {
          dims.add(f);
        }
        if ("Tensor".equals(f.type) || "Shape".equals(f.type)) {
          holders.add(f);
        }
      }
      int op = r.nextInt(8);
      if (op < 5 && !dims.isEmpty()) {
        Field d = any(dims);
        long v = op == 0 ? d.value + (r.nextBoolean() ? 1 : -1) : DIMS[r.nextInt(DIMS.length)];
        how.append(" dim ").append(d.value).append("->").append(v);
        d.value = v;
      } else if (op == 5 && !dims.isEmpty()) {
        Field d = any(dims);
        for (Slot s : slots(model)) {
          if (s.field() == d) {
            s.parent().remove(d);
          }
        }
        how.append(" dim removed");
      } else if (!holders.isEmpty()) {
        Field holder = any(holders);
        int n = op == 6 ? 1 : 15 + r.nextInt(10);
        for (int k = 0; k < n; k++) {
          holder.children.add("Tensor".equals(holder.type) ? Field.varint(1, 1)
              : Field.message(1, "Dim", new ArrayList<>(List.of(Field.varint(1, 1)))));
        }
        how.append(" ").append(n).append(" dims added");
      }
    }

    /** A tensor made empty (a zero dimension, no data), or left without data, or a scalar. */
    void emptyTensor() {
      List<Field> tensors = messages("Tensor");
      if (tensors.isEmpty()) {
        return;
      }
      Field t = any(tensors);
      Predicate<Field> data = f -> f.number == 4 || f.number == 5 || f.number == 7 || f.number == 9
          || f.number == 10;
      switch (r.nextInt(4)) {
        case 0 -> {
          t.children.removeIf(data);
          List<Field> dims = fields(t, 1);
          if (dims.isEmpty()) {
            t.children.add(Field.varint(1, 0));
          } else {
            any(dims).value = 0;
          }
          how.append(" tensor empty");
        }
        case 1 -> {
          t.children.removeIf(data);
          how.append(" tensor without data");
        }
        case 2 -> {
          t.children.removeIf(data);
          t.children.add(Field.bytes(9, new byte[0]));
          how.append(" tensor raw_data empty");
        }
        default -> {
          t.children.removeIf(f -> f.number == 1);
          how.append(" tensor without dims");
        }
      }
    }

    void opType() {
      List<Field> nodes = messages("Node");
      if (nodes.isEmpty()) {
        return;
      }
      Field node = any(nodes);
      if (r.nextInt(4) == 0) {
        String domain = any(List.of(DOMAINS));
        setString(node, 7, domain.getBytes(StandardCharsets.UTF_8));
        how.append(" domain ").append(domain);
      } else {
        String op = any(List.of(OPS));
        setString(node, 4, op.getBytes(StandardCharsets.UTF_8));
        how.append(" op ").append(op);
      }
    }

    void varint() {
      List<Field> varints = new ArrayList<>();
      for (Slot s : slots(model)) {
        if (s.field().wireType == 0) {
          varints.add(s.field());
        }
      }
      if (!varints.isEmpty()) {
        Field f = any(varints);
        long v = VARINTS[r.nextInt(VARINTS.length)];
        how.append(" varint f").append(f.number).append(' ').append(f.value).append("->").append(v);
        f.value = v;
      }
    }

    /** A length field that lies: a little off, or an interesting value. */
    void length() {
      List<Field> delimited = new ArrayList<>();
      for (Slot s : slots(model)) {
        if (s.field().wireType == 2) {
          delimited.add(s.field());
        }
      }
      if (delimited.isEmpty()) {
        return;
      }
      Field f = any(delimited);
      if (r.nextBoolean()) {
        f.lengthDelta = r.nextBoolean() ? 1 + r.nextInt(16) : -1 - r.nextInt(16);
        how.append(" length f").append(f.number).append(" by ").append(f.lengthDelta);
      } else {
        f.lengthValue = VARINTS[r.nextInt(VARINTS.length)];
        how.append(" length f").append(f.number).append(" = ").append(f.lengthValue);
      }
    }

    /** Generic changes: a field deleted, repeated, grafted into another message, swapped, or retyped; one added. */
    void tree() {
      List<Slot> slots = slots(model);
      if (slots.isEmpty()) {
        return;
      }
      Slot slot = any(slots);
      Field f = slot.field();
      String where = " f" + f.number + " of " + slot.parentType();
      switch (r.nextInt(7)) {
        case 0 -> {
          slot.parent().remove(f);
          how.append(" delete").append(where);
        }
        case 1 -> {
          slot.parent().add(slot.parent().indexOf(f), f.copy());
          how.append(" repeat").append(where);
        }
        case 2 -> {
          Slot other = any(slots);
          if (other.field().children != null) {
            other.field().children.add(r.nextInt(other.field().children.size() + 1), f.copy());
            how.append(" graft").append(where).append(" into ").append(other.field().type);
          }
        }
        case 3 -> {
          List<Field> parent = slot.parent();
          int a = parent.indexOf(f);
          int b = r.nextInt(parent.size());
          parent.set(a, parent.get(b));
          parent.set(b, f);
          how.append(" swap").append(where);
        }
        case 4 -> {
          int wt = new int[] {0, 1, 2, 5, 3, 4, 6, 7}[r.nextInt(8)];
          how.append(" wire type").append(where).append(" ").append(f.wireType).append("->").append(wt);
          f.wireType = wt;
          f.children = null;
          f.type = null;
          f.bytes = wt == 1 ? new byte[8] : wt == 5 ? new byte[4] : new byte[0];
        }
        case 5 -> {
          if (f.children != null && !f.children.isEmpty()) {
            int number = any(f.children).number;
            f.children.removeIf(x -> x.number == number);
            how.append(" every f").append(number).append(" of ").append(f.type).append(" removed");
          }
        }
        default -> {
          int number = new int[] {1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 20, 21, 25}[r.nextInt(17)];
          Field x = switch (r.nextInt(3)) {
            case 0 -> Field.varint(number, VARINTS[r.nextInt(VARINTS.length)]);
            case 1 -> Field.text(number, any(List.of(OPS)));
            default -> Field.fixed32(number, FLOATS[r.nextInt(FLOATS.length)]);
          };
          List<Field> into = f.children != null ? f.children : slot.parent();
          into.add(r.nextInt(into.size() + 1), x);
          how.append(" add f").append(number).append(" wt").append(x.wireType).append(" into").append(where);
        }
      }
    }

    /** The bytes of a string or bytes field (raw tensor data above all): cut, extended, a special float. */
    void payload() {
      List<Field> payloads = new ArrayList<>();
      for (Slot s : slots(model)) {
        if (s.field().isString() && s.field().bytes.length > 0) {
          payloads.add(s.field());
        }
      }
      if (payloads.isEmpty()) {
        return;
      }
      Field f = any(payloads);
      byte[] b = f.bytes;
      switch (r.nextInt(3)) {
        case 0 -> {
          f.bytes = Arrays.copyOf(b, r.nextInt(b.length));
          how.append(" payload f").append(f.number).append(" cut");
        }
        case 1 -> {
          f.bytes = Arrays.copyOf(b, b.length + 1 + r.nextInt(8));
          how.append(" payload f").append(f.number).append(" extended");
        }
        default -> {
          byte[] c = b.clone();
          int at = 4 * r.nextInt(Math.max(1, c.length / 4));
          int bits = Float.floatToRawIntBits(FLOATS[r.nextInt(FLOATS.length)]);
          for (int k = 0; k < 4 && at + k < c.length; k++) {
            c[at + k] = (byte) (bits >>> (8 * k));
          }
          f.bytes = c;
          how.append(" payload f").append(f.number).append(" float at ").append(at);
        }
      }
    }

    /** One byte-level mutation of the serialized model. */
    static byte[] bytes(byte[] in, SplittableRandom r, StringBuilder how) {
      int n = in.length;
      if (n == 0) {
        return in;
      }
      byte[] b = in.clone();
      switch (r.nextInt(7)) {
        case 0 -> {
          int flips = 1 + r.nextInt(r.nextInt(4) == 0 ? 16 : 3);
          for (int k = 0; k < flips; k++) {
            b[r.nextInt(n)] ^= (byte) (1 << r.nextInt(8));
          }
          how.append(" bytes: ").append(flips).append(" bit flips");
          return b;
        }
        case 1 -> {
          int at = r.nextInt(n);
          byte v = (byte) new int[] {0, 0xff, 0x7f, 0x80, 0x01, 0xfe}[r.nextInt(6)];
          for (int k = 0, m = 1 + r.nextInt(4); k < m && at + k < n; k++) {
            b[at + k] = v;
          }
          how.append(" bytes: set at ").append(at);
          return b;
        }
        case 2 -> {
          int at = r.nextInt(n);
          how.append(" bytes: truncated at ").append(at);
          return Arrays.copyOf(b, at);
        }
        case 3 -> {
          int at = r.nextInt(n);
          int length = 1 + r.nextInt(Math.min(64, n - at));
          how.append(" bytes: ").append(length).append(" deleted at ").append(at);
          return splice(b, at, new byte[0], at + length);
        }
        case 4 -> {
          int from = r.nextInt(n);
          byte[] span = Arrays.copyOfRange(b, from, from + 1 + r.nextInt(Math.min(256, n - from)));
          int at = r.nextInt(n + 1);
          how.append(" bytes: ").append(span.length).append(" repeated at ").append(at);
          return splice(b, at, span, at);
        }
        case 5 -> {
          ByteArrayOutputStream v = new ByteArrayOutputStream();
          Proto.writeVarint(v, VARINTS[r.nextInt(VARINTS.length)]);
          int at = r.nextInt(n + 1);
          how.append(" bytes: a varint inserted at ").append(at);
          return splice(b, at, v.toByteArray(), at);
        }
        default -> {
          byte[] random = new byte[1 + r.nextInt(16)];
          for (int k = 0; k < random.length; k++) {
            random[k] = (byte) r.nextInt(256);
          }
          int at = r.nextInt(n + 1);
          how.append(" bytes: ").append(random.length).append(" random inserted at ").append(at);
          return splice(b, at, random, at);
        }
      }
    }

    /** {@code b[0, head)}, then {@code middle}, then {@code b[tail, end)}. */
    private static byte[] splice(byte[] b, int head, byte[] middle, int tail) {
      byte[] out = new byte[head + middle.length + b.length - tail];
      System.arraycopy(b, 0, out, 0, head);
      System.arraycopy(middle, 0, out, head, middle.length);
      System.arraycopy(b, tail, out, head + middle.length, b.length - tail);
      return out;
    }
  }

  // ---- generated models ----

  /**
   * Small sequential models of the operators the importer covers, with their output sizes tracked so that
   * most import. Half are clean; the other half take boundary values for dimensions and attributes now and then,
   * and sometimes leave a node without an output, a weight of the wrong size or an attribute of the wrong length.
   */
  static final class Gen {
    static final long[] INTS = {0, 1, 2, 3, -1, 65536, 65537, 1L << 31, (1L << 32) + 1, 7};
    /** The cases of {@link #step} for a feature map and for a flat vector. */
    private static final int[] MAP_OPS = {0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 11, 12, 13, 14};
    private static final int[] FLAT_OPS = {3, 8, 9, 9, 10, 10, 11, 12, 14};

    private final SplittableRandom r;
    private final StringBuilder how;
    private final boolean clean;
    private final long opset;
    private final Proto graph = Proto.message();
    private final List<Proto> initializers = new ArrayList<>();
    private int counter;
    private String current = "x";
    private long[] shape; // one sample's shape as generated: {C, H, W} or {F}

    Gen(SplittableRandom r, StringBuilder how) {
      this.r = r;
      this.how = how;
      this.clean = r.nextBoolean();
      this.opset = new long[] {7, 9, 10, 11, 12, 13, 17}[r.nextInt(7)];
    }

    /** Rarely true, and never in a clean model. */
    private boolean bad(int oneIn) {
      return !clean && r.nextInt(oneIn) == 0;
    }

    private long pick(long[] values, long usual) {
      return bad(4) ? values[r.nextInt(values.length)] : usual;
    }

    private String name(String base) {
      return base + counter++;
    }

    private String weight(long... dims) {
      return weight(false, dims);
    }

    /** A float initializer, of random values (positive ones if asked); without data if it would be large. */
    private String weight(boolean positive, long... dims) {
      String n = name("w");
      long count = 1;
      for (long d : dims) {
        count *= Math.max(d, 0);
      }
      Proto t = Proto.tensorHeader(n, dims, 1);
      if (count >= 0 && count <= 4096) {
        float[] values = new float[(int) count];
        for (int i = 0; i < values.length; i++) {
          values[i] = bad(10) ? OnnxFuzzTest.FLOATS[r.nextInt(OnnxFuzzTest.FLOATS.length)]
              : positive ? 0.5f + (float) r.nextDouble() : (float) r.nextGaussian();
        }
        t.bytesField(9, Proto.floatBytes(values));
      }
      initializers.add(t);
      return n;
    }

    /** A float scalar initializer. */
    private String scalar(float v) {
      String n = name("s");
      initializers.add(Proto.tensor(n, new long[0], v));
      return n;
    }

    private String int64s(long... values) {
      String n = name("i");
      Proto t = Proto.message().intField(1, values.length).intField(2, 7).string(8, n);
      for (long v : values) {
        t.intField(7, v);
      }
      initializers.add(t);
      return n;
    }

    private float anyFloat() {
      return OnnxFuzzTest.FLOATS[r.nextInt(OnnxFuzzTest.FLOATS.length)];
    }

    private void node(String op, List<String> inputs, List<Proto> attributes) {
      String out = name("t");
      Proto n = Proto.message();
      for (String i : inputs) {
        n.string(1, i);
      }
      if (!bad(30)) {
        n.string(2, out);
      } else {
        how.append(" (no output)");
      }
      n.string(3, name("n")).string(4, op);
      for (Proto a : attributes) {
        n.message(5, a);
      }
      graph.message(1, n);
      current = out;
      how.append(' ').append(op);
    }

    /** A two-value attribute (now and then): {@code usual} or {@code other}, or boundary values. */
    private long[] pair(List<Proto> attributes, String name, long usual, long other) {
      if (r.nextInt(3) != 0) {
        return new long[] {usual, usual};
      }
      long a = pick(INTS, r.nextBoolean() ? usual : other);
      long b = bad(3) ? pick(INTS, usual) : a;
      attributes.add(bad(15) ? Proto.intsAttribute(name, a, b, 1) : Proto.intsAttribute(name, a, b));
      return new long[] {a, b};
    }

    /** Pads (top, left, bottom, right into {@code pads}) or an auto_pad, now and then; returns the auto_pad. */
    private String padding(List<Proto> attributes, long[] pads) {
      if (r.nextInt(3) == 0) {
        long h = r.nextInt(2);
        long w = r.nextInt(2);
        long[] p = {pick(INTS, h), pick(INTS, w), pick(INTS, h), pick(INTS, w)};
        attributes.add(Proto.intsAttribute("pads", p));
        System.arraycopy(p, 0, pads, 0, 4);
      }
      String auto = "NOTSET";
      if (r.nextInt(5) == 0) {
        auto = bad(3) ? "x" : new String[] {"NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"}[r.nextInt(4)];
        attributes.add(Proto.stringAttribute("auto_pad", auto));
      }
      return auto;
    }

    private static long outSize(long in, long before, long after, long k, long stride, long dilation, String auto) {
      if (stride <= 0) {
        return 0;
      }
      if (auto.startsWith("SAME")) {
        return (in + stride - 1) / stride;
      }
      long pads = auto.equals("VALID") ? 0 : before + after;
      return Math.floorDiv(in + pads - dilation * (k - 1) - 1, stride) + 1;
    }

    private void step() {
      boolean map = shape.length == 3;
      // A clean model takes the operators that fit what arrives (a Gemm a flat vector, a Conv a feature map).
      int op = !clean ? r.nextInt(15) : map ? MAP_OPS[r.nextInt(MAP_OPS.length)] : FLAT_OPS[r.nextInt(FLAT_OPS.length)];
      List<Proto> attributes = new ArrayList<>();
      switch (op) {
        case 0, 1 -> { // Conv
          long c = map ? shape[0] : 3;
          long g = bad(4) ? INTS[r.nextInt(INTS.length)] : c % 2 == 0 && r.nextInt(4) == 0 ? 2 : 1;
          long out = pick(new long[] {0, 1, 4, 65536}, Math.max(g, 1) * (1 + r.nextInt(3)));
          long k = pick(new long[] {0, 1, 5, 65536}, r.nextBoolean() ? 3 : 1);
          long inPerGroup = g > 0 && c % g == 0 ? c / g : c;
          List<String> in = new ArrayList<>(List.of(current, weight(out, inPerGroup, k, bad(5) ? pick(INTS, k) : k)));
          if (r.nextBoolean()) {
            in.add(weight(bad(5) ? out + 1 : out));
          }
          if (g != 1) {
            attributes.add(Proto.intAttribute("group", g));
          }
          long[] s = pair(attributes, "strides", 1, 2);
          long[] d = pair(attributes, "dilations", 1, 2);
          pair(attributes, "kernel_shape", k, k);
          long[] p = new long[4];
          String auto = padding(attributes, p);
          node("Conv", in, attributes);
          if (map) {
            shape = new long[] {out, outSize(shape[1], p[0], p[2], k, s[0], d[0], auto),
                outSize(shape[2], p[1], p[3], k, s[1], d[1], auto)};
          }
        }
        case 2 -> { // BatchNormalization
          long c = map ? shape[0] : 4;
          long n = bad(6) ? c + 1 : c;
          if (r.nextInt(4) == 0) {
            attributes.add(Proto.floatAttribute("epsilon", bad(2) ? anyFloat() : 1e-3f));
          }
          if (bad(8)) {
            attributes.add(Proto.intAttribute("training_mode", pick(INTS, 1)));
          }
          node("BatchNormalization", List.of(current, weight(n), weight(n), weight(n), weight(true, n)), attributes);
        }
        case 3 -> node("Relu", List.of(current), attributes);
        case 4 -> { // Clip
          boolean six = r.nextBoolean();
          if (opset < 11) {
            attributes.add(Proto.floatAttribute("min", bad(3) ? anyFloat() : 0f));
            if (six) {
              attributes.add(Proto.floatAttribute("max", bad(3) ? anyFloat() : 6f));
            }
            node("Clip", List.of(current), attributes);
          } else {
            List<String> in = new ArrayList<>(List.of(current));
            in.add(bad(4) ? "" : bad(6) ? weight(0) : scalar(bad(3) ? anyFloat() : 0f));
            if (six) {
              in.add(bad(6) ? int64s(6) : scalar(bad(3) ? anyFloat() : 6f));
            }
            node("Clip", in, attributes);
          }
        }
        case 5, 6 -> { // pools
          boolean max = op == 5;
          long k = pick(new long[] {0, 1, 3, 65536, 65537, -1}, 2 + r.nextInt(2));
          if (!bad(8)) {
            attributes.add(bad(10) ? Proto.intsAttribute("kernel_shape", k)
                : Proto.intsAttribute("kernel_shape", k, pick(INTS, k)));
          }
          long[] s = pair(attributes, "strides", 1, 2);
          pair(attributes, "dilations", 1, 1);
          long[] p = new long[4];
          String auto = padding(attributes, p);
          if (!max && (p[0] | p[1] | p[2] | p[3]) != 0 && !bad(3)) {
            attributes.add(Proto.intAttribute("count_include_pad", 1));
          }
          for (String a : new String[] {"ceil_mode", "count_include_pad", "storage_order"}) {
            if (bad(6)) {
              attributes.add(Proto.intAttribute(a, pick(INTS, 1)));
            }
          }
          node(max ? "MaxPool" : "AveragePool", List.of(current), attributes);
          if (map) {
            shape = new long[] {shape[0], outSize(shape[1], p[0], p[2], k, s[0], 1, auto),
                outSize(shape[2], p[1], p[3], k, s[1], 1, auto)};
          }
        }
        case 7 -> {
          node("GlobalAveragePool", List.of(current), attributes);
          if (map) {
            shape = new long[] {shape[0], 1, 1};
          }
        }
        case 8 -> { // Flatten or Reshape
          long features = 1;
          for (long s : shape) {
            features *= s;
          }
          if (r.nextBoolean()) {
            if (r.nextInt(4) == 0) {
              attributes.add(Proto.intAttribute("axis", pick(INTS, 1)));
            }
            node("Flatten", List.of(current), attributes);
          } else {
            long[][] targets = {{1, -1}, {-1, features}, {0, features}, {0, -1}, {1, features + 1}, {-1}, {1, 1, -1},
                {features, 1}};
            if (bad(8)) {
              attributes.add(Proto.intAttribute("allowzero", 1));
            }
            String target = bad(8) ? weight(2) : int64s(targets[bad(2) ? r.nextInt(targets.length) : r.nextInt(4)]);
            node("Reshape", List.of(current, target), attributes);
          }
          shape = new long[] {features};
        }
        case 9 -> { // Gemm
          long in = shape.length == 1 ? shape[0] : 4;
          long out = pick(new long[] {0, 1, 65536}, 1 + r.nextInt(4));
          boolean transB = r.nextBoolean();
          if (transB) {
            attributes.add(Proto.intAttribute("transB", bad(5) ? pick(INTS, 1) : 1));
          }
          if (bad(6)) {
            attributes.add(Proto.intAttribute("transA", pick(INTS, 1)));
          }
          if (r.nextInt(4) == 0) {
            attributes.add(Proto.floatAttribute("alpha", bad(2) ? anyFloat() : 0.5f));
          }
          if (r.nextInt(4) == 0) {
            attributes.add(Proto.floatAttribute("beta", bad(2) ? anyFloat() : 2f));
          }
          List<String> ins = new ArrayList<>(List.of(current, transB ? weight(out, in) : weight(in, out)));
          if (r.nextBoolean()) {
            ins.add(bad(5) ? weight(out + 1) : r.nextInt(5) == 0 ? weight() : weight(out));
          }
          node("Gemm", ins, attributes);
          shape = new long[] {out};
        }
        case 10 -> { // MatMul, and the Add of its bias
          long in = shape.length == 1 ? shape[0] : 4;
          long out = pick(new long[] {0, 1, 65536}, 1 + r.nextInt(4));
          node("MatMul", List.of(current, weight(in, out)), attributes);
          if (r.nextBoolean()) {
            String b = weight(bad(5) ? out + 1 : out);
            node("Add", r.nextBoolean() ? List.of(current, b) : List.of(b, current), new ArrayList<>());
          }
          shape = new long[] {out};
        }
        case 11 -> { // Dropout
          if (opset < 12) {
            if (r.nextBoolean()) {
              attributes.add(Proto.floatAttribute("ratio", bad(2) ? anyFloat() : 0.25f));
            }
            node("Dropout", List.of(current), attributes);
          } else {
            List<String> in = new ArrayList<>(List.of(current));
            if (r.nextBoolean()) {
              in.add(bad(4) ? weight(0) : bad(4) ? int64s(1) : scalar(bad(3) ? anyFloat() : 0.1f));
              if (r.nextBoolean()) {
                in.add(int64s(bad(2) ? 1 : 0));
              }
            }
            node("Dropout", in, attributes);
          }
        }
        case 12 -> node("Identity", List.of(current), attributes);
        case 13 -> { // Pad (zeros, merged into the Conv or AveragePool after it)
          if (r.nextInt(5) == 0) {
            attributes.add(Proto.stringAttribute("mode", bad(2) ? "reflect" : "constant"));
          }
          long[] pads = {0, 0, pick(INTS, 1), pick(INTS, 1), 0, 0, pick(INTS, 1), pick(INTS, 1)};
          if (bad(6)) {
            pads[r.nextInt(8)] = INTS[r.nextInt(INTS.length)];
          }
          if (opset < 11) {
            attributes.add(bad(8) ? Proto.intsAttribute("pads", 1, 1) : Proto.intsAttribute("pads", pads));
            if (r.nextInt(4) == 0) {
              attributes.add(Proto.floatAttribute("value", bad(2) ? anyFloat() : 0f));
            }
            node("Pad", List.of(current), attributes);
          } else {
            List<String> in = new ArrayList<>(List.of(current, bad(8) ? weight(8) : int64s(pads)));
            if (r.nextInt(3) == 0) {
              in.add(bad(3) ? weight(2) : scalar(bad(3) ? anyFloat() : 0f));
            }
            if (bad(8)) {
              in.add(int64s(2, 3));
            }
            node("Pad", in, attributes);
          }
          if (shape.length == 3) {
            shape = new long[] {shape[0], shape[1] + pads[2] + pads[6], shape[2] + pads[3] + pads[7]};
          }
        }
        default -> { // a Constant that feeds nothing
          String[] kinds = {"value", "value_float", "value_floats", "value_int", "value_ints", "none"};
          String k = kinds[r.nextInt(clean ? kinds.length - 1 : kinds.length)];
          Proto a = switch (k) {
            case "value_float" -> Proto.floatAttribute(k, 1f);
            case "value_floats" -> Proto.message().string(1, k).intField(20, 6);
            case "value_int" -> Proto.intAttribute(k, 3);
            case "value_ints" -> Proto.intsAttribute(k, 1, -1);
            case "value" -> bad(2) ? Proto.message().string(1, k).intField(20, 4)
                : Proto.message().string(1, k).intField(20, 4).message(5, Proto.tensor("", new long[] {1}, 1f));
            default -> Proto.intAttribute("other", 1);
          };
          graph.message(1, Proto.message().string(2, name("c")).string(3, name("n")).string(4, "Constant")
              .message(5, a));
          how.append(" Constant(").append(k).append(')');
        }
      }
    }

    byte[] generate() {
      boolean map = r.nextInt(4) != 0;
      long[] dims = map ? new long[] {1, pick(new long[] {0, 65536, 1L << 31, -1}, 1 + r.nextInt(4)),
          pick(new long[] {0, 1, 65536, 2147483647L, 1L << 31, -1}, 4 + r.nextInt(6)),
          pick(new long[] {0, 1, 65536, 2147483647L, -1}, 4 + r.nextInt(6))}
          : new long[] {1, pick(new long[] {0, 65536, 2147483647L}, 1 + r.nextInt(8))};
      shape = Arrays.copyOfRange(dims, 1, dims.length);
      how.append(clean ? "generated" : "generated with boundary values").append(", opset ").append(opset)
          .append(", input ").append(Arrays.toString(dims)).append(':');
      for (int n = 1 + r.nextInt(5); n > 0; n--) {
        step();
      }
      graph.message(11, Proto.value("x", dims)).message(12, Proto.value(current, 1));
      for (Proto t : initializers) {
        graph.message(5, t);
      }
      return Proto.message().intField(1, 8).string(2, "gen").message(7, graph)
          .message(8, Proto.message().string(1, "").intField(2, opset)).bytes();
    }
  }
}
