package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.BatchNorm2d;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Dropout;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.GlobalAvgPool2d;
import dev.kiln.nn.Linear;
import dev.kiln.nn.MaxPool2d;
import dev.kiln.nn.Module;
import dev.kiln.nn.ReLU;
import dev.kiln.nn.SequentialModel;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The blocked-layout network engine against the same layers run one by one: a stem on padded planes,
 * stride 2, depthwise and pointwise convolutions, standalone BatchNorm and ReLU, a layer it does not know
 * (max pooling) in the middle, global average pooling, flatten, dropout and a linear layer; batch sizes 1-3,
 * 1 and 2 threads (bitwise the same), concurrent callers (bitwise the same as one).
 */
class BlockedNetworkTest {
  private final int savedThreads = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(savedThreads);
    BlockedNetwork.rowBuffers = true;
  }

  /** A small MobileNet-like network with one layer the engine does not know. */
  static final class Net extends SequentialModel {
    Net(long seed) {
      super(new int[] {3, 19, 17}, new int[] {10});
      add("stem", conv(3, 24, 19, 17, 3, 2, 1, 1, Activation.RELU, seed));
      add("dw", conv(24, 24, 10, 9, 3, 1, 1, 24, Activation.NONE, seed + 1));
      add("dw_bn", bn(24, seed));
      add("dw_relu", new ReLU());
      add("pw", conv(24, 40, 10, 9, 1, 1, 0, 1, Activation.RELU, seed + 2));
      add("pool", new MaxPool2d(2, 2, 0));
      add("conv", conv(40, 36, 5, 4, 3, 1, 1, 1, Activation.RELU, seed + 3));
      add("gap", new GlobalAvgPool2d());
      add("flatten", new Flatten());
      add("dropout", new Dropout(0.3, seed));
      add("fc", new Linear(36, 10, true, seed + 4));
    }

    static Module conv(int in, int out, int h, int w, int k, int s, int p, int groups, Activation act,
        long seed) {
      return new NaiveConvKernel(NaiveConvKernel.geometry(in, out, h, w, k, k, s, s, 1, 1, p, p, p, p, groups,
          PaddingMode.ZEROS), true, act, seed);
    }

    private static BatchNorm2d bn(int c, long seed) {
      BatchNorm2d bn = new BatchNorm2d(c);
      SplittableRandom r = new SplittableRandom(seed);
      float[][] v = {bn.weight().data().data(), bn.bias().data().data(), bn.runningMean().data(),
          bn.runningVar().data()};
      for (int i = 0; i < c; i++) {
        v[0][i] = (float) (0.5 + r.nextDouble());
        v[1][i] = (float) (r.nextDouble() - 0.5);
        v[2][i] = (float) (r.nextDouble() - 0.5);
        v[3][i] = (float) (0.5 + r.nextDouble());
      }
      return bn;
    }
  }

  /**
   * Two 3x3 convolutions (padding 1, ReLU) of {@code c1} and {@code c2} channels at strides {@code s1} and
   * {@code s2} on a {@code c x size x size} input, then pooling and a linear layer to 10 classes.
   */
  static final class TwoConvNet extends SequentialModel {
    TwoConvNet(int c, int size, int c1, int s1, int c2, int s2, long seed) {
      super(new int[] {c, size, size}, new int[] {10});
      int mid = ConvGeometry.outSize(size, 1, 1, 3, s1, 1);
      add("conv1", Net.conv(c, c1, size, size, 3, s1, 1, 1, Activation.RELU, seed));
      add("conv2", Net.conv(c1, c2, mid, mid, 3, s2, 1, 1, Activation.RELU, seed + 1));
      add("gap", new GlobalAvgPool2d());
      add("flatten", new Flatten());
      add("fc", new Linear(c2, 10, true, seed + 2));
    }

    /** Input large enough that its copy into the first layout, and the pooling, are split over threads. */
    static TwoConvNet wide(long seed) {
      return new TwoConvNet(3, 150, 16, 2, 64, 4, seed);
    }

    /** Weights that outweigh the maps: its first forward runs a batch together. */
    static TwoConvNet heavy(long seed) {
      return new TwoConvNet(64, 6, 128, 1, 128, 1, seed);
    }
  }

  @Test
  void inputCopyAndPoolingSplitOverThreadsGiveTheSameBits() {
    // The copy of a 3x150x150 input and the pooling of 64x19x19 (with its halo) are above the split thresholds.
    assertThat(3L * 150 * 150).isAtLeast(Parallel.MIN_ELEMENTS);
    assertThat(64L * 19 * 19).isAtLeast(Parallel.MIN_ELEMENTS / 4);
    TwoConvNet net = TwoConvNet.wide(3);
    net.eval();
    assertThat(net.networkEngine()).isNotNull();
    SplittableRandom r = new SplittableRandom(12);
    int cases = 0;
    for (int n : new int[] {1, 3}) {
      assertOneAndTwoThreadsAgree("N=" + n, net, TestTensors.uniform(r, 1, n, 3, 150, 150));
      cases++;
    }
    assertThat(cases).isEqualTo(2);
  }

  /**
   * A first forward has the one-block pointwise tiles warmed when its 1x1 work per thread reaches the threshold:
   * a thread's share of the samples (rounded up) times the 1x1 multiply-adds per sample.
   */
  @Test
  void aLongFirstForwardHasThePointwiseFirstTilesWarmed() {
    long t = BlockedNetwork.FIRST_POINTWISE_MACS;
    assertThat(BlockedNetwork.firstPointwiseWanted(t, 1, 1)).isTrue();
    assertThat(BlockedNetwork.firstPointwiseWanted(t - 1, 1, 1)).isFalse();
    assertThat(BlockedNetwork.firstPointwiseWanted(t / 8, 8, 1)).isTrue();
    assertThat(BlockedNetwork.firstPointwiseWanted(t / 8, 8, 2)).isFalse(); // four samples a thread
    assertThat(BlockedNetwork.firstPointwiseWanted(t / 4, 7, 2)).isTrue(); // four (three and a half) a thread
    assertThat(BlockedNetwork.firstPointwiseWanted(0, 1_000_000, 1)).isFalse(); // no 1x1 layer
    // A small network's first forward: far below, nothing requested.
    Net net = new Net(5);
    net.eval();
    BlockedNetwork engine = (BlockedNetwork) net.networkEngine();
    assertThat(engine.requestFirstPointwise(TestTensors.uniform(new SplittableRandom(3), 1, 4, 3, 19, 17)))
        .isFalse();
  }

  /**
   * The convolutions' packed weights share one array ({@link AlignedFloats#lined}), each from an index whose
   * vectors start cache lines where the array starts one, none overlapping the next; the outputs are checked by the
   * other tests.
   */
  @Test
  void convolutionsShareOneAlignedWeightArray() {
    Net net = new Net(4);
    net.eval();
    BlockedNetwork engine = (BlockedNetwork) net.networkEngine();
    List<BlockedNetwork.WeightShare> shares = engine.weightShares();
    assertThat(shares).hasSize(4); // stem, dw, pw, conv
    float[] array = shares.get(0).home().array();
    assertThat(array).isNotNull();
    int end = 0;
    for (BlockedNetwork.WeightShare share : shares) {
      assertThat(share.home().array()).isSameInstanceAs(array);
      assertThat(share.home().base() % AlignedFloats.LINE).isEqualTo(AlignedFloats.FIRST);
      assertThat(share.home().base()).isAtLeast(end);
      assertThat(share.floats()).isGreaterThan(0);
      end = share.home().base() + share.floats();
    }
    assertThat(end).isAtMost(array.length);
  }

  @Test
  void equalsLayerByLayer() {
    Net net = new Net(5);
    net.eval();
    assertThat(net.networkEngine()).isNotNull();
    assertThat(net.networkEngine().name()).startsWith("simd-blocked-");
    SplittableRandom r = new SplittableRandom(11);
    int cases = 0;
    BlockedNetwork engine = (BlockedNetwork) net.networkEngine();
    for (int n = 1; n <= 4; n++) {
      Tensor x = TestTensors.uniform(r, 1, n, 3, 19, 17);
      Parallel.setThreads(1);
      assertThat(engine.batchParts(x)).isEqualTo(1);
      Parallel.setThreads(2);
      // Even batches run as two parts, each a whole forward on one thread; odd ones layer by layer.
      assertWithMessage("N=" + n).that(engine.batchParts(x)).isEqualTo(n % 2 == 0 ? 2 : 1);
      Tensor one = assertOneAndTwoThreadsAgree("N=" + n, net, x);
      assertThat(one.shape()).asList().containsExactly(n, 10).inOrder();
      cases++;
    }
    assertThat(cases).isEqualTo(4);
  }

  /**
   * Two 3x3 convolutions, pooling to 32 channels, then a probe (records the array of every input it sees) and a
   * classifier or nothing.
   */
  static final class HeadNet extends SequentialModel {
    final LayerByLayerEvalTest.Probe probe = new LayerByLayerEvalTest.Probe();

    HeadNet(boolean classifier, long seed) {
      super(new int[] {3, 11, 11}, classifier ? new int[] {10} : new int[] {32});
      add("conv1", Net.conv(3, 16, 11, 11, 3, 1, 1, 1, Activation.RELU, seed));
      add("conv2", Net.conv(16, 32, 11, 11, 3, 2, 1, 1, Activation.RELU, seed + 1));
      add("gap", new GlobalAvgPool2d());
      add("flatten", new Flatten());
      add("probe", probe);
      if (classifier) {
        add("fc", new Linear(32, 10, true, seed + 2));
      }
    }
  }

  @Test
  void groupsRunTheHeadOnceOverTheWholeBatch() {
    // Samples in groups through the convolutions and the pooling; the stages after the pooling once over the
    // batch (a classifier reads its weights once), with the same bits as one sample at a time, and a result
    // that the next forward does not overwrite (the pooled batch is kept from call to call only where a
    // Linear layer makes the output a new tensor).
    SplittableRandom r = new SplittableRandom(21);
    int cases = 0;
    for (boolean classifier : new boolean[] {true, false}) {
      HeadNet net = new HeadNet(classifier, 7);
      net.eval();
      BlockedNetwork engine = (BlockedNetwork) net.networkEngine();
      int classes = classifier ? 10 : 32;
      for (int n : new int[] {5, 8}) {
        Tensor x = TestTensors.uniform(r, 1, n, 3, 11, 11);
        int sample = x.size() / n;
        Parallel.setThreads(1);
        float[] oneByOne = new float[n * classes];
        for (int i = 0; i < n; i++) {
          float[] xi = java.util.Arrays.copyOfRange(x.data(), i * sample, (i + 1) * sample);
          System.arraycopy(engine.forward(Tensor.of(xi, 1, 3, 11, 11), 1).data(), 0, oneByOne, i * classes, classes);
        }
        for (int threads = 1; threads <= 2; threads++) {
          Parallel.setThreads(threads);
          net.probe.seen.clear();
          Tensor y = engine.forward(x, 2);
          // On two threads an even batch runs as two parts, each with its own head: the probe sees each part's
          // pooled rows (32 floats a sample) at once.
          int parts = engine.batchParts(x);
          List<Integer> rows = new ArrayList<>();
          for (float[] seen : net.probe.seen) {
            rows.add(seen.length / 32);
          }
          assertWithMessage("N=%s, %s threads", n, threads).that(rows)
              .containsExactlyElementsIn(java.util.Collections.nCopies(parts, n / parts));
          assertThat(y.shape()).asList().containsExactly(n, classes).inOrder();
          assertWithMessage("N=%s, %s threads, classifier %s", n, threads, classifier).that(y.data())
              .usingExactEquality().containsExactly(oneByOne).inOrder();
          float[] before = y.data().clone();
          engine.forward(TestTensors.uniform(r, 1, n, 3, 11, 11), 2);
          assertWithMessage("the first result after a second forward").that(y.data())
              .usingExactEquality().containsExactly(before).inOrder();
          cases++;
        }
      }
    }
    assertThat(cases).isEqualTo(8);
  }

  @Test
  void groupsOfSamplesGiveTheSameBitsAsSamplesOneByOne() {
    // The rule: as many samples as fit in the budget; when one sample does not fit, one at a time where its
    // buffers are at least a quarter of the weights, else the whole batch.
    long budget = BlockedNetwork.GROUP_FLOATS;
    assertThat(BlockedNetwork.groupSize(budget, 100 * budget)).isEqualTo(1);
    assertThat(BlockedNetwork.groupSize(budget / 3, 100 * budget)).isEqualTo(3);
    assertThat(BlockedNetwork.groupSize(budget + 1, 4 * (budget + 1))).isEqualTo(1);
    assertThat(BlockedNetwork.groupSize(budget + 1, 4 * (budget + 1) + 1)).isEqualTo(Integer.MAX_VALUE);
    Net net = new Net(7);
    net.eval();
    BlockedNetwork engine = (BlockedNetwork) net.networkEngine();
    // This small network's buffers hold many samples within the budget, so its batches run in groups.
    assertThat(engine.groupSize()).isEqualTo((int) (budget / engine.bufferFloatsPerSample()));
    assertThat(engine.groupSize()).isGreaterThan(8);
    SplittableRandom r = new SplittableRandom(13);
    int cases = 0;
    for (int n : new int[] {7, 8}) {
      Tensor x = TestTensors.uniform(r, 1, n, 3, 19, 17);
      int sample = x.size() / n;
      float[] oneByOne = new float[n * 10];
      Parallel.setThreads(1);
      for (int i = 0; i < n; i++) {
        float[] xi = java.util.Arrays.copyOfRange(x.data(), i * sample, (i + 1) * sample);
        System.arraycopy(net.forward(Tensor.of(xi, 1, 3, 19, 17)).data(), 0, oneByOne, i * 10, 10);
      }
      // Groups of 3 leave a last group of 1 (N=7 on one thread) or of 1 in each part of 4 (N=8 on two).
      for (int group : new int[] {3, Integer.MAX_VALUE}) {
        for (int threads = 1; threads <= 2; threads++) {
          Parallel.setThreads(threads);
          Tensor y = engine.forward(x, group);
          assertThat(y.shape()).asList().containsExactly(n, 10).inOrder();
          assertWithMessage("N=%s, groups of %s, %s threads", n, group, threads).that(y.data())
              .usingExactEquality().containsExactly(oneByOne).inOrder();
          cases++;
        }
      }
    }
    assertThat(cases).isEqualTo(8);
    assertThrows(IllegalArgumentException.class, () -> engine.forward(TestTensors.uniform(r, 1, 2, 3, 19, 17), 0));
  }

  /**
   * The network's forward of {@code x} on 1 thread against its layer-by-layer forward (relative error at most
   * 1e-5), and on 2 threads bit for bit against 1; returns the 1-thread output.
   */
  private static Tensor assertOneAndTwoThreadsAgree(String what, SequentialModel net, Tensor x) {
    Tensor expected = net.forwardLayers(x);
    Parallel.setThreads(1);
    Tensor one = net.forward(x);
    Parallel.setThreads(2);
    Tensor two = net.forward(x);
    assertWithMessage(what).that(SimdConvDifferentialTest.relativeError(one.data(), expected.data())).isAtMost(1e-5);
    assertWithMessage(what + ", 2 threads").that(two.data()).usingExactEquality().containsExactly(one.data())
        .inOrder();
    return one;
  }

  @Test
  void concurrentCallersGetTheSameBits() throws Exception {
    Net net = new Net(6);
    net.eval();
    SplittableRandom r = new SplittableRandom(12);
    List<Tensor> inputs = new ArrayList<>();
    List<Tensor> expected = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      Tensor x = TestTensors.uniform(r, 1, 1 + i % 3, 3, 19, 17);
      inputs.add(x);
      expected.add(net.forward(x));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        results.add(pool.submit(() -> {
          for (int round = 0; round < 20; round++) {
            for (int i = 0; i < inputs.size(); i++) {
              if (!java.util.Arrays.equals(net.forward(inputs.get(i)).data(), expected.get(i).data())) {
                return false;
              }
            }
          }
          return true;
        }));
      }
      for (Future<Boolean> f : results) {
        assertThat(f.get()).isTrue();
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void followsWeightUpdates() {
    Net net = new Net(7);
    net.eval();
    Tensor x = TestTensors.uniform(new SplittableRandom(13), 1, 2, 3, 19, 17);
    float[] before = net.forward(x).data();
    NaiveConvKernel pw = (NaiveConvKernel) net.layers().get("pw");
    float[] w = pw.weight().data().data();
    for (int i = 0; i < w.length; i += 5) {
      w[i] += 0.25f;
    }
    pw.weight().markChanged();
    Tensor after = net.forward(x);
    assertThat(java.util.Arrays.equals(after.data(), before)).isFalse();
    assertThat(SimdConvDifferentialTest.relativeError(after.data(), net.forwardLayers(x).data())).isAtMost(1e-5);
  }

  @Test
  void headKernelsGiveTheSameBitsAsPlainJavaAndFollowWeightUpdates() {
    TileWarmer.warm(TileWarmer.blockSums());
    TileWarmer.warm(TileWarmer.linear());
    Net net = new Net(11);
    net.eval();
    SplittableRandom r = new SplittableRandom(17);
    int cases = 0;
    for (int n : new int[] {1, 3}) {
      Tensor x = TestTensors.uniform(r, 1, n, 3, 19, 17);
      for (int round = 0; round < 2; round++) {
        Tensor vector = net.forward(x);
        Tensor plain;
        BlockedNetwork.plainHead = true;
        try {
          plain = net.forward(x);
        } finally {
          BlockedNetwork.plainHead = false;
        }
        assertThat(vector.shape()).asList().containsExactly(n, 10).inOrder();
        assertWithMessage("N=%s, round %s", n, round).that(vector.data()).usingExactEquality()
            .containsExactly(plain.data()).inOrder();
        assertThat(SimdConvDifferentialTest.relativeError(vector.data(), net.forwardLayers(x).data())).isAtMost(1e-5);
        // The classifier's weights and bias change in place: the packed copy follows.
        Linear fc = (Linear) net.layers().get("fc");
        float[] w = fc.weight().data().data();
        for (int i = 0; i < w.length; i += 3) {
          w[i] = -w[i];
        }
        fc.weight().markChanged();
        fc.bias().data().data()[round] += 1f;
        fc.bias().markChanged();
        Tensor changed = net.forward(x);
        assertThat(java.util.Arrays.equals(changed.data(), vector.data())).isFalse();
        cases++;
      }
    }
    assertThat(cases).isEqualTo(4);
  }

  /** The values take turns with two buffers, rather than one buffer per layout. */
  @Test
  void valuesTakeTurnsWithTwoBuffers() {
    Net net = new Net(9);
    net.eval();
    BlockedNetwork engine = (BlockedNetwork) net.networkEngine();
    // The blocked values of Net: the stem's padded input planes, the stem's output (halo for the depthwise
    // layer), the depthwise and pointwise outputs, the last convolution's input planes and its output.
    BlockedLayout[] values = {BlockedLayout.planes(3, 19, 17, 1, 1, 1, 1), BlockedLayout.blocked(24, 10, 9, 1, 1, 1, 1),
        BlockedLayout.blocked(24, 10, 9, 0, 0, 0, 0), BlockedLayout.blocked(40, 10, 9, 0, 0, 0, 0),
        BlockedLayout.planes(40, 5, 4, 1, 1, 1, 1), BlockedLayout.blocked(36, 5, 4, 0, 0, 0, 0)};
    long largest = 0;
    long all = 0;
    for (BlockedLayout l : values) {
      largest = Math.max(largest, l.sampleSize);
      all += l.sampleSize;
    }
    assertThat(engine.bufferFloatsPerSample()).isAtMost(2 * largest);
    assertThat(engine.bufferFloatsPerSample()).isLessThan(all);
  }

  /** A chain of 3x3 convolutions at two feature-map sizes, large enough for its layers to split into row bands. */
  static final class ChainNet extends SequentialModel {
    ChainNet(long seed) {
      super(new int[] {3, 32, 32}, new int[] {10});
      add("stem", Net.conv(3, 16, 32, 32, 3, 2, 1, 1, Activation.RELU, seed));
      add("a", Net.conv(16, 16, 16, 16, 3, 1, 1, 1, Activation.RELU, seed + 1));
      add("b", Net.conv(16, 16, 16, 16, 3, 1, 1, 1, Activation.RELU, seed + 2));
      add("c", Net.conv(16, 16, 16, 16, 3, 1, 1, 1, Activation.RELU, seed + 3));
      add("down", Net.conv(16, 32, 16, 16, 3, 2, 1, 1, Activation.RELU, seed + 4));
      add("d", Net.conv(32, 32, 8, 8, 3, 1, 1, 1, Activation.RELU, seed + 5));
      add("gap", new GlobalAvgPool2d());
      add("flatten", new Flatten());
      add("fc", new Linear(32, 10, true, seed + 6));
    }
  }

  /**
   * With layers split into row bands over two threads, a value written by such a layer and read only by such
   * layers lives in each piece's own arrays (ChainNet's 16x16 maps between split layers, the stem's
   * output only at N=3, where the stem is worth splitting; not the last map, which pooling reads, nor the input
   * planes, nor the stride-2 layer's output, which the last layer reads in Winograd's form, split by its own
   * steps), and each piece copies in the rows next to its band that it reads (one row at stride 1, and at the
   * stride-2 layer the last row of the band above). Same bits as one thread with and without them, N=1 and 3.
   */
  @Test
  void rowSplitPiecesKeepTheirBandsInArraysOfTheirOwn() {
    ChainNet net = new ChainNet(4);
    net.eval();
    BlockedNetwork engine = (BlockedNetwork) net.networkEngine();
    assertThat(16L * 16 * 16 * 27).isLessThan(Parallel.MIN_MACS);
    assertThat(3L * 16 * 16 * 16 * 27).isAtLeast(Parallel.MIN_MACS);
    assertThat(8L * 8 * 32 * 9 * 16).isAtLeast(Parallel.MIN_MACS);
    // Values: 0 input planes, 1 stem, 2 a, 3 b, 4 c, 5 down, 6 d.
    assertThat(engine.ownValues(2, 1)).asList().containsExactly(false, false, true, true, true, false, false).inOrder();
    assertThat(engine.ownValues(2, 3)).asList().containsExactly(false, true, true, true, true, false, false).inOrder();
    assertThat(engine.ownValues(1, 1)).isNull();
    SplittableRandom r = new SplittableRandom(21);
    int cases = 0;
    for (boolean own : new boolean[] {true, false}) {
      BlockedNetwork.rowBuffers = own;
      for (int n : new int[] {1, 3}) {
        Tensor x = TestTensors.uniform(r, 1, n, 3, 32, 32);
        Parallel.setThreads(2);
        assertThat(engine.batchParts(x)).isEqualTo(1);
        assertOneAndTwoThreadsAgree("own arrays " + own + ", N=" + n, net, x);
        cases++;
      }
    }
    assertThat(cases).isEqualTo(4);
  }

  /** {@code kiln.blocked.rowBuffers}: true (also as auto, the former default) or false, spaces ignored, else true. */
  @Test
  void rowBuffersPropertyValues() {
    assertThat(BlockedNetwork.rowBuffersProperty(null)).isTrue();
    assertThat(BlockedNetwork.rowBuffersProperty("auto")).isTrue();
    assertThat(BlockedNetwork.rowBuffersProperty(" true")).isTrue();
    assertThat(BlockedNetwork.rowBuffersProperty("false ")).isFalse();
    assertThat(BlockedNetwork.rowBuffersProperty("yes")).isTrue();
  }

  /**
   * A forward split into row bands over two threads allocates one more set of arrays for the second piece; not a
   * batch split into parts, nor with {@code kiln.blocked.rowBuffers=false}, nor on one thread.
   */
  @Test
  void rowSplitForwardsAllocateArraysForTheOtherPieces() {
    SplittableRandom r = new SplittableRandom(17);
    boolean[] modes = {true, true, false, true};
    int[] batches = {1, 2, 1, 1};
    int[] threads = {2, 2, 2, 1};
    int[] expected = {1, 0, 0, 0};
    int cases = 0;
    for (int i = 0; i < modes.length; i++) {
      BlockedNetwork.rowBuffers = modes[i];
      Parallel.setThreads(threads[i]);
      ChainNet net = new ChainNet(30 + i);
      net.eval();
      BlockedNetwork engine = (BlockedNetwork) net.networkEngine();
      Tensor x = TestTensors.uniform(r, 1, batches[i], 3, 32, 32);
      net.forward(x);
      // A first forward of one sample runs on the calling thread alone (BlockedNetwork#firstForwardAlone).
      assertWithMessage("case " + i + " first").that(engine.pieceArrays()).isEqualTo(0);
      net.forward(x);
      assertWithMessage("case " + i).that(engine.pieceArrays()).isEqualTo(expected[i]);
      cases++;
    }
    assertThat(cases).isEqualTo(4);
    // A forward in parts or on one thread in between leaves the next row-split forward its own arrays (which
    // thread runs which part is the pool's choice, so the calling thread's workspace is checked after one thread).
    BlockedNetwork.rowBuffers = true;
    Parallel.setThreads(2);
    ChainNet net = new ChainNet(40);
    net.eval();
    BlockedNetwork engine = (BlockedNetwork) net.networkEngine();
    Tensor one = TestTensors.uniform(r, 1, 1, 3, 32, 32);
    net.forward(one);
    assertThat(engine.ownInLastForward()).isFalse();
    net.forward(one);
    assertThat(engine.ownInLastForward()).isTrue();
    net.forward(TestTensors.uniform(r, 1, 2, 3, 32, 32));
    net.forward(one);
    assertThat(engine.ownInLastForward()).isTrue();
    Parallel.setThreads(1);
    net.forward(one);
    assertThat(engine.ownInLastForward()).isFalse();
    Parallel.setThreads(2);
    net.forward(one);
    assertThat(engine.ownInLastForward()).isTrue();
  }

  /**
   * A network whose buffers per sample are at least a quarter of its weights runs its first forward one sample at
   * a time (its buffers hold one sample), the next ones in the network's groups; the same bits either way. The
   * rule at its edge and for MobileNet v1's and RepVGG-A0's sizes (floats).
   */
  @Test
  void firstForwardRunsOneSampleAtATime() {
    assertThat(BlockedNetwork.firstGroupSize(5, 100, 400)).isEqualTo(1);
    assertThat(BlockedNetwork.firstGroupSize(5, 100, 401)).isEqualTo(5);
    assertThat(BlockedNetwork.firstGroupSize(Integer.MAX_VALUE, 1_225_000, 4_230_000)).isEqualTo(1);
    assertThat(BlockedNetwork.firstGroupSize(Integer.MAX_VALUE, 780_000, 8_300_000)).isEqualTo(Integer.MAX_VALUE);
    Parallel.setThreads(1);
    Net net = new Net(11);
    net.eval();
    Tensor x = TestTensors.uniform(new SplittableRandom(17), 1, 3, 3, 19, 17);
    BlockedNetwork engine = (BlockedNetwork) net.networkEngine();
    // A small network: its maps outweigh its weights.
    assertThat(engine.firstGroupSize()).isEqualTo(1);
    assertThat(engine.bufferSamples()).isEqualTo(-1);
    float[] first = net.forward(x).data();
    assertThat(engine.bufferSamples()).isEqualTo(1);
    float[] second = net.forward(x).data();
    assertThat(engine.bufferSamples()).isEqualTo(Math.min(engine.groupSize(), 3));
    assertThat(engine.groupSize()).isGreaterThan(1);
    dev.kiln.testing.NumericAssertions.assertSameBits("first forward against the second", second, first);
  }

  /**
   * A first forward that runs a batch together (on the one-block first tiles, the own tiles requested only after
   * it) gives the same bits as the later forwards on the own tiles, and as the same samples run one by one.
   */
  @Test
  void batchedFirstForwardHasTheLaterForwardsBits() {
    Parallel.setThreads(1);
    TwoConvNet heavy = TwoConvNet.heavy(21);
    heavy.eval();
    assertThat(((BlockedNetwork) heavy.networkEngine()).firstGroupSize()).isGreaterThan(1);
    Tensor x = TestTensors.uniform(new SplittableRandom(23), 1, 2, 64, 6, 6);
    float[] first = heavy.forward(x).data();
    dev.kiln.testing.NumericAssertions.assertSameBits("first forward against the second", heavy.forward(x).data(),
        first);
    int sample = first.length / 2;
    for (int i = 0; i < 2; i++) {
      TwoConvNet single = TwoConvNet.heavy(21);
      single.eval();
      int in = 64 * 6 * 6;
      float[] one = single.forward(Tensor.of(java.util.Arrays.copyOfRange(x.data(), i * in, (i + 1) * in), 1, 64,
          6, 6)).data();
      assertThat(one).hasLength(sample);
      dev.kiln.testing.NumericAssertions.assertSameBits("sample " + i + " alone",
          java.util.Arrays.copyOfRange(first, i * sample, (i + 1) * sample), one);
    }
  }

  /**
   * A first forward of one sample on two threads runs on the calling thread alone ({@link
   * BlockedNetwork#firstForwardAlone}), with the same bits as the later forwards split over the pool and as one
   * thread; one of two samples, or on one thread, does not.
   */
  @Test
  void firstForwardOfOneSampleRunsAlone() {
    Parallel.setThreads(1);
    TwoConvNet reference = TwoConvNet.heavy(21);
    reference.eval();
    Tensor one = TestTensors.uniform(new SplittableRandom(29), 1, 1, 64, 6, 6);
    Tensor two = TestTensors.uniform(new SplittableRandom(31), 1, 2, 64, 6, 6);
    float[] expected = reference.forward(one).data();
    assertThat(((BlockedNetwork) reference.networkEngine()).firstForwardRanAlone).isFalse();
    assertThat(BlockedNetwork.firstForwardAlone(one)).isFalse();

    Parallel.setThreads(2);
    assertThat(BlockedNetwork.firstForwardAlone(one)).isTrue();
    assertThat(BlockedNetwork.firstForwardAlone(two)).isFalse();
    TwoConvNet net = TwoConvNet.heavy(21);
    net.eval();
    BlockedNetwork engine = (BlockedNetwork) net.networkEngine();
    float[] first = net.forward(one).data();
    assertThat(engine.firstForwardRanAlone).isTrue();
    dev.kiln.testing.NumericAssertions.assertSameBits("alone against one thread", expected, first);
    dev.kiln.testing.NumericAssertions.assertSameBits("split against alone", first, net.forward(one).data());
    assertThat(Parallel.threads()).isEqualTo(2);

    TwoConvNet batch = TwoConvNet.heavy(21);
    batch.eval();
    batch.forward(two);
    assertThat(((BlockedNetwork) batch.networkEngine()).firstForwardRanAlone).isFalse();
  }

  /**
   * {@link SequentialModel#warmUp}: after it returns true every tile kernel the network runs is hot (the shared
   * one-block tiles of the first forward, each layer's own tiles, the pooling and classifier kernels) and the
   * network computes the same bits as in its first forward; it refuses training mode and a negative timeout, and a model
   * without a vectorized engine has nothing to wait for.
   */
  @Test
  void warmUpLeavesEveryKernelOfTheNetworkHot() throws Exception {
    Net net = new Net(9);
    Tensor x = TestTensors.uniform(new SplittableRandom(13), 1, 2, 3, 19, 17);
    assertThrows(IllegalStateException.class, () -> net.warmUp(x, java.time.Duration.ofSeconds(1)));
    net.eval();
    assertThrows(IllegalArgumentException.class, () -> net.warmUp(x, java.time.Duration.ofSeconds(-1)));
    float[] before = net.forward(x).data();
    assertThat(net.warmUp(x, java.time.Duration.ofSeconds(60))).isTrue();
    BlockedNetwork engine = (BlockedNetwork) net.networkEngine();
    // Its last forward allocated the batch's buffers (the network's first forward had one sample's).
    if (Parallel.threads() == 1) {
      assertThat(engine.bufferSamples()).isEqualTo(Math.min(engine.groupSize(), 2));
    }
    List<TileWarmer.Tile> tiles = engine.tiles();
    // stem, dw, pw, conv (their tiles, the convolutions' shared one-block ones too) + pooling + classifier.
    assertThat(tiles.size()).isAtLeast(6);
    for (TileWarmer.Tile t : tiles) {
      assertWithMessage(t.key).that(t.hot()).isTrue();
    }
    // The faster tiles compute the same bits as the first forward's.
    assertThat(net.forward(x).data()).isEqualTo(before);

    String saved = System.getProperty("kiln.simd");
    System.setProperty("kiln.simd", "false");
    try {
      Net scalar = new Net(9);
      scalar.eval();
      assertThat(scalar.warmUp(x, java.time.Duration.ZERO)).isTrue();
      assertThat(scalar.networkEngine()).isNull();
    } finally {
      if (saved == null) {
        System.clearProperty("kiln.simd");
      } else {
        System.setProperty("kiln.simd", saved);
      }
    }
  }

  /** A network that ends in global average pooling and a flatten (no classifier). */
  static final class PoolNet extends SequentialModel {
    PoolNet(long seed) {
      super(new int[] {3, 19, 17}, new int[] {24});
      add("stem", Net.conv(3, 24, 19, 17, 3, 2, 1, 1, Activation.RELU, seed));
      add("gap", new GlobalAvgPool2d());
      add("flatten", new Flatten());
    }
  }

  /**
   * The pooling writes into a tensor the calling thread keeps only when a Linear layer follows it, whose new
   * output is what the caller gets: results of earlier calls stay as they were after later calls, with and
   * without the kept tensor, and equal the layer-by-layer forward.
   */
  @Test
  void pooledValuesAreKeptOnlyBehindALinearLayer() {
    SplittableRandom r = new SplittableRandom(14);
    Net net = new Net(10);
    PoolNet pool = new PoolNet(10);
    net.eval();
    pool.eval();
    assertThat(((BlockedNetwork) net.networkEngine()).keepsPooledOutput()).isTrue();
    assertThat(((BlockedNetwork) pool.networkEngine()).keepsPooledOutput()).isFalse();
    int cases = 0;
    for (SequentialModel m : new SequentialModel[] {net, pool}) {
      Tensor x1 = TestTensors.uniform(r, 1, 2, 3, 19, 17);
      Tensor x2 = TestTensors.uniform(r, 1, 2, 3, 19, 17);
      Tensor y1 = m.forward(x1);
      float[] first = y1.data().clone();
      Tensor y2 = m.forward(x2);
      assertThat(y2.data()).isNotSameInstanceAs(y1.data());
      assertThat(y1.data()).isEqualTo(first);
      assertThat(m.forward(x1).data()).isEqualTo(first);
      assertThat(SimdConvDifferentialTest.relativeError(y2.data(), m.forwardLayers(x2).data())).isAtMost(1e-5);
      cases++;
    }
    assertThat(cases).isEqualTo(2);
  }

  @Test
  void wrongInputShapeNamesBothShapes() {
    Net net = new Net(8);
    net.eval();
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> net.forward(Tensor.zeros(1, 3, 17, 19)));
    assertThat(e).hasMessageThat().contains("[N, 3, 19, 17]");
    assertThat(e).hasMessageThat().contains("[1, 3, 17, 19]");
    // A batch that would run in parts names the whole batch.
    Parallel.setThreads(2);
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> net.forward(Tensor.zeros(4, 3, 17, 19)));
    assertThat(e).hasMessageThat().contains("[4, 3, 17, 19]");
  }
}
