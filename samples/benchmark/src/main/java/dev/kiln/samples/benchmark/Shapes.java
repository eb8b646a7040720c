package dev.kiln.samples.benchmark;

import dev.kiln.annotation.Conv2d;

/**
 * The benchmarked layers, one {@code @Conv2d} interface per distinct shape (float32, NCHW, bias on). The
 * Kiln processor generates {@code Shapes_<Name>Kernel} for each while this file compiles; {@link ConvShape}
 * lists the same shapes as plain numbers for the reference layer and ONNX Runtime, and the tests check that
 * the two descriptions agree.
 */
public final class Shapes {
  private Shapes() {}

  /** 2 -> 2, 9x9, 3x3, padding 1: the seed example, dominated by per-call overhead. */
  @Conv2d(inChannels = 2, outChannels = 2, kernelSize = 3, padding = "1", height = 9, width = 9)
  public interface Tiny {}

  /** 2 -> 4, 9x9, 3x3, padding 1, groups 2: the grouped seed example. */
  @Conv2d(inChannels = 2, outChannels = 4, kernelSize = 3, padding = "1", groups = 2, height = 9, width = 9)
  public interface Grouped {}

  /** 1 -> 16, 28x28, 3x3, padding 1: the first layer of a small MNIST network. */
  @Conv2d(inChannels = 1, outChannels = 16, kernelSize = 3, padding = "1", height = 28, width = 28)
  public interface C1x16At28 {}

  /** 16 -> 32, 14x14, 3x3, padding 1: the second layer of a small MNIST network. */
  @Conv2d(inChannels = 16, outChannels = 32, kernelSize = 3, padding = "1", height = 14, width = 14)
  public interface C16x32At14 {}

  /** 48 -> 48, 56x56, 3x3, padding 1: a RepVGG-A0 stage-1 layer. */
  @Conv2d(inChannels = 48, outChannels = 48, kernelSize = 3, padding = "1", height = 56, width = 56)
  public interface C48At56 {}

  /** 96 -> 96, 28x28, 3x3, padding 1: a RepVGG-A0 stage-2 layer. */
  @Conv2d(inChannels = 96, outChannels = 96, kernelSize = 3, padding = "1", height = 28, width = 28)
  public interface C96At28 {}

  /** 192 -> 192, 14x14, 3x3, padding 1: a RepVGG-A0 stage-3 layer. */
  @Conv2d(inChannels = 192, outChannels = 192, kernelSize = 3, padding = "1", height = 14, width = 14)
  public interface C192At14 {}

  /** 3 -> 48, 224x224, 3x3, stride 2, padding 1: a stem layer on an ImageNet-sized input. */
  @Conv2d(inChannels = 3, outChannels = 48, kernelSize = 3, stride = 2, padding = "1", height = 224,
      width = 224)
  public interface Stem3x48At224 {}

  /** 32 -> 32, 56x56, 3x3, padding 1, groups 32: depthwise. */
  @Conv2d(inChannels = 32, outChannels = 32, kernelSize = 3, padding = "1", groups = 32, height = 56,
      width = 56)
  public interface Depthwise32At56 {}

  /** 64 -> 64, 56x56, 1x1, padding 0: pointwise. */
  @Conv2d(inChannels = 64, outChannels = 64, kernelSize = 1, padding = "0", height = 56, width = 56)
  public interface Pointwise64At56 {}

  /** 64 -> 64, 56x56, 3x3, padding 1: a mid-sized layer of a ResNet-style network. */
  @Conv2d(inChannels = 64, outChannels = 64, kernelSize = 3, padding = "1", height = 56, width = 56)
  public interface C64At56 {}

  /** 512 -> 512, 14x14, 1x1, padding 0: MobileNet v1's five middle pointwise layers. */
  @Conv2d(inChannels = 512, outChannels = 512, kernelSize = 1, padding = "0", height = 14, width = 14)
  public interface Pointwise512At14 {}
}
