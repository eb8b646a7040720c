package dev.kiln.nn;

import dev.kiln.tensor.Tensor;
import java.util.Arrays;

/**
 * Weight folding used when a network is fused for deployment: a conv and its BatchNorm into one conv
 * ({@link #foldInto}), a RepVGG block's three branches into one kxk conv ({@link RepVggBlock#fuseInto}).
 */
public final class Fusion {
  private Fusion() {}

  /**
   * Writes {@code conv} followed by {@code bn} (may be {@code null}) into {@code target}, a kernel of the same
   * geometry with a bias (without one when neither has a bias to fold): {@code W' = W * s},
   * {@code b' = (b - running_mean) * s + beta} with {@code s = gamma / sqrt(running_var + eps)}; without BatchNorm the weights are copied (bias 0 if the conv
   * has none). Equal to conv-then-BN in eval mode. Computed in double.
   */
  public static void foldInto(ConvKernel conv, BatchNorm2d bn, ConvKernel target) {
    Tensor weight = conv.weight().data();
    int out = weight.dim(0);
    int per = weight.size() / out;
    if (!Arrays.equals(target.weight().data().shape(), weight.shape())) {
      throw new IllegalArgumentException("fusion target must have weight shape " + Tensor.shapeString(weight.shape())
          + " but has " + Tensor.shapeString(target.weight().data().shape()));
    }
    if (target.bias() == null && (bn != null || conv.bias() != null)) {
      throw new IllegalArgumentException("fusion target must have a bias");
    }
    float[] w = weight.data();
    // Written straight into the target's own arrays (fresh arrays and a copy made the fusion of a large
    // network allocate its weights twice more, most of its time in a cold JVM).
    float[] fw = target.weight().data().data();
    float[] fb = target.bias() == null ? null : target.bias().data().data();
    for (int o = 0; o < out; o++) {
      double bias = conv.bias() == null ? 0.0 : conv.bias().data().data()[o];
      double scale = 1.0;
      double shift = 0.0;
      if (bn != null) {
        scale = bn.foldedScale(o);
        shift = bn.foldedShift(o);
      }
      scaleInto(w, fw, o * per, (o + 1) * per, scale);
      if (fb != null) {
        fb[o] = (float) (bias * scale + shift);
      }
    }
    target.weight().markChanged();
    if (target.bias() != null) {
      target.bias().markChanged();
    }
    target.train(false);
  }

  /**
   * Writes the folded deploy weights of a RepVGG {@code block} into {@code target} (a kxk kernel with bias and
   * the block's geometry): each branch kernel scaled by its BatchNorm's {@code gamma / sqrt(running_var + eps)}, biases
   * {@code beta - running_mean * gamma / sqrt(running_var + eps)}, the 1x1 kernel zero-padded to kxk at the
   * centre, and the identity as {@code K[i, i % (C/groups), k/2, k/2] = 1} (right for grouped and depthwise
   * blocks). Computed in double.
   */
  static void foldBranchesInto(RepVggBlock block, ConvKernel target) {
    ConvKernel denseConv = block.denseConv();
    ConvKernel pointwiseConv = block.pointwiseConv();
    BatchNorm2d denseBn = block.denseBn;
    BatchNorm2d pointwiseBn = block.pointwiseBn;
    BatchNorm2d identityBn = block.identityBn;
    boolean identity = block.hasIdentity();
    int[] ws = denseConv.weight().data().shape();
    int out = ws[0];
    int inPerGroup = ws[1];
    int k = ws[2];
    int area = k * k;
    int centre = (k / 2) * k + k / 2;
    int perChannel = inPerGroup * area;
    if (!Arrays.equals(target.weight().data().shape(), ws) || target.bias() == null) {
      throw new IllegalArgumentException("fusion target must have a bias and weight shape "
          + Tensor.shapeString(ws) + " but has " + Tensor.shapeString(target.weight().data().shape()));
    }
    // Each weight is summed in double over the branches (dense, then 1x1 at the centre tap, then the
    // identity's one-hot) and rounded once, written straight into the target.
    double[] dense = scale(denseBn, out);
    double[] pointwise = scale(pointwiseBn, out);
    double[] ident = identity ? scale(identityBn, out) : null;
    float[] wd = denseConv.weight().data().data();
    float[] wp = pointwiseConv.weight().data().data();
    float[] w = target.weight().data().data();
    for (int o = 0; o < out; o++) {
      double s = dense[o];
      int base = o * perChannel;
      startSumInto(wd, w, base, base + perChannel, s);
      centreTapsInto(wd, wp, w, base + centre, area, o * inPerGroup, inPerGroup, s, pointwise[o],
          ident != null ? o % inPerGroup : -1, ident != null ? ident[o] : 0.0);
    }
    double[] bias = new double[out];
    addShift(bias, denseBn, denseConv);
    addShift(bias, pointwiseBn, pointwiseConv);
    if (identity && identityBn != null) {
      addShift(bias, identityBn, null);
    }
    float[] b = target.bias().data().data();
    for (int o = 0; o < out; o++) {
      b[o] = (float) bias[o];
    }
    target.weight().markChanged();
    target.bias().markChanged();
  }

