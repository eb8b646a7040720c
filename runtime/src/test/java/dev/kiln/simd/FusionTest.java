package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.annotation.Activation;
import dev.kiln.nn.BatchNorm2d;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Fusion;
import dev.kiln.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Fusion#foldInto}: the folded values against conv-then-BatchNorm in eval mode computed here, the
 * target's parameters marked changed, and a target of the wrong form refused before anything is written.
 */
class FusionTest {
  private static final ConvGeometry G = ConvGeometry.builder().inChannels(3).outChannels(4).inputSize(5, 6)
      .kernel(3, 3).padding(1, 1, 1, 1).build();

  @Test
  void foldsBatchNormIntoTheTargetsOwnWeights() {
    SplittableRandom r = new SplittableRandom(5);
    NaiveConvKernel conv = new NaiveConvKernel(G, true, Activation.NONE, 1);
    BatchNorm2d bn = new BatchNorm2d(4);
    for (int c = 0; c < 4; c++) {
      bn.weight().data().data()[c] = (float) (0.5 + r.nextDouble());
      bn.bias().data().data()[c] = (float) (r.nextDouble() - 0.5);
      bn.runningMean().data()[c] = (float) (r.nextDouble() - 0.5);
      bn.runningVar().data()[c] = (float) (0.5 + r.nextDouble());
    }
    NaiveConvKernel target = new NaiveConvKernel(G, true, Activation.NONE, 2);
    float[] targetWeights = target.weight().data().data();
    long weightVersion = target.weight().version();
    long biasVersion = target.bias().version();

    Fusion.foldInto(conv, bn, target);

    assertThat(target.weight().data().data()).isSameInstanceAs(targetWeights);
    assertThat(target.weight().version()).isGreaterThan(weightVersion);
    assertThat(target.bias().version()).isGreaterThan(biasVersion);
    float[] w = conv.weight().data().data();
    int per = w.length / 4;
    int checked = 0;
    for (int o = 0; o < 4; o++) {
      double s = bn.weight().data().data()[o] / Math.sqrt(bn.runningVar().data()[o] + bn.eps());
      for (int i = o * per; i < (o + 1) * per; i++) {
        assertWithMessage("weight %s", i).that(target.weight().data().data()[i]).isEqualTo((float) (w[i] * s));
        checked++;
      }
      double b = (conv.bias().data().data()[o] - bn.runningMean().data()[o]) * s + bn.bias().data().data()[o];
      assertWithMessage("bias %s", o).that((double) target.bias().data().data()[o]).isWithin(1e-6).of(b);
    }
    assertThat(checked).isEqualTo(4 * 3 * 9);

    Tensor x = Tensor.of(random(r, 2 * 3 * 5 * 6), 2, 3, 5, 6);
    conv.eval();
    bn.eval();
    float[] expected = bn.forward(conv.forward(x)).data();
    float[] actual = target.forward(x).data();
    for (int i = 0; i < expected.length; i++) {
      assertWithMessage("output %s", i).that((double) actual[i]).isWithin(1e-5).of(expected[i]);
    }
  }

  @Test
  void refusesATargetOfAnotherShapeOrWithoutBiasAndLeavesItUnchanged() {
    NaiveConvKernel conv = new NaiveConvKernel(G, true, Activation.NONE, 1);
    ConvGeometry wider = ConvGeometry.builder().inChannels(3).outChannels(5).inputSize(5, 6).kernel(3, 3)
        .padding(1, 1, 1, 1).build();
    NaiveConvKernel wrongShape = new NaiveConvKernel(wider, true, Activation.NONE, 3);
    float[] before = wrongShape.weight().data().data().clone();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Fusion.foldInto(conv, null, wrongShape));
    assertThat(e).hasMessageThat().isEqualTo("fusion target must have weight shape [4, 3, 3, 3] but has [5, 3, 3, 3]");
    assertThat(wrongShape.weight().data().data()).isEqualTo(before);

    NaiveConvKernel noBias = new NaiveConvKernel(G, false, Activation.NONE, 4);
    float[] noBiasBefore = noBias.weight().data().data().clone();
    long version = noBias.weight().version();
    e = assertThrows(IllegalArgumentException.class, () -> Fusion.foldInto(conv, new BatchNorm2d(4), noBias));
    assertThat(e).hasMessageThat().isEqualTo("fusion target must have a bias");
    assertThat(noBias.weight().data().data()).isEqualTo(noBiasBefore);
    assertThat(noBias.weight().version()).isEqualTo(version);
  }

  @Test
  void copyStateCopiesValuesNotArraysAndRefusesItself() {
    NaiveConvKernel source = new NaiveConvKernel(G, true, Activation.NONE, 1);
    NaiveConvKernel target = new NaiveConvKernel(G, true, Activation.NONE, 2);
    Fusion.copyState(source, target);
    assertThat(target.weight().data().data()).isEqualTo(source.weight().data().data());
    assertThat(target.weight().data().data()).isNotSameInstanceAs(source.weight().data().data());
    source.weight().data().data()[0] += 1f;
    assertThat(target.weight().data().data()[0]).isNotEqualTo(source.weight().data().data()[0]);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Fusion.copyState(source, source));
    assertThat(e).hasMessageThat().isEqualTo("cannot copy a module's state into itself");
  }

  private static float[] random(SplittableRandom r, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return v;
  }
}
