package dev.kiln.samples.benchmark;

import dev.kiln.annotation.BatchNorm2d;
import dev.kiln.annotation.Conv2d;
import dev.kiln.annotation.Flatten;
import dev.kiln.annotation.GlobalAvgPool2d;
import dev.kiln.annotation.Linear;
import dev.kiln.annotation.Model;
import dev.kiln.annotation.ReLU;
import dev.kiln.nn.Module;

/**
 * MobileNet v1 (width 1.0) for 3x160x160 inputs: the layers of {@link MobileNetV1}, on feature maps of 80, 40,
 * 20, 10 and 5 pixels, none a multiple of the 7-pixel tiles that 224-pixel networks use, so its layers get
 * tiles of other widths (more distinct tile kernels to compile). The processor generates
 * {@code MobileNetV1At160Model}. Weights, ONNX file and reference: {@code tools/bench/networks.py}
 * ({@code mobilenet-v1-160}). The layer list repeats {@link MobileNetV1}'s: a model's layers are the methods
 * its own interface declares, and each input size is a model of its own (shapes are fixed when it compiles).
 */
@Model(input = {3, 160, 160})
public interface MobileNetV1At160 {
  /** Stem: 3->32, stride 2. */
  @Conv2d(outChannels = 32, kernelSize = 3, stride = 2, padding = "1", bias = false) Module conv0();

  @BatchNorm2d Module conv0_bn();

  @ReLU Module conv0_relu();

  /** Depthwise 1: 32 channels. */
  @Conv2d(outChannels = 32, kernelSize = 3, padding = "1", groups = 32, bias = false) Module dw1();

  @BatchNorm2d Module dw1_bn();

  @ReLU Module dw1_relu();

  /** Pointwise 1: 32->64. */
  @Conv2d(outChannels = 64, kernelSize = 1, bias = false) Module pw1();

  @BatchNorm2d Module pw1_bn();

  @ReLU Module pw1_relu();

  /** Depthwise 2: 64 channels, stride 2. */
  @Conv2d(outChannels = 64, kernelSize = 3, stride = 2, padding = "1", groups = 64, bias = false) Module dw2();

  @BatchNorm2d Module dw2_bn();

  @ReLU Module dw2_relu();

  /** Pointwise 2: 64->128. */
  @Conv2d(outChannels = 128, kernelSize = 1, bias = false) Module pw2();

  @BatchNorm2d Module pw2_bn();

  @ReLU Module pw2_relu();

  /** Depthwise 3: 128 channels. */
  @Conv2d(outChannels = 128, kernelSize = 3, padding = "1", groups = 128, bias = false) Module dw3();

  @BatchNorm2d Module dw3_bn();

  @ReLU Module dw3_relu();

  /** Pointwise 3: 128->128. */
  @Conv2d(outChannels = 128, kernelSize = 1, bias = false) Module pw3();

  @BatchNorm2d Module pw3_bn();

  @ReLU Module pw3_relu();

  /** Depthwise 4: 128 channels, stride 2. */
  @Conv2d(outChannels = 128, kernelSize = 3, stride = 2, padding = "1", groups = 128, bias = false) Module dw4();

  @BatchNorm2d Module dw4_bn();

  @ReLU Module dw4_relu();

  /** Pointwise 4: 128->256. */
  @Conv2d(outChannels = 256, kernelSize = 1, bias = false) Module pw4();

  @BatchNorm2d Module pw4_bn();

  @ReLU Module pw4_relu();

  /** Depthwise 5: 256 channels. */
  @Conv2d(outChannels = 256, kernelSize = 3, padding = "1", groups = 256, bias = false) Module dw5();

  @BatchNorm2d Module dw5_bn();

  @ReLU Module dw5_relu();

  /** Pointwise 5: 256->256. */
  @Conv2d(outChannels = 256, kernelSize = 1, bias = false) Module pw5();

  @BatchNorm2d Module pw5_bn();

  @ReLU Module pw5_relu();

