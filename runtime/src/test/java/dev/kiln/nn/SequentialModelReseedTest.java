package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;

import dev.kiln.tensor.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** {@link SequentialModel#reseed}: every Dropout restarts from a seed of (seed, position), nothing else changes. */
class SequentialModelReseedTest {
  /** Two dropouts around a linear layer, and a reseedable layer that records its seed. */
  private static final class Net extends SequentialModel {
    final Dropout first;
    final Linear fc;
    final Dropout second;
    final Recording recording;

    Net(long seed) {
      super(new int[] {40}, new int[] {40});
      first = add("first", new Dropout(0.5, seed));
      fc = add("fc", new Linear(40, 40, true, seed + 1));
      second = add("second", new Dropout(0.5, seed + 2));
      recording = add("recording", new Recording());
    }
  }

  /** An identity layer that remembers the seeds it is given. */
  private static final class Recording extends AbstractModule implements Reseedable {
    long lastSeed;
    int calls;

    @Override
    public void reseed(long seed) {
      lastSeed = seed;
      calls++;
    }

    @Override
    public Tensor forward(Tensor input) {
      return input;
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
      return gradOutput;
    }
  }

  private static Tensor ones() {
    Tensor x = Tensor.zeros(8, 40);
    Arrays.fill(x.data(), 1f);
    return x;
  }

  /** The masks of both dropouts for one forward pass, as the zero pattern of each layer's output. */
  private static boolean[][] masks(Net net) {
    Tensor x = ones();
    float[] a = net.first.forward(x).data();
    float[] b = net.second.forward(x).data();
    boolean[][] m = new boolean[2][a.length];
    for (int i = 0; i < a.length; i++) {
      m[0][i] = a[i] == 0f;
      m[1][i] = b[i] == 0f;
    }
    return m;
  }

  @Test
  void reseedRestartsEachDropoutFromItsOwnDerivedSeed() {
    Net net = new Net(3);
    float[] weightsBefore = net.fc.weight().data().data().clone();
    net.reseed(42);
    boolean[][] run1 = masks(net);
    masks(net); // advance the streams
    net.reseed(42);
    boolean[][] run2 = masks(net);
    assertThat(Arrays.deepEquals(run1, run2)).isTrue();
    // the two layers draw different masks, each as a fresh Dropout with the documented derived seed would
    assertThat(Arrays.equals(run1[0], run1[1])).isFalse();
    Dropout expectedFirst = new Dropout(0.5, SequentialModel.layerSeed(42, 0));
    Dropout expectedSecond = new Dropout(0.5, SequentialModel.layerSeed(42, 2));
    float[] ea = expectedFirst.forward(ones()).data();
    float[] eb = expectedSecond.forward(ones()).data();
    int compared = 0;
    for (int i = 0; i < ea.length; i++) {
      assertThat(run1[0][i]).isEqualTo(ea[i] == 0f);
      assertThat(run1[1][i]).isEqualTo(eb[i] == 0f);
      compared++;
    }
    assertThat(compared).isEqualTo(8 * 40);
    // another seed gives other masks; the weights are untouched
    net.reseed(43);
    assertThat(Arrays.deepEquals(masks(net), run1)).isFalse();
    assertThat(net.fc.weight().data().data()).isEqualTo(weightsBefore);
    // a reseedable layer gets its positional seed
    assertThat(net.recording.calls).isEqualTo(3);
    assertThat(net.recording.lastSeed).isEqualTo(SequentialModel.layerSeed(43, 3));
  }

  @Test
  void layerSeedsDifferByPositionAndSeed() {
    assertThat(SequentialModel.layerSeed(1, 0)).isNotEqualTo(SequentialModel.layerSeed(1, 1));
    assertThat(SequentialModel.layerSeed(1, 0)).isNotEqualTo(SequentialModel.layerSeed(2, 0));
    assertThat(SequentialModel.layerSeed(7, 5)).isEqualTo(SequentialModel.layerSeed(7, 5));
  }
}
