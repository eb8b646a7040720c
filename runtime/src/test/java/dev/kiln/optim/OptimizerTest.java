package dev.kiln.optim;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.nn.Parameter;
import dev.kiln.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Construction, state keys, strict state loading and the small contract methods of both optimizers. */
class OptimizerTest {
  private static Map<String, Parameter> params() {
    Map<String, Parameter> params = new LinkedHashMap<>();
    params.put("fc.weight", Parameter.of("weight", Tensor.of(new float[] {1, 2, 3, 4}, 2, 2)));
    params.put("fc.bias", Parameter.of("bias", Tensor.of(new float[] {0.5f, -0.5f}, 2)));
    return params;
  }

  @Test
  void stateKeysNameTheBuffersAndParameters() {
    assertThat(List.copyOf(Sgd.builder(params(), 0.1).build().state().keySet())).isEqualTo(List.of("step"));
    assertThat(List.copyOf(Sgd.builder(params(), 0.1).momentum(0.9).build().state().keySet()))
        .isEqualTo(List.of("step", "momentum_buffer.fc.weight", "momentum_buffer.fc.bias"));
    assertThat(List.copyOf(AdamW.builder(params(), 0.1).build().state().keySet()))
        .isEqualTo(List.of("step", "exp_avg.fc.weight", "exp_avg.fc.bias", "exp_avg_sq.fc.weight",
            "exp_avg_sq.fc.bias"));
    Map<String, Tensor> amsgrad = AdamW.builder(params(), 0.1).amsgrad(true).build().state();
    assertThat(amsgrad.size()).isEqualTo(7);
    assertThat(amsgrad.get("max_exp_avg_sq.fc.weight").shape()).isEqualTo(new int[] {2, 2});
    assertThat(amsgrad.get("step").shape()).isEqualTo(new int[0]);
  }

  @Test
  void stateIsLive() {
    Map<String, Parameter> params = params();
    AdamW adam = AdamW.builder(params, 0.1).build();
    Map<String, Tensor> state = adam.state();
    Tensor expAvg = state.get("exp_avg.fc.weight");
    params.get("fc.weight").grad().fill(1f);
    adam.step();
    assertThat(adam.state().get("exp_avg.fc.weight")).isSameInstanceAs(expAvg);
    assertThat(expAvg.data()[0]).isWithin(1e-7f).of(0.1f);
    assertThat(state.get("step").data()[0]).isEqualTo(1f);
  }

  @Test
  void loadStateIsStrict() {
    AdamW adam = AdamW.builder(params(), 0.1).build();
    Map<String, Tensor> state = new LinkedHashMap<>(adam.state());
    state.remove("exp_avg.fc.bias");
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> adam.loadState(state)))
        .hasMessageThat().isEqualTo("missing key exp_avg.fc.bias (expected shape [2])");
    state.put("exp_avg.fc.bias", Tensor.zeros(3));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> adam.loadState(state)))
        .hasMessageThat().isEqualTo("wrong shape for key exp_avg.fc.bias: expected [2] but got [3]");
    state.put("exp_avg.fc.bias", Tensor.zeros(2));
    state.put("momentum_buffer.fc.bias", Tensor.zeros(2));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> adam.loadState(state)))
        .hasMessageThat().isEqualTo("unexpected key momentum_buffer.fc.bias (shape [2])");
    state.remove("momentum_buffer.fc.bias");
    state.put("step", Tensor.scalar(1.5f));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> adam.loadState(state)))
        .hasMessageThat().isEqualTo("step: expected a whole number >= 0 but got 1.5");
  }

  @Test
  void noWeightDecayExemptsMatchingNames() {
    Map<String, Parameter> params = params();
    Sgd sgd = Sgd.builder(params, 0.5).weightDecay(0.1).noWeightDecay(name -> name.endsWith("bias")).build();
    sgd.step(); // zero gradients: only the decay moves the weights
    assertThat(params.get("fc.weight").data().data())
        .usingTolerance(1e-6f).containsExactly(new float[] {0.95f, 1.9f, 2.85f, 3.8f}).inOrder();
    assertThat(params.get("fc.bias").data().data()).isEqualTo(new float[] {0.5f, -0.5f});
  }

  @Test
  void learningRateAndZeroGrad() {
    Map<String, Parameter> params = params();
    Optimizer sgd = Sgd.builder(params, 0.1).build();
    assertThat(sgd.learningRate()).isEqualTo(0.1);
    sgd.setLearningRate(0.25);
    assertThat(sgd.learningRate()).isEqualTo(0.25);
    params.get("fc.bias").grad().fill(2f);
    sgd.step();
    assertThat(params.get("fc.bias").data().data()).isEqualTo(new float[] {0f, -1f});
    sgd.zeroGrad();
    assertThat(params.get("fc.bias").grad().data()).isEqualTo(new float[] {0f, 0f});
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> sgd.setLearningRate(-1)))
        .hasMessageThat().isEqualTo("lr: expected a finite value >= 0 but got -1.0");
  }

  @Test
  void rejectsInvalidOptions() {
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> Sgd.builder(params(), 0.1).nesterov(true).build()))
        .hasMessageThat()
        .isEqualTo("nesterov: expected momentum > 0 and dampening == 0 but got momentum=0.0, dampening=0.0");
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> Sgd.builder(params(), 0.1).momentum(0.9).dampening(0.1).nesterov(true).build()))
        .hasMessageThat()
        .isEqualTo("nesterov: expected momentum > 0 and dampening == 0 but got momentum=0.9, dampening=0.1");
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> AdamW.builder(params(), 0.1).betas(0.9, 1).build()))
        .hasMessageThat().isEqualTo("beta2: expected a value in [0, 1) but got 1.0");
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> AdamW.builder(Map.of(), 0.1).build()))
        .hasMessageThat().isEqualTo("parameters: expected at least one parameter but got none");
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> Sgd.builder(params(), 0.1).weightDecay(-0.1).build()))
        .hasMessageThat().isEqualTo("weightDecay: expected a finite value >= 0 but got -0.1");
  }
}
