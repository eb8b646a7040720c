package dev.kiln.samples.cli;

import dev.kiln.annotation.Dropout;
import dev.kiln.annotation.Flatten;
import dev.kiln.annotation.GlobalAvgPool2d;
import dev.kiln.annotation.Linear;
import dev.kiln.annotation.Model;
import dev.kiln.annotation.RDrop;
import dev.kiln.annotation.Reduction;
import dev.kiln.annotation.RepConv;
import dev.kiln.nn.Module;

/**
 * The sample network for the 28x28 Fashion-MNIST images: four RepVGG blocks (16-32-32-64 channels,
 * strides 1, 2, 1, 2), global average pooling, dropout 0.3 and a linear classifier, as
 * {@code tools/recipe/repvgg_recipe.py --dataset fashion-mnist} defines it. Its {@code @RDrop} weight is
 * {@link Recipe#NETWORK_RDROP_ALPHA}; {@code kiln-cli train} uses plain cross-entropy unless {@code --rdrop-alpha}
 * asks for R-Drop.
 */
@RDrop(alpha = Recipe.NETWORK_RDROP_ALPHA, klReduction = Reduction.SUM)
@Model(input = {1, 28, 28})
public interface FashionNet {
  /** 1 -> 16 channels, 28x28. */
  @RepConv(outChannels = 16)
  Module stage0();

  /** 16 -> 32 channels, 28x28 -> 14x14. */
  @RepConv(outChannels = 32, stride = 2)
  Module stage1();

  /** 32 -> 32 channels with an identity branch, 14x14. */
  @RepConv(outChannels = 32)
  Module stage2();

  /** 32 -> 64 channels, 14x14 -> 7x7. */
  @RepConv(outChannels = 64, stride = 2)
  Module stage3();

  /** [N, 64, 7, 7] -> [N, 64, 1, 1]. */
  @GlobalAvgPool2d
  Module gap();

  /** [N, 64, 1, 1] -> [N, 64]. */
  @Flatten
  Module flatten();

  /** Dropout 0.3 (removed in the fused network). */
  @Dropout(p = Recipe.DEFAULT_DROPOUT)
  Module dropout();

  /** 64 -> 10 classes. */
  @Linear(outFeatures = 10)
  Module fc();
}
