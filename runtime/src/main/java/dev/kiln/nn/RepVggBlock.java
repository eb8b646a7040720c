package dev.kiln.nn;

import dev.kiln.annotation.Activation;
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
  private final Module dense;
  private final Module pointwise;
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
  private Tensor savedOutput;

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
      dense = registerModule("rbr_dense", new ConvBn(denseConv, denseBn));
      pointwise = registerModule("rbr_1x1", new ConvBn(pointwiseConv, pointwiseBn));
    } else {
      identityBn = null;
      denseBn = null;
      pointwiseBn = null;
      dense = registerModule("rbr_dense", denseConv);
      pointwise = registerModule("rbr_1x1", pointwiseConv);
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
    int[] s = input.shape();
    if (s.length != 4 || s[1] != inShape[0] || s[2] != inShape[1] || s[3] != inShape[2]) {
      throw new IllegalArgumentException("input: expected shape [N, " + inShape[0] + ", " + inShape[1] + ", "
          + inShape[2] + "] but got " + Arrays.toString(s));
    }
    Tensor out = dense.forward(input);
    float[] y = out.data();
    add(y, pointwise.forward(input).data());
    if (identity) {
      add(y, identityBn != null ? identityBn.forward(input).data() : input.data());
    }
    if (activation == Activation.RELU) {
      for (int i = 0; i < y.length; i++) {
        if (y[i] < 0f) {
          y[i] = 0f;
        }
      }
    }
    savedOutput = isTraining() ? out : null;
    return out;
  }

  private static void add(float[] acc, float[] v) {
    for (int i = 0; i < acc.length; i++) {
      acc[i] += v[i];
    }
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    if (savedOutput == null) {
      throw new IllegalStateException("backward needs a training-mode forward first");
    }
    Tensor.checkShape("gradOutput", gradOutput, savedOutput.shape());
    Tensor g = gradOutput;
    if (activation == Activation.RELU) {
      float[] y = savedOutput.data();
      float[] gy = gradOutput.data();
      float[] masked = new float[gy.length];
      for (int i = 0; i < gy.length; i++) {
        masked[i] = y[i] > 0f ? gy[i] : 0f;
      }
      g = Tensor.of(masked, gradOutput.shape());
    }
    Tensor gx = dense.backward(g);
    add(gx.data(), pointwise.backward(g).data());
    if (identity) {
      add(gx.data(), identityBn != null ? identityBn.backward(g).data() : g.data());
    }
    return gx;
  }

  @Override
  public void train(boolean on) {
    super.train(on);
    if (!on) {
      savedOutput = null;
    }
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
    double[] weight = new double[out * inPerGroup * area];
    double[] bias = new double[out];
    // dense branch
    double[] scale = scale(denseBn, out);
    float[] wd = denseConv.weight().data().data();
    for (int i = 0; i < weight.length; i++) {
      weight[i] += wd[i] * scale[i / (inPerGroup * area)];
    }
    addShift(bias, denseBn, denseConv, scale);
    // 1x1 branch at the centre
    scale = scale(pointwiseBn, out);
    float[] wp = pointwiseConv.weight().data().data();
    for (int o = 0; o < out; o++) {
      for (int c = 0; c < inPerGroup; c++) {
        weight[(o * inPerGroup + c) * area + centre] += wp[o * inPerGroup + c] * scale[o];
      }
    }
    addShift(bias, pointwiseBn, pointwiseConv, scale);
    // identity branch: K[i, i % (C / groups), k/2, k/2] = 1
    if (identity) {
      scale = scale(identityBn, out);
      for (int o = 0; o < out; o++) {
        weight[(o * inPerGroup + o % inPerGroup) * area + centre] += scale[o];
      }
      if (identityBn != null) {
        addShift(bias, identityBn, null, scale);
      }
    }
    Map<String, Tensor> state = new LinkedHashMap<>();
    state.put("weight", Tensor.of(toFloat(weight), ws));
    state.put("bias", Tensor.of(toFloat(bias), out));
    target.loadStateDict(state);
  }

  /** {@code gamma / sqrt(running_var + eps)} per channel, or ones without BatchNorm. */
  private static double[] scale(BatchNorm2d bn, int channels) {
    double[] s = new double[channels];
    for (int c = 0; c < channels; c++) {
      s[c] = bn == null ? 1.0
          : bn.weight().data().data()[c] / Math.sqrt((double) bn.runningVar().data()[c] + bn.eps());
    }
    return s;
  }

  /** Adds a branch's bias: {@code beta - mean * scale} with BatchNorm, else the conv's own bias. */
  private static void addShift(double[] bias, BatchNorm2d bn, ConvKernel conv, double[] scale) {
    for (int c = 0; c < bias.length; c++) {
      if (bn != null) {
        bias[c] += bn.bias().data().data()[c] - bn.runningMean().data()[c] * scale[c];
      } else if (conv != null && conv.bias() != null) {
        bias[c] += conv.bias().data().data()[c];
      }
    }
  }

  private static float[] toFloat(double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    return f;
  }

  /** The groups of both convolutions. */
  public final int groups() {
    return groups;
  }

  /** A conv followed by a BatchNorm, registered as {@code conv} and {@code bn} (official RepVGG naming). */
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
