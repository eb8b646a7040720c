package dev.kiln.io;

import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format: an 8-byte
 * little-endian header length {@code N}, {@code N} bytes of UTF-8 JSON
 * ({@code {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"key": "value"}}}), then the data section, where {@code [begin, end)} are byte offsets.
 *
 * <p>Reading is strict. Every malformation is an {@link IOException} whose message names the file and the
 * offending tensor or key; nothing is allocated or read before the sizes it depends on have been checked
 * against the file size, so a hostile file can neither cause an {@link OutOfMemoryError} nor a read past its
 * end. Rejected are: a file shorter than 8 bytes; a header length of 0, above {@link #MAX_HEADER_BYTES} or
 * beyond the file; a header that is not valid UTF-8, not a single JSON object starting at its first byte, or
 * followed by anything but JSON whitespace (the usual space padding); duplicate keys in any JSON object;
 * JSON beyond objects, arrays, strings and integers; a {@code __metadata__} that is not an object of strings; a
 * tensor entry that is not an object with exactly the fields {@code dtype}, {@code shape} and
 * {@code data_offsets} (unknown fields are rejected, not ignored); an unknown or unsupported dtype; a shape that
 * is not a list of non-negative integers or holds more than {@code Integer.MAX_VALUE - 8} elements; offsets
 * that are not {@code [begin, end]} with {@code 0 <= begin <= end <= data size}; a byte span other than
 * {@code elements * dtype size}; overlapping tensors; and gaps or trailing bytes, since the format requires the
 * data section to be covered exactly; a {@code BOOL} byte other than 0 or 1.
 *
 * <p>Writing produces F32 (optionally I64 for chosen keys), the header padded with spaces to a multiple of 8
 * bytes, and replaces the target atomically where the file system supports it.
 */
public final class SafeTensors {
  /** The largest header accepted, in bytes (100 MB, as the reference implementation). */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  /** The reserved top-level key holding the string metadata. */
  static final String METADATA_KEY = "__metadata__";

  private static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;
  private static final int CHUNK_BYTES = 1 << 16;
  private static final Set<String> ENTRY_FIELDS = Set.of("dtype", "shape", "data_offsets");

  private SafeTensors() {}

  /**
   * Reads every tensor as {@code float}, in header order (for files from the standard writers, also the
   * data order). F32 is taken as is; F64, F16, BF16, I64, I32, I16, I8, U8 and BOOL are converted (F64 and
   * integers beyond 2^24 rounding to nearest). A shape {@code []} gives a scalar tensor.
   *
   * @throws IOException if the file cannot be read or is malformed (see the class documentation)
   */
  public static Map<String, Tensor> read(Path path) throws IOException {
    return readWithMetadata(path).tensors();
  }

  /**
   * Reads the tensors as {@link #read} does, together with the {@code __metadata__} string map (empty if the
   * file has none).
   *
   * @throws IOException if the file cannot be read or is malformed (see the class documentation)
   */
  public static Contents readWithMetadata(Path path) throws IOException {
    Objects.requireNonNull(path, "path");
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      return new Reader(path, channel).read();
    }
  }

  /**
   * Writes {@code tensors} as F32 in map order with optional string {@code metadata} ({@code null} or empty:
   * no {@code __metadata__} entry), replacing {@code path} atomically where supported.
   *
   * @throws IllegalArgumentException if a name is {@code __metadata__} or a name or metadata string holds an
   *     unpaired surrogate (not encodable as UTF-8)
   * @throws IOException if writing fails; {@code path} is then left as it was
   */
  public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
    write(path, tensors, metadata, Set.of());
  }

  /**
   * Writes as {@link #write(Path, Map, Map)}, but stores the tensors named in {@code int64Keys} as I64, as
   * PyTorch stores {@code num_batches_tracked}.
   *
   * @throws IllegalArgumentException additionally if a key in {@code int64Keys} is not in {@code tensors}, or
   *     one of its values is not an integer in the {@code long} range
   * @throws IOException if writing fails; {@code path} is then left as it was
   */
  public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata,
      Set<String> int64Keys) throws IOException {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(tensors, "tensors");
    Objects.requireNonNull(int64Keys, "int64Keys");
    for (String key : int64Keys) {
      if (!tensors.containsKey(key)) {
        throw new IllegalArgumentException("int64 key " + HeaderJson.quote(key) + " is not among the tensors "
            + tensors.keySet());
      }
      checkIntegral(key, tensors.get(key));
    }
    byte[] header = header(tensors, metadata == null ? Map.of() : metadata, int64Keys);
    writeAtomically(path, header, tensors, int64Keys);
  }

  private static void checkIntegral(String key, Tensor tensor) {
    Objects.requireNonNull(tensor, () -> "tensor " + HeaderJson.quote(key) + " is null");
    float[] data = tensor.data();
    for (int i = 0; i < data.length; i++) {
      float v = data[i];
      if (!(v >= -0x1p63f && v < 0x1p63f) || v != Math.rint(v)) {
        throw new IllegalArgumentException("tensor " + HeaderJson.quote(key) + " is written as I64 but element "
            + i + " is " + v + ", not an integer in the 64-bit range");
      }
    }
  }

  private static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata, Set<String> int64Keys) {
    StringBuilder json = new StringBuilder("{");
    if (!metadata.isEmpty()) {
      json.append(HeaderJson.quote(METADATA_KEY)).append(":{");
      String separator = "";
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        String key = Objects.requireNonNull(e.getKey(), "metadata key");
        String value = Objects.requireNonNull(e.getValue(), () -> "metadata value of " + HeaderJson.quote(key));
        json.append(separator).append(HeaderJson.quote(key)).append(':').append(HeaderJson.quote(value));
        separator = ",";
      }
      json.append('}');
    }
    long offset = 0;
    String separator = metadata.isEmpty() ? "" : ",";
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      String name = Objects.requireNonNull(e.getKey(), "tensor name");
      Tensor tensor = Objects.requireNonNull(e.getValue(), () -> "tensor " + HeaderJson.quote(name) + " is null");
      if (name.equals(METADATA_KEY)) {
        throw new IllegalArgumentException("\"" + METADATA_KEY + "\" is reserved and cannot name a tensor");
      }
      boolean int64 = int64Keys.contains(name);
      long bytes = (long) tensor.size() * (int64 ? 8 : 4);
      json.append(separator).append(HeaderJson.quote(name)).append(":{\"dtype\":\"").append(int64 ? "I64" : "F32")
          .append("\",\"shape\":[");
      int[] shape = tensor.shape();
      for (int i = 0; i < shape.length; i++) {
        json.append(i > 0 ? "," : "").append(shape[i]);
      }
      json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
      offset += bytes;
      separator = ",";
    }
    json.append('}');
    ByteBuffer utf8;
    try {
      utf8 = StandardCharsets.UTF_8.newEncoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .encode(CharBuffer.wrap(json));
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("a tensor name or metadata string holds an unpaired surrogate", e);
    }
    int length = utf8.remaining();
    byte[] padded = new byte[(length + 7) / 8 * 8];
    utf8.get(padded, 0, length);
    Arrays.fill(padded, length, padded.length, (byte) ' ');
    return padded;
  }

  private static void writeAtomically(Path path, byte[] header, Map<String, Tensor> tensors, Set<String> int64Keys)
      throws IOException {
    Path target = path.toAbsolutePath();
    Path dir = target.getParent();
    Path temp = createTemp(dir, target.getFileName().toString());
    boolean moved = false;
    try {
      try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(header.length);
        flush(out, buf);
        writeFully(out, ByteBuffer.wrap(header));
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
          boolean int64 = int64Keys.contains(e.getKey());
          for (float v : e.getValue().data()) {
            if (buf.remaining() < 8) {
              flush(out, buf);
            }
            if (int64) {
              buf.putLong((long) v);
            } else {
              buf.putFloat(v);
            }
          }
        }
        flush(out, buf);
        out.force(true);
      }
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      moved = true;
    } finally {
      if (!moved) {
        Files.deleteIfExists(temp);
      }
    }
  }

  /** A new empty file next to the target (default permissions, unlike {@code Files.createTempFile}). */
  private static Path createTemp(Path dir, String name) throws IOException {
    for (int attempt = 0; ; attempt++) {
      Path temp = dir.resolve("." + name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
      try {
        Files.newByteChannel(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        return temp;
      } catch (FileAlreadyExistsException e) {
        if (attempt >= 100) {
          throw e;
        }
      }
    }
  }

  private static void flush(FileChannel out, ByteBuffer buf) throws IOException {
    buf.flip();
    writeFully(out, buf);
    buf.clear();
  }

  private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      out.write(buf);
    }
  }

  /**
   * Tensors and metadata read from one file. Both maps are unmodifiable and keep the header order; the tensors
   * themselves are ordinary (mutable) tensors owned by the caller.
   */
  public static final class Contents {
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
      this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
      this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** The tensors by name, in header order. */
    public Map<String, Tensor> tensors() {
      return tensors;
    }

    /** The {@code __metadata__} entries in header order; empty if the file has none. */
    public Map<String, String> metadata() {
      return metadata;
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder("SafeTensors.Contents{tensors={");
      String separator = "";
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        sb.append(separator).append(e.getKey()).append('=').append(Tensor.shapeString(e.getValue().shape()));
        separator = ", ";
      }
      return sb.append("}, metadata=").append(metadata).append('}').toString();
    }
  }

  /** One validated header entry. */
  private record Entry(String name, DType dtype, int[] shape, int elements, long begin, long end) {}

  /** Reads one file; every failure names the file, and the tensor or key where there is one. */
  private static final class Reader {
    private final Path path;
    private final FileChannel channel;

    Reader(Path path, FileChannel channel) {
      this.path = path;
      this.channel = channel;
    }

    Contents read() throws IOException {
      long fileSize = channel.size();
      if (fileSize < 8) {
        throw malformed("file has " + fileSize + " bytes, fewer than the 8-byte header length");
      }
      ByteBuffer lengthField = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(lengthField, 0);
      long headerLength = lengthField.getLong(0);
      if (headerLength == 0) {
        throw malformed("header length is 0 (empty header)");
      }
      if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
        throw malformed("header length " + Long.toUnsignedString(headerLength) + " exceeds the limit of "
            + MAX_HEADER_BYTES + " bytes");
      }
      if (headerLength > fileSize - 8) {
        throw malformed("header length " + headerLength + " exceeds the " + (fileSize - 8)
            + " bytes after the length field");
      }
      ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
      readFully(headerBytes, 8);
      Map<String, Object> header;
      try {
        String text = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(headerBytes.flip())
            .toString();
        header = HeaderJson.parseObject(text);
      } catch (CharacterCodingException e) {
        throw malformed("header is not valid UTF-8");
      } catch (IOException e) {
        throw malformed(e.getMessage());
      }

      long dataStart = 8 + headerLength;
      long dataSize = fileSize - dataStart;
      Map<String, String> metadata = Map.of();
      List<Entry> entries = new ArrayList<>();
      for (Map.Entry<String, Object> e : header.entrySet()) {
        if (e.getKey().equals(METADATA_KEY)) {
          metadata = metadata(e.getValue());
        } else {
          entries.add(entry(e.getKey(), e.getValue(), dataSize));
        }
      }
      checkCoverage(entries, dataSize);

      Map<String, Tensor> tensors = new LinkedHashMap<>();
      ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      for (Entry entry : entries) {
        tensors.put(entry.name(), Tensor.of(data(entry, dataStart, chunk), entry.shape()));
      }
      return new Contents(tensors, metadata);
    }

    private Map<String, String> metadata(Object value) throws IOException {
      if (!(value instanceof Map<?, ?> map)) {
        throw malformed("\"" + METADATA_KEY + "\" must be an object of strings, found " + kind(value));
      }
      Map<String, String> result = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        String key = (String) e.getKey();
        if (!(e.getValue() instanceof String s)) {
          throw malformed("\"" + METADATA_KEY + "\" value of " + quoted(key) + " must be a string, found "
              + kind(e.getValue()));
        }
        result.put(key, s);
      }
      return result;
    }

    private Entry entry(String name, Object value, long dataSize) throws IOException {
      String where = "tensor " + quoted(name) + ": ";
      if (!(value instanceof Map<?, ?> fields)) {
        throw malformed(where + "entry must be an object, found " + kind(value));
      }
      for (Object field : fields.keySet()) {
        if (!ENTRY_FIELDS.contains(field)) {
          throw malformed(where + "unknown field " + quoted((String) field)
              + " (expected exactly dtype, shape, data_offsets)");
        }
      }
      for (String field : List.of("dtype", "shape", "data_offsets")) {
        if (!fields.containsKey(field)) {
          throw malformed(where + "missing field \"" + field + "\"");
        }
      }

      if (!(fields.get("dtype") instanceof String dtypeName)) {
        throw malformed(where + "dtype must be a string, found " + kind(fields.get("dtype")));
      }
      DType dtype = DType.byName(dtypeName);
      if (dtype == null) {
        throw malformed(where + (DType.UNSUPPORTED.contains(dtypeName) ? "unsupported" : "unknown") + " dtype "
            + quoted(dtypeName) + " (supported: " + List.of(DType.values()) + ")");
      }

      if (!(fields.get("shape") instanceof List<?> dims)) {
        throw malformed(where + "shape must be a list of integers, found " + kind(fields.get("shape")));
      }
      int[] shape = new int[dims.size()];
      boolean empty = false;
      for (int i = 0; i < shape.length; i++) {
        if (!(dims.get(i) instanceof Long dim)) {
          throw malformed(where + "shape must be a list of integers, found " + kind(dims.get(i)) + " at index " + i);
        }
        if (dim < 0) {
          throw malformed(where + "negative dimension " + dim + " in shape " + brief(dims));
        }
        if (dim > Integer.MAX_VALUE) {
          throw malformed(where + "dimension " + dim + " in shape " + brief(dims) + " exceeds " + Integer.MAX_VALUE);
        }
        shape[i] = dim.intValue();
        empty |= dim == 0;
      }
      long elements = 1;
      if (empty) {
        elements = 0;
      } else {
        for (int d : shape) {
          elements *= d; // each factor < 2^31 and the product is kept <= MAX_ELEMENTS, so no overflow
          if (elements > MAX_ELEMENTS) {
            throw malformed(where + "shape " + brief(dims) + " has more than " + MAX_ELEMENTS + " elements");
          }
        }
      }

      if (!(fields.get("data_offsets") instanceof List<?> offsets) || offsets.size() != 2
          || !(offsets.get(0) instanceof Long begin) || !(offsets.get(1) instanceof Long end)) {
        throw malformed(where + "data_offsets must be a list of two integers [begin, end], found "
            + describe(fields.get("data_offsets")));
      }
      if (begin < 0 || end < begin) {
        throw malformed(where + "data_offsets " + offsets + " must satisfy 0 <= begin <= end");
      }
      if (end > dataSize) {
        throw malformed(where + "data_offsets " + offsets + " reach past the end of the " + dataSize
            + "-byte data section");
      }
      long expectedBytes = elements * dtype.size;
      if (end - begin != expectedBytes) {
        throw malformed(where + "data_offsets " + offsets + " span " + (end - begin) + " bytes but " + dtype
            + " with shape " + brief(dims) + " needs " + expectedBytes);
      }
      return new Entry(name, dtype, shape, (int) elements, begin, end);
    }

    /** The tensors must tile the data section exactly: no overlap, no gap, nothing after the last one. */
    private void checkCoverage(List<Entry> entries, long dataSize) throws IOException {
      List<Entry> sorted = new ArrayList<>(entries);
      sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
      long covered = 0;
      Entry previous = null;
      for (Entry e : sorted) {
        if (e.begin() < covered) {
          throw malformed("tensor " + quoted(e.name()) + " [" + e.begin() + ", " + e.end()
              + ") overlaps tensor " + quoted(previous.name()) + " [" + previous.begin() + ", "
              + previous.end() + ")");
        }
        if (e.begin() > covered) {
          throw malformed("gap in the data section: bytes [" + covered + ", " + e.begin()
              + ") belong to no tensor (before tensor " + quoted(e.name()) + ")");
        }
        covered = e.end();
        previous = e;
      }
      if (covered != dataSize) {
        throw malformed("data section has " + dataSize + " bytes but the tensors cover only " + covered
            + " (trailing bytes)");
      }
    }

    private float[] data(Entry entry, long dataStart, ByteBuffer chunk) throws IOException {
      int n = entry.elements();
      DType dtype = entry.dtype();
      float[] out = new float[n];
      long position = dataStart + entry.begin();
      int perChunk = CHUNK_BYTES / dtype.size;
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
            throw malformed("tensor " + quoted(entry.name()) + ": BOOL element " + i + " is byte "
                + (int) out[i] + ", not 0 or 1");
          }
        }
      }
      return out;
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
        return "the string " + quoted(s);
      }
      return "the integer " + value;
    }

    private static String describe(Object value) {
      return value instanceof List ? brief(value) : kind(value);
    }

    /** A JSON-quoted name or key, shortened so a hostile header cannot make a huge message. */
    private static String quoted(String s) {
      return HeaderJson.quote(s.length() > 200 ? s.substring(0, 200) + "..." : s);
    }

    /** {@code value.toString()}, shortened. */
    private static String brief(Object value) {
      String s = String.valueOf(value);
      return s.length() > 100 ? s.substring(0, 100) + "...]" : s;
    }
  }
}
