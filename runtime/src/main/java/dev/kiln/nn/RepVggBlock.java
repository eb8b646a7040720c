package dev.kiln.nn;

import dev.kiln.annotation.Activation;
import dev.kiln.tensor.Tensor;

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
  /** The branches' BatchNorms (null without BatchNorm; the identity's also without an identity branch). */
  final BatchNorm2d denseBn;
  final BatchNorm2d pointwiseBn;
  final BatchNorm2d identityBn;
  private final boolean identity;
  private final Activation activation;
  private final int[] inShape;
  private final int[] outShape;
  private final int groups;
  private final SavedForBackward<Tensor> savedOutput = savedForBackward();
  private final PlaneLoops planeLoops = PlaneLoops.get();
  /** The training passes with BatchNorm; null without. */
  private final RepVggBatchNormPasses batchNormPasses;

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
      batchNormPasses = new RepVggBatchNormPasses(denseConv, pointwiseConv, denseBn, pointwiseBn, identityBn,
          this.inShape, this.outShape, planeLoops);
    } else {
      identityBn = null;
      denseBn = null;
      pointwiseBn = null;
      registerModule("rbr_dense", denseConv);
      registerModule("rbr_1x1", pointwiseConv);
      batchNormPasses = null;
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
      out = batchNormPasses.forward(input, relu, isTraining(),
          buffer(OUTPUT, input.dim(0), outShape[0], outShape[1], outShape[2]));
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
   * {@code acc = act((acc + a) + b)} over {@code [start, end)}, {@code b} may be null; ReLU is
   * {@code Math.max(v, 0f)} (branch-free; NaN stays NaN).
   */
  static void sum(float[] acc, float[] a, float[] b, boolean relu, int start, int end) {
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

  /** {@code acc += p (+ i)}, element-wise, split over the pool when large; {@code i} may be null. */
  static void addBranches(Tensor acc, Tensor p, Tensor i) {
    float[] a = acc.data();
    float[] pv = p.data();
    float[] iv = i == null ? null : i.data();
    Elementwise.forRange(a.length, (start, end) -> sum(a, pv, iv, false, start, end));
  }

  /** The backward with BatchNorm ({@link RepVggBatchNormPasses#backward}); the input gradient or null. */
  private Tensor backwardWithBatchNorm(Tensor gradOutput, boolean inputGradient) {
    checkGradient(gradOutput);
    boolean relu = activation == Activation.RELU;
    Tensor g = relu ? buffer(MASKED_GRAD, n(), outShape[0], outShape[1], outShape[2]) : gradOutput;
    return batchNormPasses.backward(savedOutput.get(), gradOutput, g, relu, inputGradient);
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
    Fusion.foldBranchesInto(this, target);
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
