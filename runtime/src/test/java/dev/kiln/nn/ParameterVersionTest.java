package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.optim.AdamW;
import dev.kiln.optim.Optimizer;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Which operations move {@link Parameter#version()}: every library write of parameter values, nothing else. */
class ParameterVersionTest {
  /** A module with parameters of its own and in two children. */
  private static final class Net extends AbstractModule {
    final Linear fc = registerModule("fc", new Linear(3, 2, true, 1));
    final Parameter scale = registerParameter("scale", Tensor.of(new float[] {2f}, 1));
    final BatchNorm2d bn = registerModule("bn", new BatchNorm2d(2));

    @Override
    public Tensor forward(Tensor input) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
      throw new UnsupportedOperationException();
    }
  }

  private static Map<String, Long> versions(Module m) {
    Map<String, Long> out = new LinkedHashMap<>();
    m.namedParameters().forEach((k, p) -> out.put(k, p.version()));
    return out;
  }

  private static Map<String, Tensor> copy(Map<String, Tensor> state) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    state.forEach((k, v) -> out.put(k, v.copy()));
    return out;
  }

  @Test
  void markChangedCountsFromZero() {
    Parameter p = Parameter.of("weight", Tensor.zeros(2, 2));
    assertThat(p.version()).isEqualTo(0L);
    p.markChanged();
    p.markChanged();
    assertThat(p.version()).isEqualTo(2L);
    p.zeroGrad();
    p.grad().fill(1f);
    assertThat(p.version()).isEqualTo(2L);
  }

  @Test
  void loadStateDictMarksEveryParameterOnceAndOnlyOnSuccess() {
    Net net = new Net();
    assertThat(versions(net)).containsExactly("fc.weight", 0L, "fc.bias", 0L, "scale", 0L, "bn.weight", 0L,
        "bn.bias", 0L).inOrder();
    Map<String, Tensor> state = copy(net.stateDict());
    state.get("fc.weight").fill(0.5f);
    net.loadStateDict(state);
    assertThat(versions(net)).containsExactly("fc.weight", 1L, "fc.bias", 1L, "scale", 1L, "bn.weight", 1L,
        "bn.bias", 1L).inOrder();
    assertThat(net.fc.weight().data().data()[0]).isEqualTo(0.5f);

    // A rejected state changes nothing, so nothing is marked.
    Map<String, Tensor> bad = copy(net.stateDict());
    bad.put("scale", Tensor.zeros(2));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> net.loadStateDict(bad)))
        .hasMessageThat().isEqualTo("wrong shape for key scale: expected [1] but got [2]");
    bad.remove("scale");
    assertThrows(IllegalArgumentException.class, () -> net.loadStateDict(bad));
    assertThat(versions(net).values()).containsExactly(1L, 1L, 1L, 1L, 1L);

    // A child loaded on its own marks only its parameters.
    net.fc.loadStateDict(copy(net.fc.stateDict()));
    assertThat(versions(net)).containsExactly("fc.weight", 2L, "fc.bias", 2L, "scale", 1L, "bn.weight", 1L,
        "bn.bias", 1L).inOrder();

    // Reading, zeroing gradients and switching modes are not writes.
    net.stateDict();
    net.zeroGrad();
    net.eval();
    net.train(true);
    assertThat(versions(net).values()).containsExactly(2L, 2L, 1L, 1L, 1L);
  }

  @Test
  void everyOptimizerStepMarksEveryParameter() {
    Map<String, Function<Map<String, Parameter>, Optimizer>> optimizers = new LinkedHashMap<>();
    optimizers.put("sgd", p -> Sgd.builder(p, 0.1).build());
    optimizers.put("sgd nesterov", p -> Sgd.builder(p, 0.1).momentum(0.9).nesterov(true).weightDecay(0.01)
        .noWeightDecay(name -> name.endsWith("bias")).build());
    optimizers.put("adamw", p -> AdamW.builder(p, 0.01).build());
    optimizers.put("adamw amsgrad", p -> AdamW.builder(p, 0.01).amsgrad(true).build());
    int checked = 0;
    for (Map.Entry<String, Function<Map<String, Parameter>, Optimizer>> e : optimizers.entrySet()) {
      Net net = new Net();
      Optimizer optimizer = e.getValue().apply(net.namedParameters());
      for (Parameter p : net.namedParameters().values()) {
        p.grad().fill(0.25f);
      }
      for (long step = 1; step <= 3; step++) {
        optimizer.step();
        assertThat(versions(net).values()).containsExactly(step, step, step, step, step);
        checked++;
      }
      // Not writes of parameter values: gradients, learning rate, optimizer state.
      optimizer.zeroGrad();
      optimizer.setLearningRate(0.5);
      optimizer.loadState(copy(optimizer.state()));
      assertThat(versions(net).values()).containsExactly(3L, 3L, 3L, 3L, 3L);
      assertThat(net.fc.weight().data().data()[0]).isNotEqualTo(new Linear(3, 2, true, 1).weight().data()
          .data()[0]);
      checked++;
    }
    assertThat(checked).isEqualTo(4 * 4);
  }

  @Test
  void gradientsAreAllocatedOnFirstUseAndStartAtZero() {
    Parameter p = Parameter.of("w", Tensor.of(new float[] {1f, 2f, 3f, 4f, 5f, 6f}, 2, 3));
    p.zeroGrad(); // nothing to zero yet

    Tensor grad = p.grad();

    assertThat(grad.shape()).asList().containsExactly(2, 3).inOrder();
    assertThat(grad.data()).usingExactEquality().containsExactly(0f, 0f, 0f, 0f, 0f, 0f).inOrder();
    assertThat(p.grad()).isSameInstanceAs(grad);
    grad.data()[4] = 9f;
    p.zeroGrad();
    assertThat(p.grad().data()[4]).isEqualTo(0f);
  }
}
