package dev.kiln.processor.testing;

import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A test-only safetensors reader for the golden vectors (F32 and F64 tensors plus the string metadata).
 * Kept in this one file so that the tensor part can be swapped for {@code dev.kiln.io.SafeTensors.read}
 * once that exists; the metadata part stays here.
 */
public final class GoldenTensors {
  private final Map<String, Tensor> tensors;
  private final Map<String, String> metadata;

  private GoldenTensors(Map<String, Tensor> tensors, Map<String, String> metadata) {
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** The tensors by name, in file order. */
  public Map<String, Tensor> tensors() {
    return tensors;
  }

  /** The {@code __metadata__} entries. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The tensor {@code name}; fails if it is missing. */
  public Tensor tensor(String name) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new IllegalArgumentException("no tensor " + name + " in golden file");
    }
    return t;
  }

  /** Reads a whole (small) safetensors file. */
  @SuppressWarnings("unchecked")
  public static GoldenTensors read(Path path) throws IOException {
    byte[] bytes = Files.readAllBytes(path);
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 8) {
      throw new IOException(path + ": shorter than the 8-byte header length");
    }
    long headerLength = buf.getLong(0);
    if (headerLength < 2 || headerLength > bytes.length - 8) {
      throw new IOException(path + ": header length " + headerLength + " does not fit the file");
    }
    int base = 8 + (int) headerLength;
    Map<String, Object> header;
    try {
      header = MiniJson.parseObject(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8).trim());
    } catch (IllegalArgumentException e) {
      throw new IOException(path + ": bad header: " + e.getMessage(), e);
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : header.entrySet()) {
      if (e.getKey().equals("__metadata__")) {
        ((Map<String, Object>) e.getValue()).forEach((k, v) -> metadata.put(k, (String) v));
        continue;
      }
      Map<String, Object> info = (Map<String, Object>) e.getValue();
      String dtype = (String) info.get("dtype");
      List<Object> shapeList = (List<Object>) info.get("shape");
      List<Object> offsets = (List<Object>) info.get("data_offsets");
      int[] shape = new int[shapeList.size()];
      long count = 1;
      for (int i = 0; i < shape.length; i++) {
        shape[i] = ((Long) shapeList.get(i)).intValue();
        count *= shape[i];
      }
      long start = (Long) offsets.get(0);
      long end = (Long) offsets.get(1);
      int width = switch (dtype) {
        case "F32" -> 4;
        case "F64" -> 8;
        default -> throw new IOException(path + ": " + e.getKey() + " has unsupported dtype " + dtype);
      };
      if (start < 0 || end < start || base + end > bytes.length || end - start != count * width) {
        throw new IOException(path + ": " + e.getKey() + " has bad data_offsets [" + start + ", " + end + "]");
      }
      float[] data = new float[(int) count];
      for (int i = 0; i < data.length; i++) {
        int at = base + (int) start + i * width;
        data[i] = width == 4 ? buf.getFloat(at) : (float) buf.getDouble(at);
      }
      tensors.put(e.getKey(), Tensor.of(data, shape));
    }
    return new GoldenTensors(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
  }
}
