package dev.kiln.processor;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static com.google.testing.compile.CompilationSubject.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.loss.Objective;
import dev.kiln.loss.Objectives;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.SequentialModel;
import dev.kiln.optim.Sgd;
import dev.kiln.processor.testing.InMemoryCompiler;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A {@code @Model}'s training step reuses its buffers while the batch size stays the same: the tensors come
 * back as the same instances, a step allocates almost nothing, and the results are bitwise those of the same
 * model allocating fresh tensors on every call ({@code reuseBuffers(false)}), on one and two threads, with
 * plain cross-entropy and with R-Drop, across batch-size changes.
 */
class ModelBufferReuseTest {
  /** The recipe's block structure on a small input, plus every other layer kind that has training buffers. */
  private static final String LAYERS = ""
      + "    @RepConv(outChannels = 16) Module stage0();\n"
      + "    @RepConv(outChannels = 16, stride = 2) Module stage1();\n"
      + "    @RepConv(outChannels = 16) Module stage2();\n"
      + "    @Conv2d(outChannels = 8, kernelSize = 3, padding = \"1\", activation = Activation.RELU) Module conv();\n"
      + "    @BatchNorm2d Module bn();\n"
      + "    @ReLU Module relu();\n"
      + "    @MaxPool2d(kernelSize = 2, stride = 1) Module maxPool();\n"
      + "    @AvgPool2d(kernelSize = 2, padding = 1) Module avgPool();\n"
      + "    @GlobalAvgPool2d Module gap();\n"
      + "    @Flatten Module flatten();\n"
      + "    @Dropout(p = 0.3) Module dropout();\n"
      + "    @Linear(outFeatures = 10) Module fc();\n";
  private static final String SOURCE = "package test;\n"
      + "import dev.kiln.annotation.*;\n"
      + "import dev.kiln.nn.Module;\n"
      + "public interface Nets {\n"
      + "  @Model(input = {2, 16, 16})\n"
      + "  interface Plain {\n" + LAYERS + "  }\n"
      + "  @RDrop(alpha = 0.7)\n"
      + "  @Model(input = {2, 16, 16})\n"
      + "  interface Twice {\n" + LAYERS + "  }\n"
      + "}\n";
  private static final int[] INPUT = {2, 16, 16};

  private static ClassLoader loader;

  @BeforeAll
  static void compile() {
    Compilation c = InMemoryCompiler.compile(JavaFileObjects.forSourceString("test.Nets", SOURCE));
    assertThat(c).succeededWithoutWarnings();
    loader = InMemoryCompiler.loader(c);
  }

  private static SequentialModel create(String name) throws ReflectiveOperationException {
    return (SequentialModel) loader.loadClass("test.Nets_" + name + "Model").getConstructor(long.class)
        .newInstance(5L);
  }

  /** A model, its objective and SGD as the recipe configures it. */
  private static final class Setup {
    final SequentialModel model;
    final Objective objective;
    final Sgd sgd;

    Setup(String name, boolean reuse) throws ReflectiveOperationException {
      model = create(name);
      model.reuseBuffers(reuse);
      objective = Objectives.forModel(model);
      sgd = Sgd.builder(model.namedParameters(), 0.05).momentum(0.9).nesterov(true).weightDecay(5e-4)
          .noWeightDecay(n -> n.endsWith("bias")).build();
    }

    Objective.StepResult step(Tensor x, int[] y) {
      sgd.zeroGrad();
      Objective.StepResult r = objective.step(model, x, y);
      sgd.step();
      return r;
    }
  }

  private static Tensor images(SplittableRandom r, int n) {
    Tensor t = Tensor.zeros(n, INPUT[0], INPUT[1], INPUT[2]);
    for (int i = 0; i < t.size(); i++) {
      t.data()[i] = (float) r.nextDouble();
    }
    return t;
  }

