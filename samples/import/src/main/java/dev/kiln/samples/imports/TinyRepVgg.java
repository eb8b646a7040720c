package dev.kiln.samples.imports;

import dev.kiln.annotation.Flatten;
import dev.kiln.annotation.GlobalAvgPool2d;
import dev.kiln.annotation.KeyPrefix;
import dev.kiln.annotation.Linear;
import dev.kiln.annotation.Model;
import dev.kiln.annotation.RepConv;
import dev.kiln.nn.Module;

/**
 * The official RepVGG structure with RepVGG-A0's blocks per stage (2, 4, 14, 1) and width multipliers 0.0625
 * (4, 4, 8, 16 and 32 channels), 10 classes, on 3x32x32 images: the reduced network of the committed test
 * checkpoints ({@code tools/import/repvgg_checkpoints.py}). Same key names as {@link RepVggA0}.
 */
@Model(input = {3, 32, 32})
public interface TinyRepVgg {
  /** 3 -> 4 channels, stride 2. */
  @KeyPrefix("stage0")
  @RepConv(outChannels = 4, stride = 2)
  Module stage0();

  @KeyPrefix("stage1.0")
  @RepConv(outChannels = 4, stride = 2)
  Module stage1_0();

  @KeyPrefix("stage1.1")
  @RepConv(outChannels = 4)
  Module stage1_1();

  @KeyPrefix("stage2.0")
  @RepConv(outChannels = 8, stride = 2)
  Module stage2_0();

  @KeyPrefix("stage2.1")
  @RepConv(outChannels = 8)
  Module stage2_1();

  @KeyPrefix("stage2.2")
  @RepConv(outChannels = 8)
  Module stage2_2();

  @KeyPrefix("stage2.3")
  @RepConv(outChannels = 8)
  Module stage2_3();

  @KeyPrefix("stage3.0")
  @RepConv(outChannels = 16, stride = 2)
  Module stage3_0();

  @KeyPrefix("stage3.1")
  @RepConv(outChannels = 16)
  Module stage3_1();

  @KeyPrefix("stage3.2")
  @RepConv(outChannels = 16)
  Module stage3_2();

  @KeyPrefix("stage3.3")
  @RepConv(outChannels = 16)
  Module stage3_3();

  @KeyPrefix("stage3.4")
  @RepConv(outChannels = 16)
  Module stage3_4();

  @KeyPrefix("stage3.5")
  @RepConv(outChannels = 16)
  Module stage3_5();

  @KeyPrefix("stage3.6")
  @RepConv(outChannels = 16)
  Module stage3_6();

  @KeyPrefix("stage3.7")
  @RepConv(outChannels = 16)
  Module stage3_7();

  @KeyPrefix("stage3.8")
  @RepConv(outChannels = 16)
  Module stage3_8();

  @KeyPrefix("stage3.9")
  @RepConv(outChannels = 16)
  Module stage3_9();

  @KeyPrefix("stage3.10")
  @RepConv(outChannels = 16)
  Module stage3_10();

  @KeyPrefix("stage3.11")
  @RepConv(outChannels = 16)
  Module stage3_11();

  @KeyPrefix("stage3.12")
  @RepConv(outChannels = 16)
  Module stage3_12();

  @KeyPrefix("stage3.13")
  @RepConv(outChannels = 16)
  Module stage3_13();

  @KeyPrefix("stage4.0")
  @RepConv(outChannels = 32, stride = 2)
  Module stage4_0();

  /** AdaptiveAvgPool2d(1). */
  @GlobalAvgPool2d
  Module gap();

  /** {@code out.view(out.size(0), -1)}. */
  @Flatten
  Module flatten();

  /** 32 -> 10 classes. */
  @KeyPrefix("linear")
  @Linear(outFeatures = 10)
  Module fc();
}