  /** Depthwise 6: 256 channels, stride 2. */
  @Conv2d(outChannels = 256, kernelSize = 3, stride = 2, padding = "1", groups = 256, bias = false) Module dw6();

  @BatchNorm2d Module dw6_bn();

  @ReLU Module dw6_relu();

  /** Pointwise 6: 256->512. */
  @Conv2d(outChannels = 512, kernelSize = 1, bias = false) Module pw6();

  @BatchNorm2d Module pw6_bn();

  @ReLU Module pw6_relu();

  /** Depthwise 7: 512 channels. */
  @Conv2d(outChannels = 512, kernelSize = 3, padding = "1", groups = 512, bias = false) Module dw7();

  @BatchNorm2d Module dw7_bn();

  @ReLU Module dw7_relu();

  /** Pointwise 7: 512->512. */
  @Conv2d(outChannels = 512, kernelSize = 1, bias = false) Module pw7();

  @BatchNorm2d Module pw7_bn();

  @ReLU Module pw7_relu();

  /** Depthwise 8: 512 channels. */
  @Conv2d(outChannels = 512, kernelSize = 3, padding = "1", groups = 512, bias = false) Module dw8();

  @BatchNorm2d Module dw8_bn();

  @ReLU Module dw8_relu();

  /** Pointwise 8: 512->512. */
  @Conv2d(outChannels = 512, kernelSize = 1, bias = false) Module pw8();

  @BatchNorm2d Module pw8_bn();

  @ReLU Module pw8_relu();

  /** Depthwise 9: 512 channels. */
  @Conv2d(outChannels = 512, kernelSize = 3, padding = "1", groups = 512, bias = false) Module dw9();

  @BatchNorm2d Module dw9_bn();

  @ReLU Module dw9_relu();

  /** Pointwise 9: 512->512. */
  @Conv2d(outChannels = 512, kernelSize = 1, bias = false) Module pw9();

  @BatchNorm2d Module pw9_bn();

  @ReLU Module pw9_relu();

  /** Depthwise 10: 512 channels. */
  @Conv2d(outChannels = 512, kernelSize = 3, padding = "1", groups = 512, bias = false) Module dw10();

  @BatchNorm2d Module dw10_bn();

  @ReLU Module dw10_relu();

  /** Pointwise 10: 512->512. */
  @Conv2d(outChannels = 512, kernelSize = 1, bias = false) Module pw10();

  @BatchNorm2d Module pw10_bn();

  @ReLU Module pw10_relu();

  /** Depthwise 11: 512 channels. */
  @Conv2d(outChannels = 512, kernelSize = 3, padding = "1", groups = 512, bias = false) Module dw11();

  @BatchNorm2d Module dw11_bn();

  @ReLU Module dw11_relu();

  /** Pointwise 11: 512->512. */
  @Conv2d(outChannels = 512, kernelSize = 1, bias = false) Module pw11();

  @BatchNorm2d Module pw11_bn();

  @ReLU Module pw11_relu();

  /** Depthwise 12: 512 channels, stride 2. */
  @Conv2d(outChannels = 512, kernelSize = 3, stride = 2, padding = "1", groups = 512, bias = false) Module dw12();

  @BatchNorm2d Module dw12_bn();

  @ReLU Module dw12_relu();

  /** Pointwise 12: 512->1024. */
  @Conv2d(outChannels = 1024, kernelSize = 1, bias = false) Module pw12();

  @BatchNorm2d Module pw12_bn();

  @ReLU Module pw12_relu();

  /** Depthwise 13: 1024 channels. */
  @Conv2d(outChannels = 1024, kernelSize = 3, padding = "1", groups = 1024, bias = false) Module dw13();

  @BatchNorm2d Module dw13_bn();

  @ReLU Module dw13_relu();

  /** Pointwise 13: 1024->1024. */
  @Conv2d(outChannels = 1024, kernelSize = 1, bias = false) Module pw13();

  @BatchNorm2d Module pw13_bn();

  @ReLU Module pw13_relu();

  @GlobalAvgPool2d Module gap();

  @Flatten Module flatten();

  @Linear(outFeatures = 1000) Module fc();
}
