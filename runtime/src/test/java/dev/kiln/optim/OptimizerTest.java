package dev.kiln.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
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
    assertEquals(List.of("step"), List.copyOf(Sgd.builder(params(), 0.1).build().state().keySet()));
    assertEquals(List.of("step", "momentum_buffer.fc.weight", "momentum_buffer.fc.bias"),
        List.copyOf(Sgd.builder(params(), 0.1).momentum(0.9).build().state().keySet()));
    assertEquals(List.of("step", "exp_avg.fc.weight", "exp_avg.fc.bias", "exp_avg_sq.fc.weight", "exp_avg_sq.fc.bias"),
        List.copyOf(AdamW.builder(params(), 0.1).build().state().keySet()));
    Map<String, Tensor> amsgrad = AdamW.builder(params(), 0.1).amsgrad(true).build().state();
    assertEquals(7, amsgrad.size());
    assertArrayEquals(new int[] {2, 2}, amsgrad.get("max_exp_avg_sq.fc.weight").shape());
    assertArrayEquals(new int[0], amsgrad.get("step").shape());
  }

  @Test
  void stateIsLive() {
    Map<String, Parameter> params = params();
    AdamW adam = AdamW.builder(params, 0.1).build();
    Map<String, Tensor> state = adam.state();
    Tensor expAvg = state.get("exp_avg.fc.weight");
    params.get("fc.weight").grad().fill(1f);
    adam.step();
    assertSame(expAvg, adam.state().get("exp_avg.fc.weight"));
    assertEquals(0.1f, expAvg.data()[0], 1e-7f);
    assertEquals(1f, state.get("step").data()[0]);
  }

  @Test
  void loadStateIsStrict() {
    AdamW adam = AdamW.builder(params(), 0.1).build();
    Map<String, Tensor> state = new LinkedHashMap<>(adam.state());
    state.remove("exp_avg.fc.bias");
    assertEquals("missing key exp_avg.fc.bias (expected shape [2])",
        assertThrows(IllegalArgumentException.class, () -> adam.loadState(state)).getMessage());
    state.put("exp_avg.fc.bias", Tensor.zeros(3));
    assertEquals("wrong shape for key exp_avg.fc.bias: expected [2] but got [3]",
        assertThrows(IllegalArgumentException.class, () -> adam.loadState(state)).getMessage());
    state.put("exp_avg.fc.bias", Tensor.zeros(2));
    state.put("momentum_buffer.fc.bias", Tensor.zeros(2));
    assertEquals("unexpected key momentum_buffer.fc.bias (shape [2])",
        assertThrows(IllegalArgumentException.class, () -> adam.loadState(state)).getMessage());
    state.remove("momentum_buffer.fc.bias");
    state.put("step", Tensor.scalar(1.5f));
    assertEquals("step: expected a whole number >= 0 but got 1.5",
        assertThrows(IllegalArgumentException.class, () -> adam.loadState(state)).getMessage());
  }

  @Test
  void noWeightDecayExemptsMatchingNames() {
    Map<String, Parameter> params = params();
    Sgd sgd = Sgd.builder(params, 0.5).weightDecay(0.1).noWeightDecay(name -> name.endsWith("bias")).build();
    sgd.step(); // zero gradients: only the decay moves the weights
    assertArrayEquals(new float[] {0.95f, 1.9f, 2.85f, 3.8f}, params.get("fc.weight").data().data(), 1e-6f);
    assertArrayEquals(new float[] {0.5f, -0.5f}, params.get("fc.bias").data().data());
  }

  @Test
  void learningRateAndZeroGrad() {
    Map<String, Parameter> params = params();
    Optimizer sgd = Sgd.builder(params, 0.1).build();
    assertEquals(0.1, sgd.learningRate());
    sgd.setLearningRate(0.25);
    assertEquals(0.25, sgd.learningRate());
    params.get("fc.bias").grad().fill(2f);
    sgd.step();
    assertArrayEquals(new float[] {0f, -1f}, params.get("fc.bias").data().data());
    sgd.zeroGrad();
    assertArrayEquals(new float[] {0f, 0f}, params.get("fc.bias").grad().data());
    assertEquals("lr: expected a finite value >= 0 but got -1.0",
        assertThrows(IllegalArgumentException.class, () -> sgd.setLearningRate(-1)).getMessage());
  }

  @Test
  void rejectsInvalidOptions() {
    assertEquals("nesterov: expected momentum > 0 and dampening == 0 but got momentum=0.0, dampening=0.0",
        assertThrows(IllegalArgumentException.class, () -> Sgd.builder(params(), 0.1).nesterov(true).build())
            .getMessage());
    assertEquals("nesterov: expected momentum > 0 and dampening == 0 but got momentum=0.9, dampening=0.1",
        assertThrows(IllegalArgumentException.class,
            () -> Sgd.builder(params(), 0.1).momentum(0.9).dampening(0.1).nesterov(true).build()).getMessage());
    assertEquals("beta2: expected a value in [0, 1) but got 1.0",
        assertThrows(IllegalArgumentException.class, () -> AdamW.builder(params(), 0.1).betas(0.9, 1).build())
            .getMessage());
    assertEquals("parameters: expected at least one parameter but got none",
        assertThrows(IllegalArgumentException.class, () -> AdamW.builder(Map.of(), 0.1).build()).getMessage());
    assertEquals("weightDecay: expected a finite value >= 0 but got -0.1",
        assertThrows(IllegalArgumentException.class, () -> Sgd.builder(params(), 0.1).weightDecay(-0.1).build())
            .getMessage());
  }
}
