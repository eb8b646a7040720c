package dev.kiln.loss;

import dev.kiln.tensor.Tensor;

/** What the loss tests compute on the side. */
final class LossTesting {
  private LossTesting() {}

  /** Row-wise log-softmax of {@code z [N, C]}, each row in double as the losses take it, stored as float. */
  static Tensor logSoftmax(Tensor z) {
    int n = z.dim(0);
    int c = z.dim(1);
    float[] out = new float[n * c];
    double[] row = new double[c];
    for (int i = 0; i < n; i++) {
      LossChecks.logSoftmaxRow(z.data(), i, c, row);
      for (int j = 0; j < c; j++) {
        out[i * c + j] = (float) row[j];
      }
    }
    return Tensor.of(out, n, c);
  }
}
