package dev.kiln.optim;

import static com.google.common.truth.Truth.assertThat;
import static dev.kiln.testing.NumericAssertions.assertClose;
import static dev.kiln.testing.NumericAssertions.relative;

import dev.kiln.nn.Parameter;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.Golden;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SGD and AdamW against {@code torch.optim} (float32, 5 steps, a fixed sequence of random gradients and a
 * learning rate set before every step), parameters compared after every step.
 */
class OptimizerGoldenTest {
  private static final int STEPS = 5;
  private static final double RTOL = 1e-4;
  private static final String[] NAMES = {"weight", "bias"};

  private interface Factory {
    Optimizer create(Golden golden, String prefix, Map<String, Parameter> params);
  }

  private static Optimizer sgd(Golden g, String p, Map<String, Parameter> params) {
    return Sgd.builder(params, g.doubles(p + "lr")[0])
        .momentum(g.scalar(p + "momentum"))
        .dampening(g.scalar(p + "dampening"))
        .nesterov(g.flag(p + "nesterov"))
        .weightDecay(g.scalar(p + "weight_decay"))
        .noWeightDecay(name -> g.flag(p + "no_decay_bias") && name.equals("bias"))
        .build();
  }

  private static Optimizer adamW(Golden g, String p, Map<String, Parameter> params) {
    return AdamW.builder(params, g.doubles(p + "lr")[0])
        .betas(g.scalar(p + "beta1"), g.scalar(p + "beta2"))
        .eps(g.scalar(p + "eps"))
        .weightDecay(g.scalar(p + "weight_decay"))
        .amsgrad(g.flag(p + "amsgrad"))
        .noWeightDecay(name -> g.flag(p + "no_decay_bias") && name.equals("bias"))
        .build();
  }

  private static Map<String, Parameter> initialParams(Golden g, String p) {
    Map<String, Parameter> params = new LinkedHashMap<>();
    for (String name : NAMES) {
      params.put(name, Parameter.of(name, g.tensor(p + "init." + name)));
    }
    return params;
  }

  /** Runs steps {@code [from, to)} and compares the parameters after each with PyTorch's. */
  private static void run(Golden g, String p, Optimizer opt, Map<String, Parameter> params, int from, int to) {
    double[] lrs = g.doubles(p + "lr");
    for (int s = from; s < to; s++) {
      opt.setLearningRate(lrs[s]);
      for (String name : NAMES) {
        float[] grad = g.tensor(p + "grad." + s + "." + name).data();
        System.arraycopy(grad, 0, params.get(name).grad().data(), 0, grad.length);
      }
      opt.step();
      for (String name : NAMES) {
        String key = p + "param." + s + "." + name;
        assertClose(key, g.shape(key), g.doubles(key), params.get(name).data(), relative(RTOL).floorOfLargest(1e-2));
      }
    }
  }

  private static int runAll(String file, Factory factory) {
    Golden g = Golden.load("/golden/loss_optim/" + file + ".safetensors");
    for (String p : g.casePrefixes(file)) {
      Map<String, Parameter> params = initialParams(g, p);
      run(g, p, factory.create(g, p, params), params, 0, STEPS);
    }
    return g.cases();
  }

  /** Two steps, a checkpoint of the state, then the remaining steps on a fresh optimizer loaded from it. */
  private static int resumeAll(String file, Factory factory) {
    Golden g = Golden.load("/golden/loss_optim/" + file + ".safetensors");
    for (String p : g.casePrefixes(file)) {
      Map<String, Parameter> params = initialParams(g, p);
      Optimizer first = factory.create(g, p, params);
      run(g, p, first, params, 0, 2);
      Map<String, Tensor> checkpoint = new LinkedHashMap<>();
      first.state().forEach((k, v) -> checkpoint.put(k, v.copy()));
      assertThat(checkpoint.get("step").data()[0]).isEqualTo(2f);

      Map<String, Parameter> resumed = new LinkedHashMap<>();
      params.forEach((name, param) -> resumed.put(name, Parameter.of(name, param.data().copy())));
      Optimizer second = factory.create(g, p, resumed);
      second.loadState(checkpoint);
      run(g, p, second, resumed, 2, STEPS);
    }
    return g.cases();
  }

  /** Each optimizer: its golden file, how it is built from a case, and how many cases the file holds. */
  static Stream<Arguments> optimizers() {
    return Stream.of(
        Arguments.of("sgd", (Factory) OptimizerGoldenTest::sgd, 8),
        Arguments.of("adamw", (Factory) OptimizerGoldenTest::adamW, 6));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("optimizers")
  void matchesTorch(String file, Factory factory, int cases) {
    assertThat(runAll(file, factory)).isEqualTo(cases);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("optimizers")
  void resumesFromItsState(String file, Factory factory, int cases) {
    assertThat(resumeAll(file, factory)).isEqualTo(cases);
  }

  /** The golden cases cover each option. */
  @Test
  void casesCoverTheOptions() {
    Golden sgd = Golden.load("/golden/loss_optim/sgd.safetensors");
    int nesterov = 0;
    int momentum = 0;
    int decayed = 0;
    int noDecayBias = 0;
    for (String p : sgd.casePrefixes("sgd")) {
      nesterov += sgd.flag(p + "nesterov") ? 1 : 0;
      momentum += sgd.scalar(p + "momentum") > 0 ? 1 : 0;
      decayed += sgd.scalar(p + "weight_decay") > 0 ? 1 : 0;
      noDecayBias += sgd.flag(p + "no_decay_bias") ? 1 : 0;
    }
    assertThat(nesterov).isEqualTo(2);
    assertThat(momentum).isEqualTo(6);
    assertThat(decayed).isEqualTo(4);
    assertThat(noDecayBias).isEqualTo(1);
    Golden adam = Golden.load("/golden/loss_optim/adamw.safetensors");
    int amsgrad = 0;
    for (int i = 0; i < adam.cases(); i++) {
      amsgrad += adam.flag("adamw." + i + ".amsgrad") ? 1 : 0;
    }
    assertThat(amsgrad).isEqualTo(3);
  }
}
