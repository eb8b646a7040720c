package dev.kiln.io;

import dev.kiln.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What one safetensors read may allocate, and optionally which tensors it expects.
 *
 * <p><b>The limit.</b> A read is charged {@value #HEADER_BYTE_COST} bytes per header byte and 4 bytes per
 * tensor element (every element becomes a {@code float}); the total must stay within {@link #maxBytes()},
 * which is {@link #DEFAULT_MAX_BYTES} (1 GiB) unless raised with {@link #withMaxBytes(long)}. Both parts are
 * checked before anything is allocated for them, so a small (for example sparse) file that declares huge
 * tensors or a huge header fails with an {@link java.io.IOException} instead of exhausting memory. The
 * header's charge covers its bytes, its text and its parsed form: parsing counts an estimate of the size of
 * every object, array, string and integer it builds, and a header whose parsed form would take more than
 * its charge (one made of unusually many small values) is refused as it is parsed. Typical headers take
 * 10 to 14 bytes per header byte.
 *
 * <p><b>Expectations.</b> With {@link #expecting(Map)} the file must hold exactly the given tensor names
 * with the given shapes (any order); a missing, unexpected or differently shaped tensor is an
 * {@link java.io.IOException} raised after the header is read and before any tensor data is allocated.
 */
public final class ReadOptions {
  /** The default limit on what one read may allocate: 1 GiB. */
  public static final long DEFAULT_MAX_BYTES = 1L << 30;
  /** Bytes one header byte is charged against the limit: its byte, its text and its parsed form. */
  public static final int HEADER_BYTE_COST = 24;

  private static final ReadOptions DEFAULTS = new ReadOptions(DEFAULT_MAX_BYTES, null);

  private final long maxBytes;
  private final Map<String, int[]> expected;

  private ReadOptions(long maxBytes, Map<String, int[]> expected) {
    this.maxBytes = maxBytes;
    this.expected = expected;
  }

  /** The default limit, no expectations. */
  public static ReadOptions defaults() {
    return DEFAULTS;
  }

  /**
   * A copy with another limit on what one read may allocate.
   *
   * @throws IllegalArgumentException if {@code maxBytes} is not positive
   */
  public ReadOptions withMaxBytes(long maxBytes) {
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be >= 1 but was " + maxBytes);
    }
    return new ReadOptions(maxBytes, expected);
  }

  /** A copy that expects exactly the tensors named in {@code shapes}, with those shapes. */
  public ReadOptions expecting(Map<String, int[]> shapes) {
    Map<String, int[]> copy = new LinkedHashMap<>();
    for (Map.Entry<String, int[]> e : shapes.entrySet()) {
      String name = Objects.requireNonNull(e.getKey(), "name");
      int[] shape = e.getValue();
      if (shape == null) {
        throw new NullPointerException("shape of " + name);
      }
      copy.put(name, shape.clone());
    }
    return new ReadOptions(maxBytes, Collections.unmodifiableMap(copy));
  }

  /** A copy that expects exactly the tensors of {@code like} (a state dict, say), with their shapes. */
  public ReadOptions expectingShapesOf(Map<String, ? extends Tensor> like) {
    Map<String, int[]> shapes = new LinkedHashMap<>();
    for (Map.Entry<String, ? extends Tensor> e : like.entrySet()) {
      shapes.put(e.getKey(), e.getValue().shape());
    }
    return expecting(shapes);
  }

  /** What one read may allocate, in bytes. */
  public long maxBytes() {
    return maxBytes;
  }

  /** The expected shapes by name (unmodifiable; the arrays must not be changed), or {@code null} for any. */
  Map<String, int[]> expected() {
    return expected;
  }

  @Override
  public String toString() {
    return "ReadOptions{maxBytes=" + maxBytes + (expected == null ? "" : ", expecting=" + expected.keySet()) + "}";
  }
}
