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
 * {@code tools/golden/cli_recipe_golden.py} with PyTorch), for both data sets and both dropout placements
 * ({@code --dropout-at head} and {@code blocks}): state-dict keys and shapes, the weight-decay split, the
 * one-cycle learning rates, the networks' layer order and dropout layers, and the training subset
 * {@code --train-samples} takes.
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

  /** The golden files' name of a network: {@code digits/head}, {@code fashion-mnist/blocks}. */
  private static String network(DatasetName d, DropoutAt at) {
    return d.cliName() + "/" + at.cliName();
  }

  @Test
  void stateDictKeysAndShapesMatchThePyTorchReference() {
    int compared = 0;
    for (DatasetName d : DatasetName.values()) {
      for (DropoutAt at : DropoutAt.values()) {
        compared += compareStateDict(d, at);
      }
    }
    assertThat(compared).isEqualTo(4 * 55);
  }

  private static int compareStateDict(DatasetName d, DropoutAt at) {
    String name = network(d, at);
    int compared = 0;
    Map<String, Tensor> state = d.newModel(at, 1).stateDict();
    Map<String, String> expected = new LinkedHashMap<>();
    for (String[] row : rows("key", name)) {
      expected.put(row[2], row[3]);
    }
    assertThat(expected).hasSize(55);
    assertThat(new ArrayList<>(state.keySet())).containsExactlyElementsIn(expected.keySet());
    for (Map.Entry<String, Tensor> e : state.entrySet()) {
      int[] shape = e.getValue().shape();
      String s = shape.length == 0 ? "-" : String.join(",", Arrays.stream(shape).mapToObj(Integer::toString)
          .toArray(String[]::new));
      assertWithMessage(name + " " + e.getKey()).that(s).isEqualTo(expected.get(e.getKey()));
      compared++;
    }
    String[] output = rows("output", name).get(0);
    assertThat(output[2]).isEqualTo("2,10");
    SequentialModel model = d.newModel(at, 1);
    int[] in = model.inputShape();
    for (boolean training : new boolean[] {true, false}) {
      model.train(training);
      assertThat(model.forward(Tensor.zeros(2, in[0], in[1], in[2])).shape()).isEqualTo(new int[] {2, 10});
    }
    return compared;
  }

  @Test
  void layersAreTheReferenceNetsInOrder() {
    int networks = 0;
    for (DatasetName d : DatasetName.values()) {
      for (DropoutAt at : DropoutAt.values()) {
        String name = network(d, at);
        SequentialModel model = d.newModel(at, 1);
        List<String[]> layers = rows("layers", name);
        assertThat(layers).hasSize(1);
        List<String> expected = Arrays.asList(layers.get(0)).subList(2, layers.get(0).length);
        assertWithMessage(name).that(new ArrayList<>(model.layers().keySet())).containsExactlyElementsIn(expected)
            .inOrder();
        Map<String, Double> expectedDropout = new LinkedHashMap<>();
        for (String[] row : rows("dropout", name)) {
          expectedDropout.put(row[2], Double.parseDouble(row[3]));
        }
        Map<String, Double> dropout = new LinkedHashMap<>();
        model.layers().forEach((layer, m) -> {
          if (m instanceof Dropout drop) {
            dropout.put(layer, drop.p());
          }
        });
        assertWithMessage(name).that(dropout).containsExactlyEntriesIn(expectedDropout).inOrder();
        assertThat(dropout).hasSize(at == DropoutAt.BLOCKS ? 5 : 1);
        assertThat(d.networkName(at)).isEqualTo(model.getClass().getSimpleName().replace("Model", ""));
        networks++;
      }
    }
    assertThat(networks).isEqualTo(4);
    assertThat(new DigitsNetModel(1).inputShape()).isEqualTo(new int[] {1, 8, 8});
    assertThat(new FashionNetModel(1).inputShape()).isEqualTo(new int[] {1, 28, 28});
    assertThat(new DigitsNetBlockDropoutModel(1).inputShape()).isEqualTo(new int[] {1, 8, 8});
    assertThat(new FashionNetBlockDropoutModel(1).inputShape()).isEqualTo(new int[] {1, 28, 28});
  }

  /** {@code --train-samples N} trains on the samples the recipe's {@code first(split, N)} takes. */
  @Test
  void trainSubsetIsTheRecipesFirstSamples() {
    List<String[]> subsets = rows("subset", "digits");
    assertThat(subsets).hasSize(3);
    DatasetName.Split all = DatasetName.DIGITS.load(null);
    for (String[] row : subsets) {
      int n = Integer.parseInt(row[2]);
      dev.kiln.data.InMemoryDataset train = all.withTrainSamples(n).train();
      assertThat(train.size()).isEqualTo(Integer.parseInt(row[3]));
      long labelSum = 0;
      double pixelSum = 0;
      List<String> first = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        labelSum += train.label(i);
        if (i < 16) {
          first.add(Integer.toString(train.label(i)));
        }
      }
      float[] sample = new float[64];
      for (int i = 0; i < n; i++) {
        train.copySample(i, sample, 0);
        for (float v : sample) {
          pixelSum += v;
        }
      }
      assertWithMessage("n = " + n).that(labelSum).isEqualTo(Long.parseLong(row[4]));
      assertWithMessage("n = " + n).that(pixelSum).isEqualTo(Double.parseDouble(row[5]));
      assertWithMessage("n = " + n).that(String.join(",", first)).isEqualTo(row[6]);
    }
  }

  /** With zero gradients one SGD step changes exactly the parameters that get weight decay. */
  @Test
  void weightDecayOnlyOnParametersWithMoreThanOneDimension() {
    for (DatasetName d : DatasetName.values()) {
      SequentialModel model = d.newModel(3);
      Set<String> expectDecay = new TreeSet<>();
      Set<String> all = new TreeSet<>();
      for (String[] row : rows("decay", network(d, DropoutAt.HEAD))) {
        expectDecay.add(row[2]);
        all.add(row[2]);
      }
      for (String[] row : rows("nodecay", network(d, DropoutAt.HEAD))) {
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