  private static int[] labels(SplittableRandom r, int n) {
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = r.nextInt(10);
    }
    return y;
  }

  /**
   * Seven steps with batch sizes 16, 16, 16, 5, 5, 16, 16 (so buffers are reused, replaced, and replaced
   * back): after every step the loss, the logits, every parameter, gradient and buffer (BatchNorm running
   * statistics) of the reusing model equal the fresh-allocating model's bitwise. Batch 16 is large enough for
   * the multi-threaded paths of the kernels, BatchNorm and the block sums.
   */
  @Test
  void reusingModelEqualsFreshAllocatingModelBitwise() throws Exception {
    int[] batches = {16, 16, 16, 5, 5, 16, 16};
    int compared = 0;
    int before = Parallel.threads();
    try {
      for (int threads : new int[] {1, 2}) {
        Parallel.setThreads(threads);
        for (String name : List.of("Plain", "Twice")) {
          Setup reusing = new Setup(name, true);
          Setup fresh = new Setup(name, false);
          assertThat(reusing.model.reusesBuffers()).isTrue();
          SplittableRandom r = new SplittableRandom(3);
          for (int step = 0; step < batches.length; step++) {
            Tensor x = images(r, batches[step]);
            int[] y = labels(r, batches[step]);
            Objective.StepResult a = reusing.step(x, y);
            Objective.StepResult b = fresh.step(x, y);
            String where = name + ", " + threads + " threads, step " + step;
            assertWithMessage("loss, %s", where).that(a.loss()).isEqualTo(b.loss());
            assertWithMessage("logits, %s", where).that(a.logits().data()).isEqualTo(b.logits().data());
            compared += 2;
            Map<String, Parameter> pa = reusing.model.namedParameters();
            Map<String, Parameter> pb = fresh.model.namedParameters();
            for (String key : pa.keySet()) {
              assertWithMessage("%s.grad, %s", key, where).that(pa.get(key).grad().data())
                  .isEqualTo(pb.get(key).grad().data());
              compared++;
            }
            Map<String, Tensor> sa = reusing.model.stateDict();
            Map<String, Tensor> sb = fresh.model.stateDict();
            assertThat(sa.keySet()).containsExactlyElementsIn(sb.keySet()).inOrder();
            for (String key : sa.keySet()) {
              assertWithMessage("%s, %s", key, where).that(sa.get(key).data()).isEqualTo(sb.get(key).data());
              compared++;
            }
          }
        }
      }
    } finally {
      Parallel.setThreads(before);
    }
    SequentialModel m = create("Plain");
    int perStep = 2 + m.namedParameters().size() + m.stateDict().size();
    assertThat(compared).isEqualTo(2 * 2 * 7 * perStep);
  }

  /**
   * Training-mode forward and backward return the same tensors on consecutive steps of one batch size, other
   * tensors after a change of batch size, and eval mode allocates its own on every call.
   */
  @Test
  void trainingStepsReturnTheSameTensors() throws Exception {
    SequentialModel m = create("Plain");
    SplittableRandom r = new SplittableRandom(4);
    Tensor y1 = m.forward(images(r, 6));
    Tensor g1 = m.backward(Tensor.zeros(6, 10));
    Tensor y2 = m.forward(images(r, 6));
    Tensor g2 = m.backward(Tensor.zeros(6, 10));
    assertThat(y2).isSameInstanceAs(y1);
    assertThat(g2).isSameInstanceAs(g1);
    Tensor y3 = m.forward(images(r, 4));
    assertThat(y3).isNotSameInstanceAs(y1);
    assertThat(y3.shape()).isEqualTo(new int[] {4, 10});
    m.eval();
    Tensor x = images(r, 4);
    Tensor e1 = m.forward(x);
    Tensor e2 = m.forward(x);
    assertThat(e1).isNotSameInstanceAs(e2);
    assertThat(e1).isNotSameInstanceAs(y3);
    assertThat(e1.data()).isEqualTo(e2.data());
  }

  /**
   * On one thread, a steady-state training step (zeroGrad, objective step, SGD step) of the reusing model
   * allocates less than 64 KB, while the same step allocating fresh tensors takes more than 2 MB (so the
   * measurement can tell them apart).
   */
  @Test
  void steadyStateStepAllocatesAlmostNothing() throws Exception {
    java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    assumeTrue(bean instanceof com.sun.management.ThreadMXBean, "needs com.sun.management.ThreadMXBean");
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
    assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
        "needs per-thread allocation counters");
    int before = Parallel.threads();
    Parallel.setThreads(1);
    try {
      List<Long> perStep = new ArrayList<>();
      for (String name : List.of("Plain", "Twice")) {
        for (boolean reuse : new boolean[] {true, false}) {
          Setup s = new Setup(name, reuse);
          SplittableRandom r = new SplittableRandom(6);
          Tensor x = images(r, 16);
          int[] y = labels(r, 16);
          for (int i = 0; i < 3; i++) {
            s.step(x, y);
          }
          int steps = 5;
          long start = threads.getCurrentThreadAllocatedBytes();
          for (int i = 0; i < steps; i++) {
            s.step(x, y);
          }
          long bytes = (threads.getCurrentThreadAllocatedBytes() - start) / steps;
          perStep.add(bytes);
          if (reuse) {
            assertWithMessage("%s, reusing buffers: bytes per step", name).that(bytes).isLessThan(64L << 10);
          } else {
            assertWithMessage("%s, fresh tensors: bytes per step", name).that(bytes).isGreaterThan(2L << 20);
          }
        }
      }
      assertThat(perStep).hasSize(4);
    } finally {
      Parallel.setThreads(before);
    }
  }
}
