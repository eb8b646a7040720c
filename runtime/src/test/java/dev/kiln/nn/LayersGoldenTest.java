package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.testing.NumericAssertions.assertClose;

import dev.kiln.tensor.Tensor;
import dev.kiln.testing.Golden;
import dev.kiln.testing.NumericAssertions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Forward, backward, parameter gradients and BatchNorm running statistics against PyTorch 1.13, from the
 * vectors written by {@code tools/golden/layers_golden.py}.
 */
class LayersGoldenTest {
  private static final NumericAssertions.Tolerance TOLERANCE = NumericAssertions.relative(1e-4).orAbsolute(1e-5);

  @Test
  @SuppressWarnings("unchecked")
  void everyLayerMatchesPyTorch() {
    Golden golden = Golden.load("/golden/layers/layers.safetensors");
    List<Object> cases = (List<Object>) golden.metadataJson("cases");
    List<String> failures = new ArrayList<>();
    Map<String, Integer> perLayer = new TreeMap<>();
    int compared = 0;
    for (Object o : cases) {
      Map<String, Object> config = (Map<String, Object>) o;
      String id = (String) config.get("id");
      String layer = (String) config.get("layer");
      compared += runCase(golden, id, config, failures);
      perLayer.merge(layer, 1, Integer::sum);
    }
    assertWithMessage("mismatches").that(failures).isEmpty();
    Map<String, Integer> expected = new TreeMap<>(Map.of("Linear", 5, "ReLU", 2, "Flatten", 3,
        "GlobalAvgPool2d", 3, "MaxPool2d", 13, "AvgPool2d", 8, "BatchNorm2d", 6));
    assertThat(perLayer).isEqualTo(expected);
    assertThat(cases).hasSize(40);
    // output + grad_input per case, 2 parameter grads for 3 Linear and 6 BN cases, 1 for 2 Linear cases,
    // and 3 running-state tensors for 6 BN cases.
    assertThat(compared).isEqualTo(40 * 2 + 9 * 2 + 2 + 6 * 3);
  }

  /** Runs one case and returns the number of tensors compared. */
  @SuppressWarnings("unchecked")
  private static int runCase(Golden g, String id, Map<String, Object> config, List<String> failures) {
    Module module = build(config);
    boolean training = (Boolean) config.get("training");
    Map<String, Tensor> state = new LinkedHashMap<>();
    for (String key : module.stateDict().keySet()) {
      state.put(key, g.tensor(id + "." + key));
    }
    module.loadStateDict(state);
    module.train(training);
    Tensor input = g.tensor(id + ".input");
    List<Double> shape = (List<Double>) config.get("input_shape");
    assertThat(input.shape().length).isEqualTo(shape.size());
    int compared = 0;
    compared += compare(failures, id + " " + module + " output", g.tensor(id + ".output"), module.forward(input));
    Tensor gradInput = module.backward(g.tensor(id + ".grad_output"));
    compared += compare(failures, id + " " + module + " grad_input", g.tensor(id + ".grad_input"), gradInput);
    for (Map.Entry<String, Parameter> p : module.namedParameters().entrySet()) {
      compared += compare(failures, id + " " + module + " grad." + p.getKey(), g.tensor(id + ".grad." + p.getKey()),
          p.getValue().grad());
    }
    if (module instanceof BatchNorm2d) {
      for (String key : new String[] {"running_mean", "running_var", "num_batches_tracked"}) {
        compared += compare(failures, id + " " + module + " " + key + " after forward",
            g.tensor(id + ".after." + key), module.stateDict().get(key));
      }
    }
    return compared;
  }

  @SuppressWarnings("unchecked")
  private static Module build(Map<String, Object> c) {
    String layer = (String) c.get("layer");
    switch (layer) {
      case "Linear":
        return new Linear(integer(c.get("in")), integer(c.get("out")), (Boolean) c.get("bias"), 7L);
      case "ReLU":
        return new ReLU();
      case "Flatten":
        return new Flatten();
      case "GlobalAvgPool2d":
        return new GlobalAvgPool2d();
      case "MaxPool2d":
      case "AvgPool2d": {
        List<Object> k = (List<Object>) c.get("kernel");
        List<Object> s = (List<Object>) c.get("stride");
        List<Object> p = (List<Object>) c.get("padding");
        int[] a = {integer(k.get(0)), integer(k.get(1)), integer(s.get(0)), integer(s.get(1)), integer(p.get(0)),
            integer(p.get(1))};
        return layer.equals("MaxPool2d")
            ? new MaxPool2d(a[0], a[1], a[2], a[3], a[4], a[5])
            : new AvgPool2d(a[0], a[1], a[2], a[3], a[4], a[5]);
      }
      case "BatchNorm2d":
        return new BatchNorm2d(integer(c.get("features")));
      default:
        throw new AssertionError("unknown layer in golden file: " + layer);
    }
  }

  private static int integer(Object json) {
    return ((Double) json).intValue();
  }

  private static int compare(List<String> failures, String what, Tensor expected, Tensor actual) {
    try {
      assertClose(what, expected, actual, TOLERANCE);
    } catch (AssertionError e) {
      failures.add(e.getMessage());
    }
    return 1;
  }
}
