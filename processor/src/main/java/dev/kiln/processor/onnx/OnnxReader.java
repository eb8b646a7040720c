package dev.kiln.processor.onnx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an {@code .onnx} file: a reader of its own on the protobuf wire format, no native code and no
 * generated protobuf classes. The file is read whole (at most {@link #MAX_FILE_BYTES}); every declared length
 * and every tensor's element count is checked against the bytes actually there before anything is allocated, and
 * a tensor's values are counted before they are decoded. Subgraphs (attributes of {@code If}, {@code Loop},
 * {@code Scan}) are not parsed, so nesting depth is fixed. External tensor data is read from files beside the
 * model, by relative paths that must stay inside the model's directory (symbolic links resolved).
 *
 * <p>Memory: what reading holds is at most about 20 times the file's size, and but for tensor values at most
 * about 80 MB whatever the size. Tensor values take at most 8 bytes per byte of the file (an INT64 or BOOL value
 * of one byte becomes a {@code long}; floats take what they take in the file), and are counted against the
 * tensor's declared size before any is decoded. Everything else (nodes, names, attributes, dimensions) is bounded
 * by {@link #MAX_ITEMS} and {@link #MAX_NODES}; measured on files made of nothing but the smallest such items,
 * attributes cost the most, 20 times their bytes (72 MB for 3.6 MB of 450,000 attributes, about the most a file
 * may declare), then tensors without data (17), graph inputs (13), distinct names (9) and nodes (6). Short-lived
 * garbage comes on top: such files make the reader allocate up to about 50 times their size in all. External
 * data costs what it holds, each tensor at most {@link #MAX_ELEMENTS} elements, read a megabyte at a time.
 *
 * <p>Every problem is an {@link IOException} with a one-line message naming the file and what is wrong.
 */
public final class OnnxReader {
  /** The largest model file read (external data files may be larger; tensors are read from them by range). */
  public static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 16;
  /** The largest tensor read, in elements. */
  static final long MAX_ELEMENTS = 1L << 28;
  /**
   * The most items one file may declare together: nodes, attributes, names, tensors, graph inputs/outputs,
   * dimensions, values of attribute lists, operator sets, functions and external-data entries. Each becomes a
   * small object or value, so this bounds what a file of many tiny messages can make the reader allocate.
   */
  static final int MAX_ITEMS = 1_000_000;
  /**
   * The most nodes one file may hold, its graph's and its functions' together: real networks have at most tens of
   * thousands, and Kiln imports sequential ones of a few hundred.
   */
  static final int MAX_NODES = 100_000;
  /** The most dimensions of a tensor or of a graph input's or output's shape (ONNX's operators use at most 8). */
  static final int MAX_RANK = 16;
  /** The most distinct op types, domains, attribute names and node input/output names kept as one object each. */
  private static final int MAX_CANONICAL = 4096;
  /** External data is read and decoded this many bytes at a time. */
  private static final int CHUNK = 1 << 20;

  private final Path file;
  private final Path directory;
  private int items;
  private int nodes;
  private final Map<String, String> canonical = new HashMap<>();

  private OnnxReader(Path file) {
    this.file = file;
    Path parent = file.toAbsolutePath().getParent();
    this.directory = parent == null ? Path.of(".").toAbsolutePath() : parent;
  }

  /** Reads the model in {@code file}. */
  public static Onnx.Model read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "no such file");
    }
    long size = Files.size(file);
    if (size > MAX_FILE_BYTES) {
      throw new IOException(file + ": " + size + " bytes, more than the " + MAX_FILE_BYTES
          + " an ONNX file can hold (large weights belong in external data files)");
    }
    byte[] bytes = Files.readAllBytes(file);
    try {
      return new OnnxReader(file).model(Wire.of(bytes, "ModelProto"));
    } catch (IOException e) {
      throw new IOException(UnsupportedGraphException.oneLine(file + ": " + e.getMessage()), e);
    }
  }

  /** Parses model bytes; external data is looked up relative to {@code file}'s directory. */
  static Onnx.Model parse(byte[] bytes, Path file) throws IOException {
    return new OnnxReader(file).model(Wire.of(bytes, "ModelProto"));
  }

  private Onnx.Model model(Wire w) throws IOException {
    long ir = 0;
    String producerName = "";
    String producerVersion = "";
    Map<String, Long> opsets = new LinkedHashMap<>();
    Onnx.Graph graph = null;
    List<Onnx.Function> functions = new ArrayList<>();
    while (w.hasNext()) {
      switch (w.next()) {
        case 1 -> ir = w.longValue("ir_version");
        case 2 -> producerName = w.string("producer_name");
        case 3 -> producerVersion = w.string("producer_version");
        case 7 -> {
          if (graph != null) {
            throw w.error("a second graph");
          }
          graph = graph(w.message("graph"));
        }
        case 8 -> {
          count(w);
          Map.Entry<String, Long> opset = entry(w.message("opset_import"), "domain", 0L, o -> o.longValue("version"));
          opsets.put(opset.getKey(), opset.getValue());
        }
        case 25 -> functions.add(function(w.message("functions")));
        default -> w.skip();
      }
    }
    if (graph == null) {
      throw new IOException("not an ONNX model: no graph (ModelProto field 7)");
    }
    String producer = (producerName + " " + producerVersion).trim();
    return new Onnx.Model(ir, producer, Collections.unmodifiableMap(opsets), graph, List.copyOf(functions));
  }

  private Onnx.Graph graph(Wire w) throws IOException {
    String name = "";
    List<Onnx.Node> nodes = new ArrayList<>();
    Map<String, Onnx.Tensor> initializers = new LinkedHashMap<>();
    List<Onnx.ValueInfo> inputs = new ArrayList<>();
    List<Onnx.ValueInfo> outputs = new ArrayList<>();
    int sparse = 0;
    while (w.hasNext()) {
      switch (w.next()) {
        case 1 -> nodes.add(node(w.message("node"), nodes.size()));
        case 2 -> name = w.string("graph name");
        case 5 -> {
          Onnx.Tensor t = tensor(w.message("initializer"));
          if (initializers.put(t.name(), t) != null) {
            throw w.error("two initializers named " + quote(t.name()));
          }
        }
        case 11 -> inputs.add(valueInfo(w.message("graph input")));
        case 12 -> outputs.add(valueInfo(w.message("graph output")));
        case 15 -> {
          sparse++;
          w.skip();
        }
        default -> w.skip();
      }
    }
    return new Onnx.Graph(name, List.copyOf(nodes), Collections.unmodifiableMap(initializers), List.copyOf(inputs),
        List.copyOf(outputs), sparse);
  }

  /** Counts one more declared item against {@link #MAX_ITEMS}. */
  private void count(Wire w) throws IOException {
    count(w, 1);
  }

  /** Counts {@code n} more declared items against {@link #MAX_ITEMS}. */
  private void count(Wire w, int n) throws IOException {
    items += n;
    if (items > MAX_ITEMS || items < 0) {
      throw w.error("more than " + MAX_ITEMS + " nodes, attributes, names, dimensions, values and tensors");
    }
  }

  /**
   * {@code s}, or an equal string read before: op types, attribute names and tensor names repeat throughout a
   * file (the first {@link #MAX_CANONICAL} distinct ones are kept).
   */
  private String canonical(String s) {
    String c = canonical.get(s);
    if (c != null) {
      return c;
    }
    if (canonical.size() < MAX_CANONICAL) {
      canonical.put(s, s);
    }
    return s;
  }

  /** The string of the current field, a name counted as one more item. */
  private String countedName(Wire w, String field) throws IOException {
    count(w);
    return canonical(w.string(field));
  }

  private Onnx.Node node(Wire w, int index) throws IOException {
    count(w);
    if (++nodes > MAX_NODES) {
      throw w.error("more than " + MAX_NODES + " nodes");
    }
    List<String> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    String name = "";
    String opType = "";
    String domain = "";
    Map<String, Onnx.Attribute> attributes = new LinkedHashMap<>();
    while (w.hasNext()) {
      switch (w.next()) {
        case 1 -> inputs.add(countedName(w, "node input"));
        case 2 -> outputs.add(countedName(w, "node output"));
        case 3 -> {
          count(w);
          name = w.string("node name");
        }
        case 4 -> opType = canonical(w.string("op_type"));
        case 5 -> {
          Onnx.Attribute a = attribute(w.message("attribute"));
          attributes.put(a.name(), a);
        }
        case 7 -> domain = canonical(w.string("domain"));
        default -> w.skip();
      }
    }
    if (opType.isEmpty()) {
      throw w.error("node " + index + " " + quote(name) + " has no op_type");
    }
    return new Onnx.Node(index, name, opType, domain, List.copyOf(inputs), List.copyOf(outputs),
        attributes.isEmpty() ? Map.of() : Collections.unmodifiableMap(attributes));
  }

  private Onnx.Attribute attribute(Wire w) throws IOException {
    count(w);
    String name = "";
    int type = 0;
    float f = 0;
    long i = 0;
    String s = "";
    Onnx.Tensor t = null;
    Wire.FloatList floats = new Wire.FloatList();
    Wire.LongList ints = new Wire.LongList();
    String ref = "";
    boolean graph = false;
    while (w.hasNext()) {
      switch (w.next()) {
        case 1 -> name = countedName(w, "attribute name");
        case 2 -> f = w.floatValue("attribute f");
        case 3 -> i = w.longValue("attribute i");
        case 4 -> s = w.string("attribute s");
        case 5 -> t = tensor(w.message("attribute t"));
        case 6, 11 -> {
          graph = true; // subgraphs are not parsed
          w.skip();
        }
        case 7 -> count(w, w.floats("attribute floats", floats, MAX_ITEMS));
        case 8 -> count(w, w.longs("attribute ints", ints, MAX_ITEMS));
        case 20 -> type = w.intValue("attribute type", 0, 64);
        case 21 -> ref = w.string("ref_attr_name");
        default -> w.skip();
      }
    }
    if (type == 0) { // IR < 3 files may leave the type out: infer it from the value present
      type = graph ? Onnx.Attribute.GRAPH : t != null ? Onnx.Attribute.TENSOR : floats.size() > 0
          ? Onnx.Attribute.FLOATS : ints.size() > 0 ? Onnx.Attribute.INTS : !s.isEmpty() ? Onnx.Attribute.STRING
          : f != 0 ? Onnx.Attribute.FLOAT : Onnx.Attribute.INT;
    }
    return new Onnx.Attribute(name, type, f, i, s, t, floats.toArray(), ints.toArray(), ref);
  }

  private Onnx.ValueInfo valueInfo(Wire w) throws IOException {
    count(w);
    String name = "";
    int elemType = 0;
    Wire.LongList dims = new Wire.LongList();
    while (w.hasNext()) {
      switch (w.next()) {
        case 1 -> {
          count(w);
          name = w.string("value name");
        }
        case 2 -> {
          Wire type = w.message("type");
          while (type.nextOf(1)) {
            Wire tensor = type.message("tensor_type");
            while (tensor.hasNext()) {
              switch (tensor.next()) {
                case 1 -> elemType = tensor.intValue("elem_type", 0, 64);
                case 2 -> {
                  Wire shape = tensor.message("shape");
                  while (shape.nextOf(1)) {
                    count(shape);
                    if (dims.size() == MAX_RANK) {
                      throw shape.error("value " + quote(name) + " has more than " + MAX_RANK + " dimensions");
                    }
                    Wire dim = shape.message("dim");
                    long value = -1;
                    while (dim.nextOf(1)) {
                      value = dim.longValue("dim_value");
                    }
                    dims.add(value);
                  }
                }
                default -> tensor.skip();
              }
            }
          }
        }
        default -> w.skip();
      }
    }
    return new Onnx.ValueInfo(name, elemType, dims.toArray());
  }

  private Onnx.Function function(Wire w) throws IOException {
    count(w);
    String name = "";
    String domain = "";
    List<String> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    List<String> attributes = new ArrayList<>();
    List<Onnx.Node> nodes = new ArrayList<>();
    while (w.hasNext()) {
      switch (w.next()) {
        case 1 -> name = w.string("function name");
        case 4 -> inputs.add(countedName(w, "function input"));
        case 5 -> outputs.add(countedName(w, "function output"));
        case 6 -> attributes.add(countedName(w, "function attribute"));
        case 7 -> nodes.add(node(w.message("function node"), nodes.size()));
        case 10 -> domain = w.string("function domain");
        case 11 -> attributes.add(attribute(w.message("function attribute_proto")).name());
        default -> w.skip();
      }
    }
    return new Onnx.Function(domain, name, List.copyOf(inputs), List.copyOf(outputs), List.copyOf(attributes),
        List.copyOf(nodes));
  }

  private Onnx.Tensor tensor(Wire w) throws IOException {
    count(w);
    Wire values = w.copy(); // typed values are decoded in a second pass, once their count is known to be right
    String name = "";
    int type = 0;
    Wire.LongList dims = new Wire.LongList();
    long floatValues = 0;
    long intValues = 0;
    ByteBuffer raw = null;
    boolean external = false;
    Map<String, String> externalData = new LinkedHashMap<>();
    while (w.hasNext()) {
      switch (w.next()) {
        case 1 -> count(w, w.longs("dims", dims, MAX_RANK));
        case 2 -> type = w.intValue("data_type", 0, 64);
        case 4 -> floatValues += w.countValues("float_data", Wire.FIXED32);
        case 5 -> intValues += w.countValues("int32_data", Wire.VARINT);
        case 7 -> intValues += w.countValues("int64_data", Wire.VARINT);
        case 8 -> {
          count(w);
          name = w.string("tensor name");
        }
        case 9 -> raw = w.slice("raw_data");
        case 10 -> floatValues += w.countValues("double_data", Wire.FIXED64);
        case 13 -> {
          count(w);
          Map.Entry<String, String> entry = entry(w.message("external_data"), "key", "", e -> e.string("value"));
          externalData.put(entry.getKey(), entry.getValue());
        }
        case 14 -> external = w.intValue("data_location", 0, 1) == 1;
        default -> w.skip();
      }
    }
    long[] shape = dims.toArray();
    long count = 1;
    for (long d : shape) {
      if (d < 0 || d > MAX_ELEMENTS) {
        throw w.error("tensor " + quote(name) + " has dimension " + d);
      }
      count *= d;
      if (count > MAX_ELEMENTS) {
        throw w.error("tensor " + quote(name) + " has more than " + MAX_ELEMENTS + " elements");
      }
    }
    int n = (int) count;
    int width = switch (type) {
      case Onnx.FLOAT, Onnx.INT32 -> 4;
      case Onnx.INT64, Onnx.DOUBLE -> 8;
      case Onnx.BOOL -> 1;
      default -> 0;
    };
    if (width == 0) {
      return new Onnx.Tensor(name, type, shape, null, null); // a type Kiln does not read: an error if used
    }
    boolean floating = isFloating(type);
    if (external) {
      return externalTensor(name, type, shape, n, width, externalData, w);
    }
    if (raw != null) {
      if (raw.remaining() != (long) n * width) {
        throw w.error("tensor " + quote(name) + " " + Arrays.toString(shape) + " needs " + (long) n * width
            + " bytes of data but has " + raw.remaining());
      }
      Onnx.Tensor t = allocated(name, type, shape, n);
      decode(type, raw, t.floats(), t.longs(), 0);
      return t;
    }
    long present = floating ? floatValues : intValues;
    if (present != n) {
      throw w.error("tensor " + quote(name) + " " + Arrays.toString(shape) + " has " + n + " elements but " + present
          + " values");
    }
    Onnx.Tensor t = allocated(name, type, shape, n);
    int at = 0;
    while (values.hasNext()) {
      int field = values.next();
      if (floating && (field == 4 || field == 10)) {
        at = values.decode(field == 4 ? "float_data" : "double_data", field == 4 ? Wire.FIXED32 : Wire.FIXED64,
            t.floats(), null, at);
      } else if (!floating && (field == 5 || field == 7)) {
        at = values.decode(field == 5 ? "int32_data" : "int64_data", Wire.VARINT, null, t.longs(), at);
      } else {
        values.skip();
      }
    }
    if (at != n) {
      throw w.error("tensor " + quote(name) + ": " + n + " values counted but " + at + " decoded");
    }
    return t;
  }

  private static boolean isFloating(int type) {
    return type == Onnx.FLOAT || type == Onnx.DOUBLE;
  }

  /**
   * A tensor of {@code n} values, all zero, in the array its type decodes into (floats for FLOAT and DOUBLE, longs
   * for the others): allocated only once the values are known to be there.
   */
  private static Onnx.Tensor allocated(String name, int type, long[] shape, int n) {
    boolean floating = isFloating(type);
    return new Onnx.Tensor(name, type, shape, floating ? new float[n] : null, floating ? null : new long[n]);
  }

  /** A name read from the file, quoted and cut short for a message. */
  private static String quote(String name) {
    return UnsupportedGraphException.quote(name);
  }

  /** Reads one value of the current field of a message. */
  private interface FieldValue<V> {
    V read(Wire w) throws IOException;
  }

  /**
   * A message of a string key (field 1, {@code keyName}) and a value (field 2, read by {@code value}), as an
   * {@code OperatorSetIdProto} or a {@code StringStringEntryProto} is; a field that is not there keeps its
   * default ({@code ""}, {@code defaultValue}), a field that is there twice its last value.
   */
  private static <V> Map.Entry<String, V> entry(Wire w, String keyName, V defaultValue, FieldValue<V> value)
      throws IOException {
    String key = "";
    V v = defaultValue;
    while (w.hasNext()) {
      switch (w.next()) {
        case 1 -> key = w.string(keyName);
        case 2 -> v = value.read(w);
        default -> w.skip();
      }
    }
    return Map.entry(key, v);
  }

  /**
   * Decodes the whole little-endian values of {@code type} that {@code src} holds (from its position) into
   * {@code floats} (FLOAT, DOUBLE) or {@code longs} (INT32, INT64, BOOL) from index {@code at}.
   */
  private static void decode(int type, ByteBuffer src, float[] floats, long[] longs, int at) {
    int base = src.position();
    switch (type) {
      case Onnx.FLOAT -> src.asFloatBuffer().get(floats, at, src.remaining() / 4);
      case Onnx.DOUBLE -> {
        for (int k = 0, n = src.remaining() / 8; k < n; k++) {
          floats[at + k] = (float) src.getDouble(base + 8 * k);
        }
      }
      case Onnx.INT64 -> {
        for (int k = 0, n = src.remaining() / 8; k < n; k++) {
          longs[at + k] = src.getLong(base + 8 * k);
        }
      }
      case Onnx.INT32 -> {
        for (int k = 0, n = src.remaining() / 4; k < n; k++) {
          longs[at + k] = src.getInt(base + 4 * k);
        }
      }
      default -> {
        for (int k = 0, n = src.remaining(); k < n; k++) {
          longs[at + k] = src.get(base + k);
        }
      }
    }
  }

  /** A tensor whose {@code n} values of {@code width} bytes are in an external data file beside the model. */
  private Onnx.Tensor externalTensor(String name, int type, long[] shape, int n, int width,
      Map<String, String> entries, Wire w) throws IOException {
    String quoted = quote(name);
    long expected = (long) n * width;
    String location = entries.get("location");
    if (location == null || location.isEmpty()) {
      throw w.error("tensor " + quoted + " has external data without a location");
    }
    String where = quote(location);
    Path relative;
    try {
      relative = Path.of(location);
    } catch (java.nio.file.InvalidPathException e) {
      throw w.error("tensor " + quoted + ": invalid external data location " + where);
    }
    Path target = directory.resolve(relative).normalize();
    if (relative.isAbsolute() || !target.startsWith(directory.normalize())) {
      throw w.error("tensor " + quoted + ": external data location " + where
          + " is outside the model's directory");
    }
    long offset = parseLong(entries.getOrDefault("offset", "0"), "offset", quoted, w);
    long length = entries.containsKey("length") ? parseLong(entries.get("length"), "length", quoted, w) : expected;
    if (length != expected) {
      throw w.error("tensor " + quoted + " needs " + expected + " bytes but its external data length is " + length);
    }
    Path real;
    try {
      real = target.toRealPath();
    } catch (IOException e) {
      throw w.error("tensor " + quoted + ": external data file " + where + " not found beside " + file);
    }
    if (!real.startsWith(directory.toRealPath())) {
      throw w.error("tensor " + quoted + ": external data location " + where + " leads outside the model's "
          + "directory (through a symbolic link)");
    }
    if (!Files.isRegularFile(real)) {
      throw w.error("tensor " + quoted + ": external data " + where + " is not a regular file");
    }
    try (FileChannel channel = FileChannel.open(real, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      long size = channel.size();
      if (offset > size || expected > size - offset) {
        throw w.error("tensor " + quoted + ": bytes [" + offset + ", " + Long.toUnsignedString(offset + expected)
            + ") of " + where + " requested but the file has " + size);
      }
      Onnx.Tensor t = allocated(name, type, shape, n);
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(expected, CHUNK)).order(ByteOrder.LITTLE_ENDIAN);
      for (long done = 0; done < expected; done += buffer.limit()) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), expected - done));
        while (buffer.hasRemaining()) {
          if (channel.read(buffer, offset + done + buffer.position()) < 0) {
            throw w.error("tensor " + quoted + ": " + where + " ended early");
          }
        }
        buffer.flip();
        decode(type, buffer, t.floats(), t.longs(), (int) (done / width));
      }
      return t;
    }
  }

  private static long parseLong(String value, String key, String quotedName, Wire w) throws IOException {
    try {
      long v = Long.parseLong(value.trim());
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw w.error("tensor " + quotedName + ": external data " + key + " " + quote(value)
          + " is not a byte count");
    }
  }
}
