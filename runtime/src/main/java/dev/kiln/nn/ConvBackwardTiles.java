package dev.kiln.nn;

import dev.kiln.tensor.Tensor;

/**
 * One backward pass of a {@link ConvKernel}, run tile by tile ({@link ConvKernel#backwardTiles}): each tile of
 * at most {@link ConvKernel#BACKWARD_TILE} samples gets its input gradient and its weight and bias gradients
 * while its output gradient is in cache, from the kernel's engine when it has one, else from the generated
 * loops. With more than one chunk, each chunk adds its parameter gradients to a partial of its own, summed
 * into the parameters' gradients in chunk order by {@link #finish()}.
 */
final class ConvBackwardTiles {
  private final ConvKernel kernel;
  private final float[] x;
  private final float[] gy;
  private final ConvEngine.Weights pw;
  private final Tensor gradInput;
  private final float[] gx;
  private final float[] gw;
  private final float[] gb;
  private final float[][] partialW;
  private final float[][] partialB;

  ConvBackwardTiles(ConvKernel kernel, Tensor input, float[] gy, boolean inputGradient, int chunks) {
    this.kernel = kernel;
    ConvEngine engine = kernel.engine();
    int[] inShape = kernel.inShape;
    int n = input.dim(0);
    this.x = input.data();
    this.gy = gy;
    this.pw = inputGradient && engine != null && engine.hasBackwardInput()
        ? engine.backwardInputWeights(kernel.weight()) : null;
    // The engine writes each sample's input gradient; the generated loops add to zeros.
    this.gradInput = !inputGradient ? null : pw != null
        ? kernel.buffer(ConvKernel.GRAD_INPUT, n, inShape[0], inShape[1], inShape[2])
        : kernel.zeroedBuffer(ConvKernel.GRAD_INPUT, n, inShape[0], inShape[1], inShape[2]);
    this.gx = inputGradient ? gradInput.data() : null;
    this.gw = kernel.weight().grad().data();
    this.gb = kernel.bias() == null ? null : kernel.bias().grad().data();
    if (chunks > 1) {
      partialW = new float[chunks][];
      partialB = new float[chunks][];
      for (int c = 0; c < chunks; c++) {
        partialW[c] = kernel.zeroedBuffer(ConvKernel.PARTIAL_GRADS + 2 * c, gw.length).data();
        partialB[c] = gb == null ? null : kernel.zeroedBuffer(ConvKernel.PARTIAL_GRADS + 2 * c + 1, gb.length).data();
      }
    } else {
      partialW = null;
      partialB = null;
    }
  }

  /** The number of chunks. */
  int chunks() {
    return partialW == null ? 1 : partialW.length;
  }

  /** The input gradient being written ({@code null} without one). */
  float[] inputGradient() {
    return gx;
  }

  /**
   * Samples {@code [start, end)} of chunk {@code chunk}, in tiles of {@link ConvKernel#BACKWARD_TILE} from
   * {@code start}.
   */
  void run(int chunk, int start, int end) {
    for (int t = start; t < end; t += ConvKernel.BACKWARD_TILE) {
      tile(chunk, t, Math.min(end, t + ConvKernel.BACKWARD_TILE));
    }
  }

  /** Samples {@code [start, end)}, at most {@link ConvKernel#BACKWARD_TILE} of them, of chunk {@code chunk}. */
  void tile(int chunk, int start, int end) {
    if (partialW == null) {
      backwardTile(pw, x, gy, gx, start, end, gw, gb);
    } else {
      backwardTile(pw, x, gy, gx, start, end, partialW[chunk], partialB[chunk]);
    }
  }

  /** Adds the chunks' partial gradients in chunk order; the input gradient tensor, or null. */
  Tensor finish() {
    if (partialW != null) {
      for (int c = 0; c < partialW.length; c++) {
        float[] partW = partialW[c];
        for (int j = 0; j < gw.length; j++) {
          gw[j] += partW[j];
        }
        if (gb != null) {
          float[] pb = partialB[c];
          for (int j = 0; j < gb.length; j++) {
            gb[j] += pb[j];
          }
        }
      }
    }
    return gradInput;
  }

  /**
   * Adds the input gradients of samples {@code [start, end)} (one tile) to {@code gx} (unless it is null)
   * and their parameter gradients to {@code gw}, {@code gb}; the tile's output gradient is read by both
   * passes while it is in cache.
   */
  private void backwardTile(ConvEngine.Weights pw, float[] x, float[] gy, float[] gx, int start, int end,
      float[] gw, float[] gb) {
    ConvEngine engine = kernel.engine();
    int inSize = kernel.inSize;
    int outSize = kernel.outSize;
    for (int i = start; gx != null && i < end; i++) {
      if (pw != null) {
        engine.backwardInput(pw, gy, i * outSize, gx, i * inSize);
      } else {
        kernel.backwardInputSample(gy, i * outSize, gx, i * inSize);
      }
    }
    if (engine != null && engine.hasBackwardWeight()) {
      engine.backwardWeight(x, inSize, gy, outSize, start, end, gw, gb);
    } else {
      for (int i = start; i < end; i++) {
        kernel.backwardWeightSample(x, i * inSize, gy, i * outSize, gw, gb);
      }
    }
  }
}
