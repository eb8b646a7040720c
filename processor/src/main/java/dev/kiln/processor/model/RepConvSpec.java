package dev.kiln.processor.model;

import dev.kiln.annotation.Activation;
import dev.kiln.nn.ConvGeometry;

/**
 * A resolved RepVGG block: the training-form branches and the deploy-form kernel, all as {@link ConvSpec}s.
 * The dense branch has padding {@code k/2}, the 1x1 branch padding 0; both share stride and groups; the
 * identity branch exists iff {@code in == out} and stride 1.
 */
public record RepConvSpec(
    int inChannels,
    int outChannels,
    int inHeight,
    int inWidth,
    int kernelSize,
    int stride,
    int groups,
    boolean batchNorm,
    Activation activation) {

  public boolean hasIdentity() {
    return inChannels == outChannels && stride == 1;
  }

  /** The kxk convolution's geometry: padding {@code k/2}, the block's stride and groups. */
  private ConvGeometry denseGeometry() {
    int p = kernelSize / 2;
    return ConvGeometry.builder().inChannels(inChannels).outChannels(outChannels).inputSize(inHeight, inWidth)
        .kernel(kernelSize, kernelSize).stride(stride, stride).padding(p, p, p, p).groups(groups).build();
  }

  /** The kxk branch: no bias with BatchNorm (the BN carries it), a bias without; no activation. */
  public ConvSpec dense() {
    return new ConvSpec(denseGeometry(), !batchNorm, Activation.NONE);
  }

  /** The 1x1 branch, padding 0. */
  public ConvSpec pointwise() {
    return new ConvSpec(denseGeometry().toBuilder().kernel(1, 1).padding(0, 0, 0, 0).build(), !batchNorm,
        Activation.NONE);
  }

  /** The fused deploy kernel: the dense geometry with a bias and the activation in its epilogue. */
  public ConvSpec deploy() {
    return new ConvSpec(denseGeometry(), true, activation);
  }

  public int outHeight() {
    return dense().outHeight();
  }

  public int outWidth() {
    return dense().outWidth();
  }

  public String describe() {
    return "RepConv " + inChannels + "->" + outChannels + ", kernel " + kernelSize + "x" + kernelSize + ", stride "
        + stride + ", groups " + groups + (batchNorm ? ", BatchNorm" : ", no BatchNorm")
        + (hasIdentity() ? ", identity branch" : ", no identity branch")
        + ", activation " + activation.name().toLowerCase(java.util.Locale.ROOT)
        + "; input [N, " + inChannels + ", " + inHeight + ", " + inWidth + "] -> output [N, " + outChannels + ", "
        + outHeight() + ", " + outWidth() + "]";
  }
}
