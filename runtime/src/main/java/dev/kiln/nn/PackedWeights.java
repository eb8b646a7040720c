package dev.kiln.nn;

/**
 * A copy of a weight parameter, viewed as a {@code [rows, cols]} matrix, split into one float array per row
 * ({@link #rows}) or per column ({@link #columns}). Loops that run along one of these arrays at the loop index
 * have the form HotSpot's auto-vectorizer needs (for example the loops of {@link Linear} over the output
 * features). The copy is rebuilt when the parameter's {@link Parameter#version() version} moves (see
 * {@link Parameter#markChanged()}); safe to use from many threads at once. Public for the generated code.
 */
public final class PackedWeights {
  /** Columns at a time that the transposition writes while reading each row once (cache blocking). */
  private static final int BLOCK = 64;

  private final Parameter weight;
  private final int rows;
  private final int cols;
  private final boolean transpose;
  private volatile Snapshot snapshot;

  /** One copy and the version it was made from. */
  private record Snapshot(long version, float[][] arrays) {}

  private PackedWeights(Parameter weight, int rows, int cols, boolean transpose) {
    if (rows <= 0 || cols <= 0 || (long) rows * cols != weight.data().size()) {
      throw new IllegalArgumentException("weight " + weight + " has " + weight.data().size()
          + " values, not " + rows + " x " + cols);
    }
    this.weight = weight;
    this.rows = rows;
    this.cols = cols;
    this.transpose = transpose;
  }

  /**
   * The columns: {@code arrays()[k][r] == weight[r, k]}.
   *
   * @throws IllegalArgumentException if the parameter does not have {@code rows * cols} values
   */
  public static PackedWeights columns(Parameter weight, int rows, int cols) {
    return new PackedWeights(weight, rows, cols, true);
  }

  /**
   * The rows: {@code arrays()[r][k] == weight[r, k]}.
   *
   * @throws IllegalArgumentException if the parameter does not have {@code rows * cols} values
   */
  public static PackedWeights rows(Parameter weight, int rows, int cols) {
    return new PackedWeights(weight, rows, cols, false);
  }

  /** The arrays of the current weights. Do not modify them. */
  public float[][] arrays() {
    long version = weight.version();
    Snapshot s = snapshot;
    if (s == null || s.version() != version) {
      float[] w = weight.data().data();
      s = new Snapshot(version, transpose ? transpose(w) : split(w));
      snapshot = s;
    }
    return s.arrays();
  }

  private float[][] split(float[] w) {
    float[][] out = new float[rows][];
    for (int r = 0; r < rows; r++) {
      out[r] = java.util.Arrays.copyOfRange(w, r * cols, (r + 1) * cols);
    }
    return out;
  }

  private float[][] transpose(float[] w) {
    float[][] columns = new float[cols][rows];
    for (int k0 = 0; k0 < cols; k0 += BLOCK) {
      int k1 = Math.min(cols, k0 + BLOCK);
      for (int r = 0; r < rows; r++) {
        int row = r * cols;
        for (int k = k0; k < k1; k++) {
          columns[k][r] = w[row + k];
        }
      }
    }
    return columns;
  }
}
