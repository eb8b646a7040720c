package dev.kiln.samples.imports;

import dev.kiln.annotation.Flatten;
import dev.kiln.annotation.GlobalAvgPool2d;
import dev.kiln.annotation.KeyPrefix;
import dev.kiln.annotation.Linear;
import dev.kiln.annotation.Model;
import dev.kiln.annotation.RepConv;
import dev.kiln.nn.Module;

/**
 * RepVGG-A0 as the official implementation declares it: {@code stage0} (one block, stride 2), {@code stage1} to
 * {@code stage4} with 2, 4, 14 and 1 blocks (the first of each with stride 2; 48, 48, 96, 192 and 1280 channels),
 * global average pooling and {@code linear} (1000 classes), on 3x224x224 images. {@link KeyPrefix} gives every
 * layer the official module name, so the official train-form checkpoint ({@code stage1.0.rbr_dense.conv.weight},
 * ...) loads into {@code RepVggA0Model} and the deploy-form one ({@code stage1.0.rbr_reparam.weight}, ...) into
 * {@code RepVggA0Model.Fused}, both without renaming.
 */
@Model(input = {3, 224, 224})
public interface RepVggA0 {
  /** 3 -> 48 channels, stride 2. */
  @KeyPrefix("stage0")
  @RepConv(outChannels = 48, stride = 2)
  Module stage0();

  @KeyPrefix("stage1.0")
  @RepConv(outChannels = 48, stride = 2)
  Module stage1_0();

  @KeyPrefix("stage1.1")
  @RepConv(outChannels = 48)
  Module stage1_1();

  @KeyPrefix("stage2.0")
  @RepConv(outChannels = 96, stride = 2)
  Module stage2_0();

  @KeyPrefix("stage2.1")
  @RepConv(outChannels = 96)
  Module stage2_1();

  @KeyPrefix("stage2.2")
  @RepConv(outChannels = 96)
  Module stage2_2();

  @KeyPrefix("stage2.3")
  @RepConv(outChannels = 96)
  Module stage2_3();

  @KeyPrefix("stage3.0")
  @RepConv(outChannels = 192, stride = 2)
  Module stage3_0();

  @KeyPrefix("stage3.1")
  @RepConv(outChannels = 192)
  Module stage3_1();

  @KeyPrefix("stage3.2")
  @RepConv(outChannels = 192)
  Module stage3_2();

  @KeyPrefix("stage3.3")
  @RepConv(outChannels = 192)
  Module stage3_3();

  @KeyPrefix("stage3.4")
  @RepConv(outChannels = 192)
  Module stage3_4();

  @KeyPrefix("stage3.5")
  @RepConv(outChannels = 192)
  Module stage3_5();

  @KeyPrefix("stage3.6")
  @RepConv(outChannels = 192)
  Module stage3_6();

  @KeyPrefix("stage3.7")
  @RepConv(outChannels = 192)
  Module stage3_7();

  @KeyPrefix("stage3.8")
  @RepConv(outChannels = 192)
  Module stage3_8();

  @KeyPrefix("stage3.9")
  @RepConv(outChannels = 192)
  Module stage3_9();

  @KeyPrefix("stage3.10")
  @RepConv(outChannels = 192)
  Module stage3_10();

  @KeyPrefix("stage3.11")
  @RepConv(outChannels = 192)
  Module stage3_11();

  @KeyPrefix("stage3.12")
  @RepConv(outChannels = 192)
  Module stage3_12();

  @KeyPrefix("stage3.13")
  @RepConv(outChannels = 192)
  Module stage3_13();

  @KeyPrefix("stage4.0")
  @RepConv(outChannels = 1280, stride = 2)
  Module stage4_0();

  /** AdaptiveAvgPool2d(1). */
  @GlobalAvgPool2d
  Module gap();

  /** {@code out.view(out.size(0), -1)}. */
  @Flatten
  Module flatten();

  /** 1280 -> 1000 classes. */
  @KeyPrefix("linear")
  @Linear(outFeatures = 1000)
  Module fc();
}
