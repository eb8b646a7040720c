package dev.kiln.samples.benchmark;

import dev.kiln.loss.Objective;
import dev.kiln.loss.Objectives;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.SequentialModel;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Tensor;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One training setup of the sample network, as the recipe trains it: the model ({@link TrainNet}), its
 * objective (plain cross-entropy or the network's R-Drop), SGD with Nesterov momentum 0.9 and weight decay
 * 5e-4 (none on BatchNorm parameters and biases, i.e. on tensors of rank 1), and a few seeded batches of
 * 1x28x28 images in {@code [0, 1)} with labels in {@code [0, 10)}.
 */
public final class TrainingWorkload {
  /** The recipe's batch size. */
  public static final int BATCH = 64;

  /** How many distinct batches {@link #step()} cycles through. */
  public static final int BATCHES = 4;

  private final SequentialModel model;
  private final Objective objective;
  private final Sgd optimizer;
  private final Tensor[] inputs = new Tensor[BATCHES];
  private final int[][] labels = new int[BATCHES][];
  private int next;

  /**
   * @param rDrop whether to train with R-Drop (the objective {@link TrainNet} declares) or plain
   *     cross-entropy
   * @param seed the seed of the weights and the data
   */
  public TrainingWorkload(boolean rDrop, long seed) {
    model = new TrainNetModel(seed);
    objective = rDrop ? Objectives.forModel(model) : Objectives.crossEntropy();
    Map<String, Parameter> params = model.namedParameters();
    Set<String> noDecay = new HashSet<>();
    params.forEach((name, p) -> {
      if (p.data().rank() <= 1) {
        noDecay.add(name);
      }
    });
    optimizer = Sgd.builder(params, 0.05).momentum(0.9).nesterov(true).weightDecay(5e-4)
        .noWeightDecay(noDecay::contains).build();
    SplittableRandom r = new SplittableRandom(seed);
    for (int b = 0; b < BATCHES; b++) {
      inputs[b] = Tensor.zeros(BATCH, 1, 28, 28);
      float[] x = inputs[b].data();
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) r.nextDouble();
      }
      labels[b] = new int[BATCH];
      for (int i = 0; i < BATCH; i++) {
        labels[b][i] = r.nextInt(10);
      }
    }
  }

  /** One training step on the next batch: zero gradients, forward, loss, backward, SGD update; the loss. */
  public double step() {
    int b = next;
    next = (next + 1) % BATCHES;
    optimizer.zeroGrad();
    double loss = objective.step(model, inputs[b], labels[b]).loss();
    optimizer.step();
    return loss;
  }

  /** The model being trained. */
  public SequentialModel model() {
    return model;
  }
}
