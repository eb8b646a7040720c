package dev.kiln.data;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class BatchesTest {
  /** n samples of shape {2, 1}: sample i holds {i, 100 + i}; label i % 3. */
  private static InMemoryDataset indexed(int n) {
    float[] values = new float[2 * n];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      values[2 * i] = i;
      values[2 * i + 1] = 100 + i;
      labels[i] = i % 3;
    }
    return InMemoryDataset.of(values, labels, 3, 2, 1);
  }

  /** The sample indices of one epoch, batch by batch, checking each batch's content against its labels. */
  private static List<int[]> epoch(Batches batches, int epoch) {
    List<int[]> out = new ArrayList<>();
    var it = batches.epoch(epoch);
    while (it.hasNext()) {
      Batch b = it.next();
      assertThat(b.index()).isEqualTo(out.size());
      float[] x = b.input().data();
      int[] idx = new int[b.size()];
      for (int i = 0; i < b.size(); i++) {
        idx[i] = (int) x[2 * i];
        assertThat(x[2 * i + 1]).isEqualTo(100 + x[2 * i]);
        assertThat(b.labels()[i]).isEqualTo(idx[i] % 3);
      }
      assertThat(b.input().shape()).isEqualTo(new int[] {b.size(), 2, 1});
      out.add(idx);
    }
    assertThrows(NoSuchElementException.class, it::next);
    return out;
  }

  private static int[] flatten(List<int[]> batches) {
    return batches.stream().flatMapToInt(Arrays::stream).toArray();
  }

  @Test
  void everyEpochVisitsEverySampleOnce() {
    Batches batches = Batches.shuffled(indexed(23), 5, 7L);
    assertThat(batches.batchesPerEpoch()).isEqualTo(5);
    int epochsChecked = 0;
    for (int e = 0; e < 6; e++) {
      List<int[]> ep = epoch(batches, e);
      assertThat(ep.stream().mapToInt(b -> b.length).toArray()).isEqualTo(new int[] {5, 5, 5, 5, 3});
      int[] seen = flatten(ep);
      Arrays.sort(seen);
      for (int i = 0; i < 23; i++) {
        assertThat(seen[i]).isEqualTo(i);
      }
      epochsChecked++;
    }
    assertThat(epochsChecked).isEqualTo(6);
  }

  @Test
  void dropLastDropsOnlyThePartialBatch() {
    Batches batches = Batches.shuffled(indexed(23), 5, 7L).dropLast(true);
    assertThat(batches.batchesPerEpoch()).isEqualTo(4);
    assertThat(batches.samplesPerEpoch()).isEqualTo(20);
    List<int[]> ep = epoch(batches, 2);
    assertThat(ep).hasSize(4);
    // the kept samples are the first 20 of the same permutation
    assertThat(flatten(ep)).isEqualTo(Arrays.copyOf(Batches.permutation(23, 7L, 2), 20));
    assertThat(Batches.shuffled(indexed(4), 5, 1L).dropLast(true).batchesPerEpoch()).isEqualTo(0);
    Batches exact = Batches.sequential(indexed(10), 5);
    assertThat(exact.batchesPerEpoch()).isEqualTo(2);
    assertThat(exact.dropLast(true).batchesPerEpoch()).isEqualTo(2);
  }

  @Test
  void shuffleIsAFunctionOfSeedAndEpoch() {
    int[] a = flatten(epoch(Batches.shuffled(indexed(50), 8, 42L), 3));
    // a fresh instance, with other epochs iterated before, gives the same order
    Batches other = Batches.shuffled(indexed(50), 8, 42L);
    epoch(other, 0);
    epoch(other, 5);
    assertThat(flatten(epoch(other, 3))).isEqualTo(a);
    assertThat(a).isEqualTo(Batches.permutation(50, 42L, 3));
    assertThat(flatten(epoch(Batches.shuffled(indexed(50), 8, 42L), 4))).isNotEqualTo(a);
    assertThat(flatten(epoch(Batches.shuffled(indexed(50), 8, 43L), 3))).isNotEqualTo(a);
    // batch size does not change the order
    assertThat(flatten(epoch(Batches.shuffled(indexed(50), 7, 42L), 3))).isEqualTo(a);
  }

  @Test
  void sequentialKeepsDataSetOrder() {
    Batches batches = Batches.sequential(indexed(11), 4);
    for (int e = 0; e < 2; e++) {
      int[] order = flatten(epoch(batches, e));
      for (int i = 0; i < 11; i++) {
        assertThat(order[i]).isEqualTo(i);
      }
    }
  }

  @Test
  void permutationsLookUniform() {
    // position of element 0 over many seeds: each of 8 positions about 1/8 of the time
    int n = 8;
    int trials = 16_000;
    int[] counts = new int[n];
    for (int s = 0; s < trials; s++) {
      int[] p = Batches.permutation(n, s, 0);
      for (int i = 0; i < n; i++) {
        if (p[i] == 0) {
          counts[i]++;
        }
      }
    }
    double chi2 = 0;
    double expected = trials / (double) n;
    for (int c : counts) {
      chi2 += (c - expected) * (c - expected) / expected;
    }
    assertThat(chi2).isLessThan(24.3); // chi-square, 7 degrees of freedom, p = 0.001
    // consecutive epochs of one seed are not correlated either
    int same = 0;
    for (int e = 0; e < 1000; e++) {
      if (Batches.permutation(n, 5L, e)[0] == Batches.permutation(n, 5L, e + 1)[0]) {
        same++;
      }
    }
    assertThat(same).isIn(com.google.common.collect.Range.closed(70, 190)); // expected 125
  }

  @Test
  void buffersAreReused() {
    Batches batches = Batches.sequential(indexed(10), 4);
    var it = batches.epoch(0);
    Batch first = it.next();
    Batch second = it.next();
    Batch last = it.next();
    assertThat(second).isSameInstanceAs(first);
    assertThat(last).isNotSameInstanceAs(first);
    assertThat(last.size()).isEqualTo(2);
    var next = batches.epoch(1);
    assertThat(next.next()).isSameInstanceAs(first);
    next.next();
    assertThat(next.next()).isSameInstanceAs(last);
  }

  @Test
  void rejectsBadArguments() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Batches.sequential(indexed(3), 0));
    assertThat(e).hasMessageThat().contains("batchSize must be >= 1 but was 0");
    e = assertThrows(IllegalArgumentException.class, () -> Batches.sequential(indexed(3), 2).epoch(-1));
    assertThat(e).hasMessageThat().contains("epoch must be >= 0");
  }
}
