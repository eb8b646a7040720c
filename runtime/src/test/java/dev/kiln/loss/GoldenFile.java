package dev.kiln.loss;

import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A minimal, test-only reader for the golden safetensors files written by {@code tools/golden/st.py}
 * (F32, F64 and I64 entries; the compact header layout that writer produces). Not a general reader.
 */
public final class GoldenFile {
  private static final Pattern ENTRY = Pattern.compile(
      "\"([^\"]+)\":\\{\"dtype\":\"(F32|F64|I64)\",\"shape\":\\[([0-9, ]*)\\],\"data_offsets\":\\[(\\d+),(\\d+)\\]\\}");
  private static final Pattern CASES = Pattern.compile("\"cases\":\"(\\d+)\"");

  private final Map<String, double[]> values = new LinkedHashMap<>();
  private final Map<String, int[]> shapes = new LinkedHashMap<>();
  private final int cases;

  private GoldenFile(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int headerLength = Math.toIntExact(buf.getLong(0));
    String header = new String(bytes, 8, headerLength, StandardCharsets.UTF_8);
    int base = 8 + headerLength;
    Matcher m = ENTRY.matcher(header);
    while (m.find()) {
      String dtype = m.group(2);
      String dims = m.group(3).replace(" ", "");
      int[] shape = dims.isEmpty() ? new int[0]
          : java.util.Arrays.stream(dims.split(",")).mapToInt(Integer::parseInt).toArray();
      int start = base + Integer.parseInt(m.group(4));
      int end = base + Integer.parseInt(m.group(5));
      int width = dtype.equals("F32") ? 4 : 8;
      double[] v = new double[(end - start) / width];
      for (int i = 0; i < v.length; i++) {
        int at = start + i * width;
        v[i] = switch (dtype) {
          case "F32" -> buf.getFloat(at);
          case "F64" -> buf.getDouble(at);
          default -> buf.getLong(at);
        };
      }
      values.put(m.group(1), v);
      shapes.put(m.group(1), shape);
    }
    Matcher c = CASES.matcher(header);
    if (!c.find()) {
      throw new IllegalStateException("golden file has no \"cases\" metadata");
    }
    cases = Integer.parseInt(c.group(1));
  }

  /** Loads {@code golden/loss_optim/<name>.safetensors} from the test resources. */
  public static GoldenFile load(String name) {
    String path = "/golden/loss_optim/" + name + ".safetensors";
    try (InputStream in = GoldenFile.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + path);
      }
      return new GoldenFile(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The number of cases the generator wrote (its {@code cases} metadata). */
  public int cases() {
    return cases;
  }

  /** All entry names, in file order. */
  public Set<String> keys() {
    return values.keySet();
  }

  public boolean has(String key) {
    return values.containsKey(key);
  }

  public double[] doubles(String key) {
    double[] v = values.get(key);
    if (v == null) {
      throw new IllegalArgumentException("no golden entry " + key);
    }
    return v.clone();
  }

  public double scalar(String key) {
    double[] v = doubles(key);
    if (v.length != 1) {
      throw new IllegalArgumentException(key + " is not a scalar");
    }
    return v[0];
  }

  public boolean flag(String key) {
    return scalar(key) != 0;
  }

  public int[] ints(String key) {
    return java.util.Arrays.stream(doubles(key)).mapToInt(d -> (int) d).toArray();
  }

  public int[] shape(String key) {
    doubles(key);
    return shapes.get(key).clone();
  }

  /** The entry as a float tensor (exact for F32 entries). */
  public Tensor tensor(String key) {
    double[] v = doubles(key);
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    return Tensor.of(f, shape(key));
  }
}
