package dev.kiln.samples.cli;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.nn.Dropout;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.SequentialModel;
import dev.kiln.optim.LrSchedule;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sample networks and recipe against {@code tools/recipe/repvgg_recipe.py} (golden values written by
 * {@code tools/golden/cli_recipe_golden.py} with PyTorch): state-dict keys and shapes, the weight-decay split,
 * the one-cycle learning rates and the network's layer order.
 */
class RecipeTest {
  private static final List<String[]> golden = new ArrayList<>();

  @BeforeAll
  static void readGolden() throws IOException {
    try (InputStream in = RecipeTest.class.getResourceAsStream("recipe-golden.txt");
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (!line.startsWith("#") && !line.isBlank()) {
          golden.add(line.split(" "));
        }
      }
    }
  }

  private static List<String[]> rows(String kind, String dataset) {
    List<String[]> out = new ArrayList<>();
    for (String[] row : golden) {
      if (row[0].equals(kind) && (dataset == null || row[1].equals(dataset))) {
        out.add(row);
      }
    }
    return out;
  }

  @Test
  void stateDictKeysAndShapesMatchThePyTorchReference() {
    int compared = 0;
    for (DatasetName d : DatasetName.values()) {
      Map<String, Tensor> state = d.newModel(1).stateDict();
      Map<String, String> expected = new LinkedHashMap<>();
      for (String[] row : rows("key", d.cliName())) {
        expected.put(row[2], row[3]);
      }
      assertThat(expected).hasSize(55);
      assertThat(new ArrayList<>(state.keySet())).containsExactlyElementsIn(expected.keySet());
      for (Map.Entry<String, Tensor> e : state.entrySet()) {
        int[] shape = e.getValue().shape();
        String s = shape.length == 0 ? "-" : String.join(",", Arrays.stream(shape).mapToObj(Integer::toString)
            .toArray(String[]::new));
        assertWithMessage(e.getKey()).that(s).isEqualTo(expected.get(e.getKey()));
        compared++;
      }
      String[] output = rows("output", d.cliName()).get(0);
      assertThat(output[2]).isEqualTo("2,10");
      SequentialModel model = d.newModel(1);
      int[] in = model.inputShape();
      model.eval();
      assertThat(model.forward(Tensor.zeros(2, in[0], in[1], in[2])).shape()).isEqualTo(new int[] {2, 10});
    }
    assertThat(compared).isEqualTo(2 * 55);
  }

  @Test
  void layersAreTheReferenceNetsInOrder() {
    for (DatasetName d : DatasetName.values()) {
      SequentialModel model = d.newModel(1);
      assertThat(model.layers().keySet()).containsExactly("stage0", "stage1", "stage2", "stage3", "gap", "flatten",
          "dropout", "fc").inOrder();
      assertThat(((Dropout) model.layers().get("dropout")).p()).isEqualTo(0.3);
    }
    assertThat(new DigitsNetModel(1).inputShape()).isEqualTo(new int[] {1, 8, 8});
    assertThat(new FashionNetModel(1).inputShape()).isEqualTo(new int[] {1, 28, 28});
  }

  /** With zero gradients one SGD step changes exactly the parameters that get weight decay. */
  @Test
  void weightDecayOnlyOnParametersWithMoreThanOneDimension() {
    for (DatasetName d : DatasetName.values()) {
      SequentialModel model = d.newModel(3);
      Set<String> expectDecay = new TreeSet<>();
      Set<String> all = new TreeSet<>();
      for (String[] row : rows("decay", d.cliName())) {
        expectDecay.add(row[2]);
        all.add(row[2]);
      }
      for (String[] row : rows("nodecay", d.cliName())) {
        all.add(row[2]);
      }
      assertThat(model.namedParameters().keySet()).containsExactlyElementsIn(all);
      Map<String, float[]> before = new LinkedHashMap<>();
      model.namedParameters().forEach((k, p) -> before.put(k, p.data().data().clone()));
      Sgd sgd = Recipe.optimizer(model, 0.05);
      sgd.zeroGrad();
      sgd.step();
      Set<String> changed = new TreeSet<>();
      for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
        if (!Arrays.equals(before.get(e.getKey()), e.getValue().data().data())) {
          changed.add(e.getKey());
        }
      }
      assertThat(changed).isEqualTo(expectDecay);
      assertThat(expectDecay).hasSize(9); // 8 conv weights + fc.weight
    }
  }

  @Test
  void oneCycleScheduleMatchesPyTorch() {
    List<String[]> lrs = rows("lr", null);
    assertThat(lrs).hasSize(240);
    int steps = Recipe.stepsPerEpoch(1500, 64);
    assertThat(steps).isEqualTo(24);
    LrSchedule schedule = Recipe.schedule(0.05, 10, steps);
    for (String[] row : lrs) {
      assertThat(Integer.parseInt(row[1])).isEqualTo(240);
      double expected = Double.parseDouble(row[3]);
      assertWithMessage("step " + row[2]).that(schedule.lr(Long.parseLong(row[2])))
          .isWithin(1e-12 * expected + 1e-18).of(expected);
    }
  }
}
