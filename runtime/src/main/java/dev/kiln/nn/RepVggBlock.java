package dev.kiln.nn;

import dev.kiln.annotation.Activation;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The training form of a RepVGG block, the base of every generated {@code FooBlock}:
 * {@code act(bn_dense(conv_kxk(x)) + bn_1x1(conv_1x1(x)) + bn_identity(x))}, the identity branch present iff
 * in == out and stride 1. With {@code batchNorm = false} each branch is a conv with bias and the identity is
 * {@code x} itself.
 *
 * <p>State-dict keys are the official RepVGG names ({@code rbr_identity.*}, {@code rbr_dense.conv.weight},
 * {@code rbr_dense.bn.*}, {@code rbr_1x1.conv.weight}, {@code rbr_1x1.bn.*}; without BatchNorm
 * {@code rbr_dense.weight/bias} and {@code rbr_1x1.weight/bias}), so a PyTorch RepVGG block's
 * {@code state_dict()} loads as it is.
 *
 * <p>{@link #fuseInto(ConvKernel)} folds the three branches into one kxk convolution. The fused kernel equals
 * the block in <em>eval</em> mode only: in training mode BatchNorm uses batch statistics, which no fixed
 * kernel can reproduce.
 */
public abstract class RepVggBlock extends AbstractModule {
  /** Training buffers ({@link #buffer}): the activation-masked output gradient, the output (with BatchNorm). */
  private static final int MASKED_GRAD = 0;
  private static final int OUTPUT = 1;

  private final ConvKernel denseConv;
  private final ConvKernel pointwiseConv;
  private final BatchNorm2d denseBn;
  private final BatchNorm2d pointwiseBn;
  private final BatchNorm2d identityBn;
  private final boolean identity;
  private final Activation activation;
  private final int[] inShape;
  private final int[] outShape;
  private final int groups;
  private final SavedForBackward<Tensor> savedOutput = savedForBackward();
  private final PlaneLoops planeLoops = PlaneLoops.get();
  /** The branches' batch-statistics moments, taken in a training forward as each sample's planes are written. */
  private final PlaneMoments denseMoments;
  private final PlaneMoments pointwiseMoments;
  private final PlaneMoments identityMoments;
  /** The BatchNorms' gradient sums of one backward ({@link #maskedGradientWithSums}). */
  private final double[][][] gradientSums;
  /** Each plane's gradient sums for every BatchNorm, in sample order ({@link #maskedGradientWithSums}). */
  private double[] planeSums = new double[0];

  /**
   * @param denseConv the kxk branch kernel (padding k/2, no activation; a bias iff no BatchNorm)
   * @param pointwiseConv the 1x1 branch kernel (padding 0, same stride and groups)
   * @param batchNorm whether each branch ends in a BatchNorm
   * @param identity whether the identity branch exists
   * @param activation applied after the sum
   * @param inShape {@code {C, H, W}} of one input sample
   * @param outShape {@code {C, H, W}} of one output sample
   * @param groups the convolution groups
   */
  protected RepVggBlock(ConvKernel denseConv, ConvKernel pointwiseConv, boolean batchNorm, boolean identity,
      Activation activation, int[] inShape, int[] outShape, int groups) {
    this.denseConv = denseConv;
    this.pointwiseConv = pointwiseConv;
    this.identity = identity;
    this.activation = activation;
    this.inShape = inShape.clone();
    this.outShape = outShape.clone();
    this.groups = groups;
    if (batchNorm) {
      identityBn = identity ? registerModule("rbr_identity", new BatchNorm2d(inShape[0])) : null;
      denseBn = new BatchNorm2d(outShape[0]);
      pointwiseBn = new BatchNorm2d(outShape[0]);
      registerModule("rbr_dense", new ConvBn(denseConv, denseBn));
      registerModule("rbr_1x1", new ConvBn(pointwiseConv, pointwiseBn));
      denseMoments = new PlaneMoments(outShape[0]);
      pointwiseMoments = new PlaneMoments(outShape[0]);
      identityMoments = identity ? new PlaneMoments(inShape[0]) : null;
      gradientSums = new double[3][2][outShape[0]];
    } else {
      identityBn = null;
      denseBn = null;
      pointwiseBn = null;
      registerModule("rbr_dense", denseConv);
      registerModule("rbr_1x1", pointwiseConv);
      denseMoments = null;
      pointwiseMoments = null;
      identityMoments = null;
      gradientSums = null;
    }
  }

  /** Whether the block has BatchNorm in its branches. */
  public final boolean hasBatchNorm() {
    return denseBn != null;
  }

  /** Whether the identity branch exists. */
  public final boolean hasIdentity() {
    return identity;
  }

  /** The kxk branch's convolution. */
  public final ConvKernel denseConv() {
    return denseConv;
  }

  /** The 1x1 branch's convolution. */
  public final ConvKernel pointwiseConv() {
    return pointwiseConv;
  }

  /** {@code {C, H, W}} of one output sample. */
  public final int[] outputShape() {
    return outShape.clone();
  }

  @Override
  public Tensor forward(Tensor input) {
    LayerShapes.requireSamples("input", input, inShape[0], inShape[1], inShape[2]);
    Tensor out;
    boolean relu = activation == Activation.RELU;
    if (denseBn != null) {
      out = forwardBatchNorm(input, relu);
    } else {
      // The dense conv's output is not needed by its own backward, so the sum is built in it.
      out = denseConv.forward(input);
      float[] y = out.data();
      float[] p = pointwiseConv.forward(input).data();
      float[] id = identity ? input.data() : null;
      Elementwise.forRange(y.length, (start, end) -> sum(y, p, id, relu, start, end));
    }
    savedOutput.set(isTraining() ? out : null);
    return out;
  }

  /**
   * The branches with BatchNorm in one pass: each BatchNorm computes its statistics and per-channel map
   * ({@link BatchNorm2d#affine}, which also updates the running statistics and saves what its backward
   * needs), and one loop writes {@code act((bn_d(x_d) + bn_p(x_p)) + bn_i(x))}, each map rounded to float as
   * {@code BatchNorm2d.forward} would, without materializing the three BatchNorm outputs. In training, when
   * the batch covers the threads, the two convolutions run sample by sample and take each plane's moments
   * as it is written ({@link #forwardSamples}); the statistics are the same to the bit either way.
   */
  private Tensor forwardBatchNorm(Tensor input, boolean relu) {
    int n = input.dim(0);
    Tensor xd;
    Tensor xp;
    float[][] md;
    float[][] mp;
    float[][] mi;
    if (isTraining() && (Parallel.threads() <= 1 || n >= Parallel.threads())) {
      // Sample by sample: both convs read the sample while it is in cache, and each plane's moments for
      // the batch statistics are taken as it is written.
      xd = denseConv.outputBuffer(n);
      xp = pointwiseConv.outputBuffer(n);
      forwardSamples(input, xd, xp);
      md = denseBn.affine(xd, denseMoments);
      mp = pointwiseBn.affine(xp, pointwiseMoments);
      mi = identityBn != null ? identityBn.affine(input, identityMoments) : null;
    } else {
      xd = denseConv.forward(input);
      xp = pointwiseConv.forward(input);
      md = denseBn.affine(xd);
      mp = pointwiseBn.affine(xp);
      mi = identityBn != null ? identityBn.affine(input) : null;
    }
    int channels = outShape[0];
    int area = outShape[1] * outShape[2];
    Tensor out = buffer(OUTPUT, n, channels, outShape[1], outShape[2]);
    float[] y = out.data();
    float[] d = xd.data();
    float[] p = xp.data();
    float[] x = input.data();
    Parallel.RangeBody planes = (start, end) -> {
      for (int plane = start; plane < end; plane++) {
        int c = plane % channels;
        int from = plane * area;
        int to = from + area;
        planeLoops.branchSum(d, md[0][c], md[1][c], p, mp[0][c], mp[1][c], mi == null ? null : x,
            mi == null ? 0f : mi[0][c], mi == null ? 0f : mi[1][c], relu, y, from, to);
      }
    };
    if (Parallel.worthSplitting(y.length, Parallel.MIN_ELEMENTS, (long) n * channels)) {
      Parallel.forRange(n * channels, planes);
    } else {
      planes.run(0, n * channels);
    }
    return out;
  }

  /** Both convolutions of a training forward, sample by sample, with the moments of every plane. */
  private void forwardSamples(Tensor input, Tensor xd, Tensor xp) {
    int n = input.dim(0);
    int inArea = inShape[1] * inShape[2];
    int outArea = outShape[1] * outShape[2];
    int inSize = inShape[0] * inArea;
    int outSize = outShape[0] * outArea;
    float[] x = input.data();
    float[] d = xd.data();
    float[] p = xp.data();
    ConvEngine.Weights wd = denseConv.forwardWeights();
    ConvEngine.Weights wp = pointwiseConv.forwardWeights();
    denseMoments.resize(n);
    pointwiseMoments.resize(n);
    if (identityMoments != null) {
      identityMoments.resize(n);
    }
    Parallel.RangeBody samples = (start, end) -> {
      double[] work = new double[2];
      for (int i = start; i < end; i++) {
        denseConv.forwardOne(wd, x, i, d);
        pointwiseConv.forwardOne(wp, x, i, p);
        denseMoments.record(planeLoops, d, i * outSize, i, outArea, work);
        pointwiseMoments.record(planeLoops, p, i * outSize, i, outArea, work);
        if (identityMoments != null) {
          identityMoments.record(planeLoops, x, i * inSize, i, inArea, work);
        }
      }
    };
    long macs = (denseConv.macsPerSample() + pointwiseConv.macsPerSample()) * n;
    if (Parallel.worthSplitting(macs, Parallel.MIN_MACS)) {
      Parallel.forRange(n, samples);
    } else {
      samples.run(0, n);
    }
    denseConv.saveForBackward(input, xd);
    pointwiseConv.saveForBackward(input, xp);
  }

  /**
   * {@code acc = act((acc + a) + b)} over {@code [start, end)}, {@code b} may be null; ReLU is
   * {@code Math.max(v, 0f)} (branch-free; NaN stays NaN).
   */
  private static void sum(float[] acc, float[] a, float[] b, boolean relu, int start, int end) {
    if (b == null && relu) {
      for (int i = start; i < end; i++) {
        acc[i] = Math.max(acc[i] + a[i], 0f);
      }
    } else if (b == null) {
      for (int i = start; i < end; i++) {
        acc[i] = acc[i] + a[i];
      }
    } else if (relu) {
      for (int i = start; i < end; i++) {
        acc[i] = Math.max(acc[i] + a[i] + b[i], 0f);
      }
    } else {
      for (int i = start; i < end; i++) {
        acc[i] = acc[i] + a[i] + b[i];
      }
    }
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    if (denseBn != null) {
      return backwardWithBatchNorm(gradOutput, true);
    }
    Tensor g = maskedGradient(gradOutput);
    // The dense branch's input gradient is this step's own tensor: the sum is built in it.
    Tensor gx = denseConv.backward(g);
    addBranches(gx, pointwiseConv.backward(g), identity ? g : null);
    return gx;
  }

  /** The branches' parameter gradients only: no branch computes an input gradient. */
  @Override
  public void backwardParameters(Tensor gradOutput) {
    if (denseBn != null) {
      backwardWithBatchNorm(gradOutput, false);
      return;
    }
    Tensor g = maskedGradient(gradOutput);
    denseConv.backwardParameters(g);
    pointwiseConv.backwardParameters(g);
  }

  /**
   * The backward with BatchNorm, or (without {@code inputGradient}) its parameter gradients only; returns the
   * input gradient or null. In tiles ({@link #backwardInTiles}), except when exactly one of the two
   * convolutions would split its own backward over the pool: then module by module.
   */
  private Tensor backwardWithBatchNorm(Tensor gradOutput, boolean inputGradient) {
    Tensor g = maskedGradientWithSums(gradOutput);
    if (runsInTiles(n())) {
      return backwardInTiles(g, inputGradient);
    }
    double[][][] sums = gradientSums;
    Tensor gd = denseBn.backward(g, true, sums[0]);
    Tensor gp = pointwiseBn.backward(g, true, sums[1]);
    Tensor gi = identityBn == null ? null : identityBn.backward(g, inputGradient, sums[2]);
    if (!inputGradient) {
      denseConv.backwardParameters(gd);
      pointwiseConv.backwardParameters(gp);
      return null;
    }
    Tensor gx = denseConv.backward(gd);
    addBranches(gx, pointwiseConv.backward(gp), gi);
    return gx;
  }

  /** {@code acc += p (+ i)}, element-wise, split over the pool when large; {@code i} may be null. */
  private static void addBranches(Tensor acc, Tensor p, Tensor i) {
    float[] a = acc.data();
    float[] pv = p.data();
    float[] iv = i == null ? null : i.data();
    Elementwise.forRange(a.length, (start, end) -> sum(a, pv, iv, false, start, end));
  }

  /**
   * Whether a backward with BatchNorm runs in tiles ({@link #backwardInTiles}): unless exactly one of the two
   * convolutions would split its own backward over the pool, where the tiles could not match both.
   */
  private boolean runsInTiles(int n) {
    return denseConv.splitsBackward(n) == pointwiseConv.splitsBackward(n);
  }

  /**
   * The backward after {@link #maskedGradientWithSums}, tile by tile ({@link ConvKernel#BACKWARD_TILE}
   * samples) over the pool's chunks of the batch: each tile's three BatchNorm input gradients, both
   * convolutions' backward on them ({@link ConvKernel#backwardTiles}) and the branch sum, while the tile is in
   * cache. The same floats as the module-by-module composition: the same per-element formulas, and the
   * convolutions' tiles and chunks are the ones their own backward uses.
   */
  private Tensor backwardInTiles(Tensor g, boolean inputGradient) {
    int n = n();
    double[][][] sums = gradientSums;
    float[] gy = g.data();
    float[] gd = denseBn.beginBackward(g, true, sums[0]).data();
    float[] gpIn = pointwiseBn.beginBackward(g, true, sums[1]).data();
    Tensor giTensor = identityBn == null ? null : identityBn.beginBackward(g, inputGradient, sums[2]);
    float[] gi = giTensor == null ? null : giTensor.data();
    int chunks = denseConv.splitsBackward(n) ? Parallel.chunkCount(n) : 1;
    ConvKernel.Tiles dense = denseConv.backwardTiles(gd, inputGradient, chunks);
    ConvKernel.Tiles pointwise = pointwiseConv.backwardTiles(gpIn, inputGradient, chunks);
    float[] acc = dense.inputGradient();
    float[] gp = pointwise.inputGradient();
    int inSize = inShape[0] * inShape[1] * inShape[2];
    Parallel.ChunkBody body = (chunk, start, end) -> {
      for (int t = start; t < end; t += ConvKernel.BACKWARD_TILE) {
        int te = Math.min(end, t + ConvKernel.BACKWARD_TILE);
        denseBn.inputGradient(gy, gd, t, te);
        pointwiseBn.inputGradient(gy, gpIn, t, te);
        if (gi != null) {
          identityBn.inputGradient(gy, gi, t, te);
        }
        dense.tile(chunk, t, te);
        pointwise.tile(chunk, t, te);
        if (acc != null) {
          sum(acc, gp, gi, false, t * inSize, te * inSize);
        }
      }
    };
    if (chunks > 1) {
      Parallel.forChunks(n, body);
    } else {
      body.run(0, 0, n);
    }
    pointwise.finish();
    return dense.finish();
  }

  /**
   * The output gradient through the activation, then the BatchNorms' gradient sums ({@code sum(g)} and
   * {@code sum(g * (z - mean))} per channel, into {@code gradientSums[branch]}, branch 0 dense, 1 pointwise,
   * 2 identity). One pass over the batch, sample by sample: each sample's gradient is masked and each of its
   * planes read once for all three BatchNorms; the planes' sums are recorded and then added per channel in
   * sample order, the order each BatchNorm's own backward takes them in.
   */
  private Tensor maskedGradientWithSums(Tensor gradOutput) {
    checkGradient(gradOutput);
    int n = n();
    int channels = outShape[0];
    int area = outShape[1] * outShape[2];
    int outSize = channels * area;
    boolean relu = activation == Activation.RELU;
    float[] y = savedOutput.get().data();
    float[] gy = gradOutput.data();
    Tensor g = relu ? buffer(MASKED_GRAD, n, channels, outShape[1], outShape[2]) : gradOutput;
    float[] masked = g.data();
    int branches = identityBn != null ? 3 : 2;
    if (planeSums.length < 2 * n * channels * branches) {
      planeSums = new double[2 * n * channels * branches];
    }
    double[] planes = planeSums;
    Parallel.RangeBody samples = (start, end) -> {
      double[] work = new double[2];
      for (int i = start; i < end; i++) {
        int from = i * outSize;
        if (relu) {
          planeLoops.reluGradient(y, gy, masked, from, from + outSize);
        }
        for (int c = 0; c < channels; c++) {
          int off = from + c * area;
          int k = 2 * branches * (i * channels + c);
          denseBn.planeGradientSums(masked, off, area, c, work);
          planes[k] = work[0];
          planes[k + 1] = work[1];
          pointwiseBn.planeGradientSums(masked, off, area, c, work);
          planes[k + 2] = work[0];
          planes[k + 3] = work[1];
          if (branches == 3) {
            identityBn.planeGradientSums(masked, off, area, c, work);
            planes[k + 4] = work[0];
            planes[k + 5] = work[1];
          }
        }
      }
    };
    if (Parallel.worthSplitting(masked.length, Parallel.MIN_ELEMENTS, n)) {
      Parallel.forRange(n, samples);
    } else {
      samples.run(0, n);
    }
    double[][][] sums = gradientSums;
    for (int b = 0; b < branches; b++) {
      for (int c = 0; c < channels; c++) {
        double sumG = 0;
        double dot = 0;
        for (int i = 0; i < n; i++) {
          int k = 2 * branches * (i * channels + c) + 2 * b;
          sumG += planes[k];
          dot += planes[k + 1];
        }
        sums[b][0][c] = sumG;
        sums[b][1][c] = dot;
      }
    }
    return g;
  }

  /** The output gradient through the activation. */
  private Tensor maskedGradient(Tensor gradOutput) {
    checkGradient(gradOutput);
    if (activation != Activation.RELU) {
      return gradOutput;
    }
    float[] y = savedOutput.get().data();
    float[] gy = gradOutput.data();
    Tensor g = buffer(MASKED_GRAD, n(), outShape[0], outShape[1], outShape[2]);
    float[] masked = g.data();
    Elementwise.reluGradient(planeLoops, y, gy, masked);
    return g;
  }

  private void checkGradient(Tensor gradOutput) {
    Tensor.checkShape("gradOutput", gradOutput, savedOutput.get().shape());
  }

  /** The batch size of the saved training-mode output. */
  private int n() {
    return savedOutput.get().dim(0);
  }

  /**
   * Writes the folded deploy weights into {@code target} (a kxk kernel with bias and this block's geometry):
   * each branch kernel scaled by its BatchNorm's {@code gamma / sqrt(running_var + eps)}, biases
   * {@code beta - running_mean * gamma / sqrt(running_var + eps)}, the 1x1 kernel zero-padded to kxk at the
   * centre, and the identity as {@code K[i, i % (C/groups), k/2, k/2] = 1} (right for grouped and depthwise
   * blocks). Computed in double.
   */
  protected final void fuseInto(ConvKernel target) {
    int[] ws = denseConv.weight().data().shape();
    int out = ws[0];
    int inPerGroup = ws[1];
    int k = ws[2];
    int area = k * k;
    int centre = (k / 2) * k + k / 2;
    int perChannel = inPerGroup * area;
    if (!java.util.Arrays.equals(target.weight().data().shape(), ws) || target.bias() == null) {
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
      for (int i = base; i < base + perChannel; i++) {
        w[i] = (float) (0.0 + wd[i] * s);
      }
      for (int c = 0; c < inPerGroup; c++) {
        int i = base + c * area + centre;
        double v = 0.0 + wd[i] * s;
        v += wp[o * inPerGroup + c] * pointwise[o];
        if (ident != null && c == o % inPerGroup) {
          v += ident[o];
        }
        w[i] = (float) v;
      }
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

  /** The groups of both convolutions. */
  public final int groups() {
    return groups;
  }

  /**
   * A conv followed by a BatchNorm, registered as {@code conv} and {@code bn} (official RepVGG naming). The
   * block drives the two directly (its passes fuse the branches); this module names their state-dict entries
   * and composes them for a caller that reaches it as a submodule.
   */
  private static final class ConvBn extends AbstractModule {
    private final Module conv;
    private final Module bn;

    ConvBn(Module conv, Module bn) {
      this.conv = registerModule("conv", conv);
      this.bn = registerModule("bn", bn);
    }

    @Override
    public Tensor forward(Tensor input) {
      return bn.forward(conv.forward(input));
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
      return conv.backward(bn.backward(gradOutput));
    }
  }
}
