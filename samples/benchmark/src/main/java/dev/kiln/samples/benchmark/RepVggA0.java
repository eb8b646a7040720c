package dev.kiln.samples.benchmark;

import dev.kiln.annotation.Flatten;
import dev.kiln.annotation.GlobalAvgPool2d;
import dev.kiln.annotation.Linear;
import dev.kiln.annotation.Model;
import dev.kiln.annotation.RepConv;
import dev.kiln.nn.Module;

/**
 * RepVGG-A0 for 3x224x224 inputs: 22 RepVGG blocks in five stages (widths 48, 48, 96, 192, 1280; 1, 2, 4,
 * 14 and 1 blocks; the first block of each stage has stride 2), global average pooling and a linear layer
 * to 1,000 classes. The layer names are those of {@code tools/bench/networks.py}, which writes weights and
 * reference outputs for it. The processor generates {@code RepVggA0Model}.
 */
@Model(input = {3, 224, 224})
public interface RepVggA0 {
  @RepConv(outChannels = 48, stride = 2) Module stage0();

  @RepConv(outChannels = 48, stride = 2) Module stage1_0();

  @RepConv(outChannels = 48) Module stage1_1();

  @RepConv(outChannels = 96, stride = 2) Module stage2_0();

  @RepConv(outChannels = 96) Module stage2_1();

  @RepConv(outChannels = 96) Module stage2_2();

  @RepConv(outChannels = 96) Module stage2_3();

  @RepConv(outChannels = 192, stride = 2) Module stage3_0();

  @RepConv(outChannels = 192) Module stage3_1();

  @RepConv(outChannels = 192) Module stage3_2();

  @RepConv(outChannels = 192) Module stage3_3();

  @RepConv(outChannels = 192) Module stage3_4();

  @RepConv(outChannels = 192) Module stage3_5();

  @RepConv(outChannels = 192) Module stage3_6();

  @RepConv(outChannels = 192) Module stage3_7();

  @RepConv(outChannels = 192) Module stage3_8();

  @RepConv(outChannels = 192) Module stage3_9();

  @RepConv(outChannels = 192) Module stage3_10();

  @RepConv(outChannels = 192) Module stage3_11();

  @RepConv(outChannels = 192) Module stage3_12();

  @RepConv(outChannels = 192) Module stage3_13();

  @RepConv(outChannels = 1280, stride = 2) Module stage4_0();

  @GlobalAvgPool2d Module gap();

  @Flatten Module flatten();

  @Linear(outFeatures = 1000) Module linear();
}
