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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an {@code .onnx} file: a reader of its own on the protobuf wire format, no native code and no
 * generated protobuf classes. The file is read whole (at most {@link #MAX_FILE_BYTES}); every declared length
 * and every tensor's element count is checked against the bytes actually there before anything is allocated,
 * so memory stays bounded by the file's size whatever it declares. Subgraphs (attributes of {@code If},
 * {@code Loop}, {@code Scan}) are not parsed, so nesting depth is fixed. External tensor data is read from files
 * beside the model, by relative paths that must stay inside the model's directory.
 *
 * <p>Every problem is an {@link IOException} with a one-line message naming the file and what is wrong.
 */
public final class OnnxReader {
  /** The largest model file read (external data files may be larger; tensors are read from them by range). */
  public static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 16;
  /** The largest tensor read, in elements. */
  static final long MAX_ELEMENTS = 1L << 28;
  /**
   * The most nodes, attributes, names, initializers and graph inputs/outputs one file may declare together:
   * each becomes a small object, so this bounds what a file of many tiny messages can make the reader allocate.
   */
  static final int MAX_ITEMS = 1_000_000;

  private final Path file;
  private final Path directory;
  private int items;

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
    String producer = "";
    Map<String, Long> opsets = new LinkedHashMap<>();
    Onnx.Graph graph = null;
    List<Onnx.Function> functions = new ArrayList<>();
    while (w.hasNext()) {
      switch (w.next()) {
        case 1 -> ir = w.longValue("ir_version");
        case 2 -> producer = w.string("producer_name");
        case 3 -> producer = producer + " " + w.string("producer_version");
        case 7 -> {
          if (graph != null) {
            throw w.error("a second graph");
          }
          graph = graph(w.message("graph"));
        }
        case 8 -> {
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
    return new Onnx.Model(ir, producer.trim(), Collections.unmodifiableMap(opsets), graph, List.copyOf(functions));
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
            throw w.error("two initializers named '" + t.name() + "'");
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
    if (++items > MAX_ITEMS) {
      throw w.error("more than " + MAX_ITEMS + " nodes, attributes, names and tensors");
    }
  }

  /** The string of the current field, a name counted as one more item. */
  private String countedName(Wire w, String field) throws IOException {
    count(w);
    return w.string(field);
  }

  private Onnx.Node node(Wire w, int index) throws IOException {
    count(w);
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
        case 3 -> name = w.string("node name");
        case 4 -> opType = w.string("op_type");
        case 5 -> {
          Onnx.Attribute a = attribute(w.message("attribute"));
          attributes.put(a.name(), a);
        }
        case 7 -> domain = w.string("domain");
        default -> w.skip();
      }
    }
    if (opType.isEmpty()) {
      throw w.error("node " + index + " '" + name + "' has no op_type");
    }
    return new Onnx.Node(index, name, opType, domain, List.copyOf(inputs), List.copyOf(outputs),
        Collections.unmodifiableMap(attributes));
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
        case 1 -> name = w.string("attribute name");
        case 2 -> f = w.floatValue("attribute f");
        case 3 -> i = w.longValue("attribute i");
        case 4 -> s = w.string("attribute s");
        case 5 -> t = tensor(w.message("attribute t"));
        case 6, 11 -> {
          graph = true; // subgraphs are not parsed
          w.skip();
        }
        case 7 -> w.floats("attribute floats", floats);
        case 8 -> w.longs("attribute ints", ints);
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
        case 1 -> name = w.string("value name");
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
    String name = "";
    int type = 0;
    Wire.LongList dims = new Wire.LongList();
    Wire.FloatList floats = new Wire.FloatList();
    Wire.LongList longs = new Wire.LongList();
    byte[] raw = null;
    boolean external = false;
    Map<String, String> externalData = new LinkedHashMap<>();
    while (w.hasNext()) {
      switch (w.next()) {
        case 1 -> w.longs("dims", dims);
        case 2 -> type = w.intValue("data_type", 0, 64);
        case 4 -> w.floats("float_data", floats);
        case 5, 7 -> w.longs("int_data", longs);
        case 8 -> name = w.string("tensor name");
        case 9 -> raw = w.bytes("raw_data");
        case 10 -> w.doubles("double_data", floats);
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
        throw w.error("tensor '" + name + "' has dimension " + d);
      }
      count *= d;
      if (count > MAX_ELEMENTS) {
        throw w.error("tensor '" + name + "' has more than " + MAX_ELEMENTS + " elements");
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
    if (external) {
      raw = externalBytes(name, externalData, (long) n * width, w);
    }
    if (raw != null) {
      if (raw.length != (long) n * width) {
        throw w.error("tensor '" + name + "' " + java.util.Arrays.toString(shape) + " needs " + (long) n * width
            + " bytes of data but has " + raw.length);
      }
      return decode(name, type, shape, raw, n);
    }
    boolean floating = type == Onnx.FLOAT || type == Onnx.DOUBLE;
    int present = floating ? floats.size() : longs.size();
    if (present != n) {
      throw w.error("tensor '" + name + "' " + java.util.Arrays.toString(shape) + " has " + n + " elements but "
          + present + " values");
    }
    return new Onnx.Tensor(name, type, shape, floating ? floats.toArray() : null, floating ? null : longs.toArray());
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

  private static Onnx.Tensor decode(String name, int type, long[] shape, byte[] raw, int n) {
    ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case Onnx.FLOAT -> {
        float[] v = new float[n];
        b.asFloatBuffer().get(v);
        return new Onnx.Tensor(name, type, shape, v, null);
      }
      case Onnx.DOUBLE -> {
        float[] v = new float[n];
        for (int k = 0; k < n; k++) {
          v[k] = (float) b.getDouble(8 * k);
        }
        return new Onnx.Tensor(name, type, shape, v, null);
      }
      default -> {
        long[] v = new long[n];
        for (int k = 0; k < n; k++) {
          v[k] = type == Onnx.INT64 ? b.getLong(8 * k) : type == Onnx.INT32 ? b.getInt(4 * k) : raw[k];
        }
        return new Onnx.Tensor(name, type, shape, null, v);
      }
    }
  }

  /** A tensor's bytes from an external data file beside the model. */
  private byte[] externalBytes(String name, Map<String, String> entries, long expected, Wire w) throws IOException {
    String location = entries.get("location");
    if (location == null || location.isEmpty()) {
      throw w.error("tensor '" + name + "' has external data without a location");
    }
    Path relative;
    try {
      relative = Path.of(location);
    } catch (java.nio.file.InvalidPathException e) {
      throw w.error("tensor '" + name + "': invalid external data location '" + location + "'");
    }
    Path target = directory.resolve(relative).normalize();
    if (relative.isAbsolute() || !target.startsWith(directory.normalize())) {
      throw w.error("tensor '" + name + "': external data location '" + location
          + "' is outside the model's directory");
    }
    long offset = parseLong(entries.getOrDefault("offset", "0"), "offset", name, w);
    long length = entries.containsKey("length") ? parseLong(entries.get("length"), "length", name, w) : expected;
    if (length != expected) {
      throw w.error("tensor '" + name + "' needs " + expected + " bytes but its external data length is " + length);
    }
    if (!Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(target)) {
      throw w.error("tensor '" + name + "': external data file '" + location + "' not found beside " + file);
    }
    try (FileChannel channel = FileChannel.open(target, StandardOpenOption.READ)) {
      if (offset > channel.size() || expected > channel.size() - offset) {
        throw w.error("tensor '" + name + "': bytes [" + offset + ", " + (offset + expected) + ") of '" + location
            + "' requested but the file has " + channel.size());
      }
      ByteBuffer buffer = ByteBuffer.allocate((int) expected);
      while (buffer.hasRemaining()) {
        if (channel.read(buffer, offset + buffer.position()) < 0) {
          throw w.error("tensor '" + name + "': '" + location + "' ended early");
        }
      }
      return buffer.array();
    }
  }

  private static long parseLong(String value, String key, String name, Wire w) throws IOException {
    try {
      long v = Long.parseLong(value.trim());
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw w.error("tensor '" + name + "': external data " + key + " '" + value + "' is not a byte count");
    }
  }
}
