package dev.kiln.io;

import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The strict safetensors reader (see {@link SafeTensors} for what it rejects). Every failure is an
 * {@link IOException} naming the file, and the tensor or key where there is one.
 */
final class SafeTensorsReader {
  private static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;
  /** The most data-section bytes read at a time (see {@link #chunk}). */
  private static final int DATA_CHUNK_BYTES = 1 << 20;
  private static final Set<String> ENTRY_FIELDS = Set.of("dtype", "shape", "data_offsets");
  /** What one header byte takes as read (1) and as text (at most 2: one UTF-16 character). */
  private static final int HEADER_TEXT_BYTES = 3;
  private static final String RAISE = " (a caller can raise it: ReadOptions.withMaxBytes)";

  private final Path path;
  private final FileChannel channel;
  private final ReadOptions options;

  private SafeTensorsReader(Path path, FileChannel channel, ReadOptions options) {
    this.path = path;
    this.channel = channel;
    this.options = options;
  }

  /** Reads the whole file. */
  static SafeTensors.Contents read(Path path, ReadOptions options) throws IOException {
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      SafeTensorsReader reader = new SafeTensorsReader(path, channel, options);
      return reader.contents(reader.header());
    }
  }

  /**
   * Reads the file's tensors straight into {@code targets}, which must be exactly its names and shapes: the
   * whole header is read and checked against them before the first element is written.
   */
  static void readInto(Path path, Map<String, Tensor> targets, ReadOptions options) throws IOException {
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      SafeTensorsReader reader = new SafeTensorsReader(path, channel, options.expectingShapesOf(targets));
      Header header = reader.header();
      ByteBuffer chunk = reader.chunk(header);
      // BOOL is the one dtype whose bytes can be invalid (not 0 or 1), found only while the data is read:
      // its tensors are read and checked first, into scratch, so that such a file leaves the targets as they were.
      Map<String, float[]> bools = new HashMap<>();
      for (Entry entry : header.entries()) {
        if (entry.dtype() == DType.BOOL) {
          float[] checked = new float[entry.elements()];
          reader.data(entry, header.dataStart(), chunk, checked);
          bools.put(entry.name(), checked);
        }
      }
      for (Entry entry : header.entries()) {
        float[] target = targets.get(entry.name()).data();
        float[] checked = bools.get(entry.name());
        if (checked != null) {
          System.arraycopy(checked, 0, target, 0, checked.length);
        } else {
          reader.data(entry, header.dataStart(), chunk, target);
        }
      }
    }
  }

  /** Reads and checks the header only (no tensor data is read or allocated) and returns its metadata. */
  static Map<String, String> readMetadata(Path path, ReadOptions options) throws IOException {
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      return new SafeTensorsReader(path, channel, options).header().metadata();
    }
  }

  /** One validated header entry. */
  private record Entry(String name, DType dtype, int[] shape, int elements, long begin, long end) {}

  /** A validated header: the metadata, the entries in header order, where the data starts and its charge. */
  private record Header(Map<String, String> metadata, List<Entry> entries, long dataStart, long charge) {}

  private Header header() throws IOException {
    long fileSize = channel.size();
    long headerLength = headerLength(fileSize);
    long charge = headerLength * ReadOptions.HEADER_BYTE_COST;
    if (charge > options.maxBytes()) {
      throw malformed("a header of " + headerLength + " bytes may take up to " + charge
          + " bytes to read, more than the read limit of " + options.maxBytes() + " bytes" + RAISE);
    }
    CharBuffer text = headerText((int) headerLength);
    long dataStart = 8 + headerLength;
    long dataSize = fileSize - dataStart;
    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    IOException[] firstError = {null}; // reported after the whole header parsed: syntax errors come first
    try {
      long parseBudget = headerLength * (ReadOptions.HEADER_BYTE_COST - HEADER_TEXT_BYTES);
      // A class rather than a lambda (each lambda is a class generated at run time, on the way to a first result).
      Json.parseMembers(text.array(), text.limit(), "header", parseBudget, new Json.MemberConsumer() {
        @Override
        public void accept(String key, Object value) {
          try {
            if (key.equals(SafeTensors.METADATA_KEY)) {
              metadata.putAll(metadata(value));
            } else {
              entries.add(entry(key, value, dataSize));
            }
          } catch (IOException e) {
            if (firstError[0] == null) {
              firstError[0] = e;
            }
          }
        }
      });
    } catch (Json.SyntaxException | Json.BudgetException e) {
      throw malformed(e.getMessage());
    }
    if (firstError[0] != null) {
      throw firstError[0];
    }
    if (options.expected() != null) {
      checkExpected(entries, options.expected());
    }
    checkCoverage(entries, dataSize);
    return new Header(metadata, entries, dataStart, charge);
  }

  private SafeTensors.Contents contents(Header header) throws IOException {
    long elements = 0;
    for (Entry entry : header.entries()) {
      elements += entry.elements();
    }
    long total = header.charge() + 4 * elements;
    if (total > options.maxBytes()) {
      throw malformed("the tensors hold " + elements + " elements, " + 4 * elements + " bytes as floats, which "
          + "with the header's " + header.charge() + " exceeds the read limit of " + options.maxBytes() + " bytes"
          + RAISE);
    }
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    ByteBuffer chunk = chunk(header);
    for (Entry entry : header.entries()) {
      float[] data = new float[entry.elements()];
      data(entry, header.dataStart(), chunk, data);
      tensors.put(entry.name(), Tensor.of(data, entry.shape()));
    }
    return new SafeTensors.Contents(tensors, header.metadata());
  }

  /**
   * The file must hold exactly the expected names with the expected shapes; reported in this order: a tensor
   * of another shape, a missing tensor, an unexpected tensor.
   */
  private void checkExpected(List<Entry> entries, Map<String, int[]> expected) throws IOException {
    Map<String, Entry> byName = new LinkedHashMap<>();
    for (Entry e : entries) {
      byName.put(e.name(), e);
      int[] shape = expected.get(e.name());
      if (shape != null && !Arrays.equals(e.shape(), shape)) {
        throw malformed("tensor " + Json.quoteBrief(e.name()) + ": shape " + brief(Tensor.shapeString(e.shape()))
            + " but expected " + brief(Tensor.shapeString(shape)));
      }
    }
    for (String name : expected.keySet()) {
      if (!byName.containsKey(name)) {
        throw malformed("missing tensor " + Json.quoteBrief(name) + " (the file holds " + count(entries.size())
            + names(byName.keySet()) + ")");
      }
    }
    for (Entry e : entries) {
      if (!expected.containsKey(e.name())) {
        throw malformed("unexpected tensor " + Json.quoteBrief(e.name()) + " (expected " + count(expected.size())
            + names(expected.keySet()) + ")");
      }
    }
  }

  private static String count(int tensors) {
    return tensors + (tensors == 1 ? " tensor" : " tensors");
  }

  /** ": a, b, c" for up to five names, ", e.g. a, b, c, d, e" for more; nothing for none. */
  private static String names(Collection<String> names) {
    List<String> first = new ArrayList<>();
    for (String name : names) {
      if (first.size() == 5) {
        break;
      }
      first.add(Json.quoteBrief(name));
    }
    return first.isEmpty() ? "" : (names.size() > 5 ? ", e.g. " : ": ") + String.join(", ", first);
  }

  private long headerLength(long fileSize) throws IOException {
    if (fileSize < 8) {
      throw malformed("file has " + fileSize + " bytes, fewer than the 8-byte header length");
    }
    ByteBuffer lengthField = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(lengthField, 0);
    long headerLength = lengthField.getLong(0);
    if (headerLength == 0) {
      throw malformed("header length is 0 (empty header)");
    }
    if (headerLength < 0 || headerLength > SafeTensors.MAX_HEADER_BYTES) {
      throw malformed("header length " + Long.toUnsignedString(headerLength) + " exceeds the limit of "
          + SafeTensors.MAX_HEADER_BYTES + " bytes");
    }
    if (headerLength > fileSize - 8) {
      throw malformed("header length " + headerLength + " exceeds the " + (fileSize - 8)
          + " bytes after the length field");
    }
    return headerLength;
  }

  /**
   * The header as characters, decoded once (malformed UTF-8 is an error, not replaced): at most one character per
   * byte (a 4-byte sequence is two), so an array as long as the header holds them, starting at index 0.
   */
  private CharBuffer headerText(int length) throws IOException {
    ByteBuffer bytes = ByteBuffer.allocate(length);
    readFully(bytes, 8);
    bytes.flip();
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    CharBuffer chars = CharBuffer.allocate(length);
    CoderResult result = decoder.decode(bytes, chars, true);
    if (!result.isUnderflow() || bytes.hasRemaining() || !decoder.flush(chars).isUnderflow()) {
      throw malformed("header is not valid UTF-8");
    }
    chars.flip();
    return chars;
  }

  private Map<String, String> metadata(Object value) throws IOException {
    if (!(value instanceof Map<?, ?> map)) {
      throw malformed("\"" + SafeTensors.METADATA_KEY + "\" must be an object of strings, found " + kind(value));
    }
    Map<String, String> result = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String key = (String) e.getKey();
      if (!(e.getValue() instanceof String s)) {
        throw malformed("\"" + SafeTensors.METADATA_KEY + "\" value of " + Json.quoteBrief(key) + " must be a string, found "
            + kind(e.getValue()));
      }
      result.put(key, s);
    }
    return result;
  }

  /**
   * The start of an error message about tensor {@code name}: built only when there is an error (quoting every
   * name of a successful read took RepVGG-A0's 352 entries through the interpreter for nothing).
   */
  private static String where(String name) {
    return "tensor " + Json.quoteBrief(name) + ": ";
  }

  private Entry entry(String name, Object value, long dataSize) throws IOException {
    if (!(value instanceof Map<?, ?> fields)) {
      throw malformed(where(name) + "entry must be an object, found " + kind(value));
    }
    checkFields(name, fields);
    DType dtype = dtype(name, fields.get("dtype"));
    if (!(fields.get("shape") instanceof List<?> dims)) {
      throw malformed(where(name) + "shape must be a list of integers, found " + kind(fields.get("shape")));
    }
    int[] shape = shape(name, dims);
    long elements = elements(name, shape, dims);
    if (!(fields.get("data_offsets") instanceof List<?> offsets) || offsets.size() != 2
        || !(offsets.get(0) instanceof Long begin) || !(offsets.get(1) instanceof Long end)) {
      throw malformed(where(name) + "data_offsets must be a list of two integers [begin, end], found "
          + describe(fields.get("data_offsets")));
    }
    if (begin < 0 || end < begin) {
      throw malformed(where(name) + "data_offsets " + offsets + " must satisfy 0 <= begin <= end");
    }
    if (end > dataSize) {
      throw malformed(where(name) + "data_offsets " + offsets + " reach past the end of the " + dataSize
          + "-byte data section");
    }
    long expectedBytes = elements * dtype.size;
    if (end - begin != expectedBytes) {
      throw malformed(where(name) + "data_offsets " + offsets + " span " + (end - begin) + " bytes but " + dtype
          + " with shape " + brief(dims) + " needs " + expectedBytes);
    }
    return new Entry(name, dtype, shape, (int) elements, begin, end);
  }

  private void checkFields(String name, Map<?, ?> fields) throws IOException {
    for (Object field : fields.keySet()) {
      if (!ENTRY_FIELDS.contains(field)) {
        throw malformed(where(name) + "unknown field " + Json.quoteBrief((String) field)
            + " (expected exactly dtype, shape, data_offsets)");
      }
    }
    for (String field : List.of("dtype", "shape", "data_offsets")) {
      if (!fields.containsKey(field)) {
        throw malformed(where(name) + "missing field \"" + field + "\"");
      }
    }
  }

  private DType dtype(String name, Object value) throws IOException {
    if (!(value instanceof String dtypeName)) {
      throw malformed(where(name) + "dtype must be a string, found " + kind(value));
    }
    DType dtype = DType.byName(dtypeName);
    if (dtype == null) {
      throw malformed(where(name) + (DType.UNSUPPORTED.contains(dtypeName) ? "unsupported" : "unknown") + " dtype "
          + Json.quoteBrief(dtypeName) + " (supported: " + List.of(DType.values()) + ")");
    }
    return dtype;
  }

  private int[] shape(String name, List<?> dims) throws IOException {
    int[] shape = new int[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      if (!(dims.get(i) instanceof Long dim)) {
        throw malformed(where(name) + "shape must be a list of integers, found " + kind(dims.get(i)) + " at index "
            + i);
      }
      if (dim < 0) {
        throw malformed(where(name) + "negative dimension " + dim + " in shape " + brief(dims));
      }
      if (dim > Integer.MAX_VALUE) {
        throw malformed(where(name) + "dimension " + dim + " in shape " + brief(dims) + " exceeds "
            + Integer.MAX_VALUE);
      }
      shape[i] = dim.intValue();
    }
    return shape;
  }

  private long elements(String name, int[] shape, List<?> dims) throws IOException {
    long elements = 1;
    for (int d : shape) {
      if (d == 0) {
        return 0;
      }
    }
    for (int d : shape) {
      elements *= d; // each factor < 2^31 and the product is kept <= MAX_ELEMENTS, so no overflow
      if (elements > MAX_ELEMENTS) {
        throw malformed(where(name) + "shape " + brief(dims) + " has more than " + MAX_ELEMENTS + " elements");
      }
    }
    return elements;
  }

  /** By first byte, then by end. */
  private static final Comparator<Entry> BY_SPAN = new Comparator<Entry>() {
    @Override
    public int compare(Entry a, Entry b) {
      int c = Long.compare(a.begin(), b.begin());
      return c != 0 ? c : Long.compare(a.end(), b.end());
    }
  };

  /** The tensors must tile the data section exactly: no overlap, no gap, nothing after the last one. */
  private void checkCoverage(List<Entry> entries, long dataSize) throws IOException {
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(BY_SPAN);
    long covered = 0;
    Entry previous = null;
    for (Entry e : sorted) {
      if (e.begin() < covered) {
        throw malformed("tensor " + Json.quoteBrief(e.name()) + " [" + e.begin() + ", " + e.end()
            + ") overlaps tensor " + Json.quoteBrief(previous.name()) + " [" + previous.begin() + ", "
            + previous.end() + ")");
      }
      if (e.begin() > covered) {
        throw malformed("gap in the data section: bytes [" + covered + ", " + e.begin()
            + ") belong to no tensor (before tensor " + Json.quoteBrief(e.name()) + ")");
      }
      covered = e.end();
      previous = e;
    }
    if (covered != dataSize) {
      throw malformed("data section has " + dataSize + " bytes but the tensors cover only " + covered
          + " (trailing bytes)");
    }
  }

  /**
   * The buffer the data section's bytes pass through on their way into float arrays: direct, so that they are
   * copied once into it and once out (into a heap buffer the JDK copies them through a direct one of its own
   * first: a cold RepVGG-A0 load took 155 ms against 135, and 198 against 175 in a slower minute, medians of six
   * fresh JVMs alternating on an AMD EPYC Zen 1), of
   * {@link #DATA_CHUNK_BYTES} or the data section's size if smaller (at least one element of any dtype).
   */
  private ByteBuffer chunk(Header header) throws IOException {
    long dataBytes = channel.size() - header.dataStart();
    return ByteBuffer.allocateDirect((int) Math.max(8, Math.min(DATA_CHUNK_BYTES, dataBytes)))
        .order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Reads {@code entry}'s elements, converted to float, into {@code out} (of its length). */
  private void data(Entry entry, long dataStart, ByteBuffer chunk, float[] out) throws IOException {
    int n = entry.elements();
    DType dtype = entry.dtype();
    long position = dataStart + entry.begin();
    int perChunk = chunk.capacity() / dtype.size;
    for (int i = 0; i < n; ) {
      int count = Math.min(n - i, perChunk);
      chunk.clear().limit(count * dtype.size);
      readFully(chunk, position);
      chunk.flip();
      position += (long) count * dtype.size;
      if (dtype == DType.F32) {
        chunk.asFloatBuffer().get(out, i, count);
        i += count;
        continue;
      }
      for (int k = 0; k < count; k++, i++) {
        out[i] = dtype.decode(chunk);
        if (dtype == DType.BOOL && out[i] > 1) {
          throw malformed("tensor " + Json.quoteBrief(entry.name()) + ": BOOL element " + i + " is byte "
              + (int) out[i] + ", not 0 or 1");
        }
      }
    }
  }

  /** Fills {@code buf} from {@code position}; the file shrinking underneath is an error, never a short read. */
  private void readFully(ByteBuffer buf, long position) throws IOException {
    while (buf.hasRemaining()) {
      int read = channel.read(buf, position);
      if (read < 0) {
        throw malformed("unexpected end of file at byte " + position + " (was it truncated while reading?)");
      }
      position += read;
    }
  }

  private IOException malformed(String message) {
    return new IOException(path + ": " + message);
  }

  private static String kind(Object value) {
    if (value instanceof Map) {
      return "an object";
    } else if (value instanceof List) {
      return "a list";
    } else if (value instanceof String s) {
      return "the string " + Json.quoteBrief(s);
    }
    return "the integer " + value;
  }

  private static String describe(Object value) {
    return value instanceof List ? brief(value) : kind(value);
  }

  /** {@code value.toString()}, shortened. */
  private static String brief(Object value) {
    String s = String.valueOf(value);
    return s.length() > 100 ? s.substring(0, 100) + "...]" : s;
  }
}