  /**
   * {@code dst[i] = (float) (src[i] * s)} over {@code [from, to)}: one output channel's weights. A method of its own,
   * called once per channel, so that the JIT compiles it from its calls: as a loop inside the per-layer method it
   * ran interpreted until an on-stack replacement compiled it, which a fresh JVM busy compiling other code gave
   * late (MobileNet v1's fusion took 40-140 ms in fresh JVMs, by when that happened).
   */
  private static void scaleInto(float[] src, float[] dst, int from, int to, double s) {
    for (int i = from; i < to; i++) {
      dst[i] = (float) (src[i] * s);
    }
  }

  /**
   * {@code dst[i] = (float) (0.0 + src[i] * s)} over {@code [from, to)}: a branch sum's first term (from zero, so a
   * negative zero product gives positive zero, as the sum over the branches does); see {@link #scaleInto}.
   */
  private static void startSumInto(float[] src, float[] dst, int from, int to, double s) {
    for (int i = from; i < to; i++) {
      dst[i] = (float) (0.0 + src[i] * s);
    }
  }

  /**
   * One output channel's centre taps: {@code w[i] = (float) (0.0 + wd[i] * s + wp[p + c] * ps (+ identity))} for
   * input channel {@code c < count} at {@code i = first + c * area}, the identity's {@code id} added at input
   * channel {@code identity} (none if negative). A method of its own, called once per channel, for the reason
   * {@link #scaleInto} gives: as a loop in {@link #foldBranchesInto} it ran interpreted for most of RepVGG-A0's
   * fusion in a fresh JVM (JFR: 35 of 119 samples of the fusion in that loop, interpreted, over eight cold starts).
   */
  private static void centreTapsInto(float[] wd, float[] wp, float[] w, int first, int area, int p, int count,
      double s, double ps, int identity, double id) {
    for (int c = 0; c < count; c++) {
      int i = first + c * area;
      double v = 0.0 + wd[i] * s;
      v += wp[p + c] * ps;
      if (c == identity) {
        v += id;
      }
      w[i] = (float) v;
    }
  }

  /** {@code gamma / sqrt(running_var + eps)} per channel, or ones without BatchNorm. */
  private static double[] scale(BatchNorm2d bn, int channels) {
    double[] s = new double[channels];
    for (int c = 0; c < channels; c++) {
      s[c] = bn == null ? 1.0 : bn.foldedScale(c);
    }
    return s;
  }

  /** Adds a branch's bias: the BatchNorm's folded shift, else the conv's own bias. */
  private static void addShift(double[] bias, BatchNorm2d bn, ConvKernel conv) {
    for (int c = 0; c < bias.length; c++) {
      if (bn != null) {
        bias[c] += bn.foldedShift(c);
      } else if (conv != null && conv.bias() != null) {
        bias[c] += conv.bias().data().data()[c];
      }
    }
  }

  /** Copies every state entry of {@code source} into {@code target} (same keys and shapes) and sets eval mode. */
  public static void copyState(Module source, Module target) {
    if (source == target) {
      throw new IllegalArgumentException("cannot copy a module's state into itself");
    }
    target.loadStateDict(source.stateDict());
    target.train(false);
  }
}
