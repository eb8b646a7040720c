package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ScratchTest {
  @Test
  void setsGrowAndKeepWhatIsLargeEnough() {
    Scratch s = Scratch.get();
    float[][] a = s.inputs(2, 10);
    assertThat(a.length).isAtLeast(2);
    assertThat(a[0].length).isAtLeast(10);
    float[] first = a[0];
    float[][] b = s.inputs(1, 5);
    assertThat(b[0]).isSameInstanceAs(first);
    float[][] c = s.inputs(3, a[0].length);
    assertThat(c.length).isAtLeast(3);
    assertThat(c[0]).isSameInstanceAs(first);
    float[][] d = s.inputs(3, a[0].length + 1);
    assertThat(d[2].length).isAtLeast(a[0].length + 1);
    assertThat(d[0].length).isEqualTo(d[2].length);
  }

  @Test
  void theThreeSetsAreDistinct() {
    Scratch s = Scratch.get();
    float[] in = s.inputs(1, 8)[0];
    float[] acc = s.accumulators(1, 8)[0];
    float[] patch = s.patches(1, 8)[0];
    assertThat(in).isNotSameInstanceAs(acc);
    assertThat(acc).isNotSameInstanceAs(patch);
    assertThat(in).isNotSameInstanceAs(patch);
  }

  @Test
  void eachThreadHasItsOwn() throws Exception {
    Scratch mine = Scratch.get();
    assertThat(Scratch.get()).isSameInstanceAs(mine);
    Scratch other = CompletableFuture.supplyAsync(Scratch::get, r -> new Thread(r).start()).get();
    assertThat(other).isNotSameInstanceAs(mine);
  }
}
