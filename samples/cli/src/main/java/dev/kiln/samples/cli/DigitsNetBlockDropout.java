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
 * {@link DigitsNet} with dropout after every RepVGG block as well (layers {@code drop0}..{@code drop3}, before
 * the global pooling for the last one): the same parameters, state dict and fused deploy network, more
 * dropout noise in training. As {@code tools/recipe/repvgg_recipe.py --dropout-at blocks} defines it; every
 * dropout layer has p 0.3 (kiln-cli's {@code --dropout} sets another). Its {@code @RDrop} weight is
 * {@link Recipe#NETWORK_RDROP_ALPHA}; {@code kiln-cli train} uses plain cross-entropy unless {@code --rdrop-alpha}
 * asks for R-Drop.
 */
@RDrop(alpha = Recipe.NETWORK_RDROP_ALPHA, klReduction = Reduction.SUM)
@Model(input = {1, 8, 8})
public interface DigitsNetBlockDropout {
  /** 1 -> 16 channels, 8x8. */
  @RepConv(outChannels = 16)
  Module stage0();

  /** Dropout 0.3 after block 0 (removed in the fused network). */
  @Dropout(p = Recipe.DEFAULT_DROPOUT)
  Module drop0();

  /** 16 -> 32 channels, 8x8. */
  @RepConv(outChannels = 32)
  Module stage1();

  /** Dropout 0.3 after block 1 (removed in the fused network). */
  @Dropout(p = Recipe.DEFAULT_DROPOUT)
  Module drop1();

  /** 32 -> 32 channels with an identity branch, 8x8. */
  @RepConv(outChannels = 32)
  Module stage2();

  /** Dropout 0.3 after block 2 (removed in the fused network). */
  @Dropout(p = Recipe.DEFAULT_DROPOUT)
  Module drop2();

  /** 32 -> 64 channels, 8x8 -> 4x4. */
  @RepConv(outChannels = 64, stride = 2)
  Module stage3();

  /** Dropout 0.3 after block 3 (removed in the fused network). */
  @Dropout(p = Recipe.DEFAULT_DROPOUT)
  Module drop3();

  /** [N, 64, 4, 4] -> [N, 64, 1, 1]. */
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
