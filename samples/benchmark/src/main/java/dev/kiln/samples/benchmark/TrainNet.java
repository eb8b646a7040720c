package dev.kiln.samples.benchmark;

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
 * The sample network of {@code tools/recipe/repvgg_recipe.py} (class {@code Net}) for 1x28x28 inputs: four
 * RepVGG blocks 16-32-32-64 with strides 1, 2, 1, 2, global average pooling, flatten, dropout 0.3 and a linear
 * layer to 10 classes; the layer names are the recipe's, so state dicts line up with PyTorch's {@code Net}. The
 * processor generates {@code TrainNetModel}. R-Drop training uses its {@code @RDrop} objective (alpha 1, KL
 * summed over the batch); plain training uses cross-entropy on the same network ({@link TrainingWorkload}), the
 * objective the interface would declare without {@code @RDrop}.
 */
@RDrop(alpha = 1.0, klReduction = Reduction.SUM)
@Model(input = {1, 28, 28})
public interface TrainNet {
  @RepConv(outChannels = 16) Module stage0();

  @RepConv(outChannels = 32, stride = 2) Module stage1();

  @RepConv(outChannels = 32) Module stage2();

  @RepConv(outChannels = 64, stride = 2) Module stage3();

  @GlobalAvgPool2d Module gap();

  @Flatten Module flatten();

  @Dropout(p = 0.3) Module dropout();

  @Linear(outFeatures = 10) Module fc();
}
