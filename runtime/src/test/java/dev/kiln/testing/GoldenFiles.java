package dev.kiln.testing;

import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the golden-vector safetensors files written by {@code tools/golden/st.py} from the test class path.
 * Test-only and deliberately simple: F32, F64, I64 and I32 tensors, converted to float; the
 * {@code __metadata__} entry becomes {@link Golden#metadata()}.
 */
public final class GoldenFiles {
  private GoldenFiles() {}

  /** The tensors (in file order) and the string metadata of one golden file. */
  public static final class Golden {
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    Golden(Map<String, Tensor> tensors, Map<String, String> metadata) {
      this.tensors = Collections.unmodifiableMap(tensors);
      this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** All tensors by name. */
    public Map<String, Tensor> tensors() {
      return tensors;
    }

    /** The metadata strings. */
    public Map<String, String> metadata() {
      return metadata;
    }

    /** The tensor {@code name}; fails the test if it is absent. */
    public Tensor tensor(String name) {
      Tensor t = tensors.get(name);
      if (t == null) {
        throw new AssertionError("golden file has no tensor " + name);
      }
      return t;
    }

    /** Whether the file has a tensor {@code name}. */
    public boolean has(String name) {
      return tensors.containsKey(name);
    }

    /** The metadata value {@code key} parsed as JSON. */
    public Object metadataJson(String key) {
      String v = metadata.get(key);
      if (v == null) {
        throw new AssertionError("golden file has no metadata " + key);
      }
      return Json.parse(v);
    }
  }

  /** Loads the class-path resource {@code resource}, e.g. {@code "/golden/layers/layers.safetensors"}. */
  public static Golden load(String resource) {
    try (InputStream in = GoldenFiles.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new AssertionError("missing test resource " + resource);
      }
      return parse(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses the bytes of a safetensors file. */
  @SuppressWarnings("unchecked")
  public static Golden parse(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long headerLength = buf.getLong(0);
    if (headerLength < 2 || headerLength > bytes.length - 8) {
      throw new IllegalArgumentException("bad safetensors header length " + headerLength);
    }
    int base = 8 + (int) headerLength;
    Map<String, Object> header =
        Json.parseObject(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8));
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : header.entrySet()) {
      Map<String, Object> info = (Map<String, Object>) e.getValue();
      if (e.getKey().equals("__metadata__")) {
        info.forEach((k, v) -> metadata.put(k, (String) v));
        continue;
      }
      List<Object> dims = (List<Object>) info.get("shape");
      int[] shape = new int[dims.size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = ((Double) dims.get(i)).intValue();
      }
      List<Object> offsets = (List<Object>) info.get("data_offsets");
      int start = base + ((Double) offsets.get(0)).intValue();
      int end = base + ((Double) offsets.get(1)).intValue();
      String dtype = (String) info.get("dtype");
      float[] data = decode(buf, dtype, start, end, e.getKey());
      tensors.put(e.getKey(), Tensor.of(data, shape));
    }
    return new Golden(tensors, metadata);
  }

  private static float[] decode(ByteBuffer buf, String dtype, int start, int end, String name) {
    int width;
    switch (dtype) {
      case "F32":
      case "I32":
        width = 4;
        break;
      case "F64":
      case "I64":
        width = 8;
        break;
      default:
        throw new IllegalArgumentException("tensor " + name + ": unsupported dtype " + dtype);
    }
    if (start > end || end > buf.capacity() || (end - start) % width != 0) {
      throw new IllegalArgumentException("tensor " + name + ": bad data offsets");
    }
    float[] out = new float[(end - start) / width];
    for (int i = 0; i < out.length; i++) {
      int at = start + i * width;
      switch (dtype) {
        case "F32":
          out[i] = buf.getFloat(at);
          break;
        case "I32":
          out[i] = buf.getInt(at);
          break;
        case "F64":
          out[i] = (float) buf.getDouble(at);
          break;
        default:
          out[i] = buf.getLong(at);
      }
    }
    return out;
  }
}
