package dev.kiln.tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * A dense, row-major, contiguous {@code float} tensor. The data array is shared, not copied: a tensor is a
 * shape laid over a buffer, so kernels can read and write it without copies.
 */
public final class Tensor {
  private final float[] data;
  private final int[] shape;

  private Tensor(float[] data, int[] shape) {
    this.data = data;
    this.shape = shape;
  }

  /**
   * Wraps {@code data} (not copied) with the given shape.
   *
   * @throws IllegalArgumentException if a dimension is negative or the element count differs from {@code data.length}
   */
  public static Tensor of(float[] data, int... shape) {
    Objects.requireNonNull(data, "data");
    int[] s = shape.clone();
    long n = numel(s);
    if (n != data.length) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(s) + " needs " + n + " elements but data has " + data.length);
    }
    return new Tensor(data, s);
  }

  /** A new tensor of zeros. */
  public static Tensor zeros(int... shape) {
    int[] s = shape.clone();
    long n = numel(s);
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("shape " + Arrays.toString(s) + " has too many elements: " + n);
    }
    return new Tensor(new float[(int) n], s);
  }

  /** A scalar (shape {@code []}). */
  public static Tensor scalar(float value) {
    return new Tensor(new float[] {value}, new int[0]);
  }

  private static long numel(int[] shape) {
    boolean empty = false;
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      empty |= d == 0;
    }
    if (empty) {
      return 0; // whatever the other dimensions, as in PyTorch (a [65536, 65536, 0] tensor is empty)
    }
    long n = 1;
    for (int d : shape) {
      n *= d;
      if (n > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than 2^31 elements");
      }
    }
    return n;
  }

  /** A copy of the shape. */
  public int[] shape() {
    return shape.clone();
  }

  /** The size of dimension {@code i}; negative indices count from the end. */
  public int dim(int i) {
    return shape[i < 0 ? shape.length + i : i];
  }

  /** The number of dimensions. */
  public int rank() {
    return shape.length;
  }

  /** The backing array (row-major, contiguous); writes are visible through this tensor. */
  public float[] data() {
    return data;
  }

  /** The number of elements. */
  public int size() {
    return data.length;
  }

  /** The same data viewed with another shape of equal element count. */
  public Tensor reshape(int... newShape) {
    return of(data, newShape);
  }

  /** A deep copy. */
  public Tensor copy() {
    return new Tensor(data.clone(), shape.clone());
  }

  /** Whether the shape equals {@code other}. */
  public boolean hasShape(int... other) {
    return Arrays.equals(shape, other);
  }

  /** Sets every element to {@code value}. */
  public Tensor fill(float value) {
    Arrays.fill(data, value);
    return this;
  }

  /**
   * The largest {@code |this[i] - other[i]|}, computed in {@code double}; NaN if either tensor holds a NaN.
   *
   * @throws IllegalArgumentException if the shapes differ
   */
  public double maxAbsDifference(Tensor other) {
    checkShape("other", other, shape);
    double max = 0;
    for (int i = 0; i < data.length; i++) {
      max = Math.max(max, Math.abs((double) data[i] - other.data[i]));
    }
    return max;
  }

  /** {@code [2, 3, 4]}. */
  public static String shapeString(int... shape) {
    return Arrays.toString(shape);
  }

  /**
   * Throws an {@link IllegalArgumentException} naming both shapes unless {@code t} has {@code expected}.
   *
   * @param what what the tensor is, e.g. "input"
   */
  public static void checkShape(String what, Tensor t, int... expected) {
    Objects.requireNonNull(t, what);
    if (!Arrays.equals(t.shape, expected)) {
      throw new IllegalArgumentException(
          what + ": expected shape " + Arrays.toString(expected) + " but got " + Arrays.toString(t.shape));
    }
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Tensor").append(Arrays.toString(shape)).append(' ');
    int n = Math.min(data.length, 8);
    sb.append('[');
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(data[i]);
    }
    if (data.length > n) {
      sb.append(", ...");
    }
    return sb.append(']').toString();
  }
}
