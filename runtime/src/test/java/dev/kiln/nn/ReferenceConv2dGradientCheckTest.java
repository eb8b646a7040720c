package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ReferenceConv2d.Geometry;
import dev.kiln.nn.ReferenceConv2d.Gradients;
import dev.kiln.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference check of {@link ReferenceConv2d}'s double-precision backward: for a scalar loss
 * {@code L = sum(forward(x, w, b) * r)} every analytic derivative of the input, the weight and the bias is
 * compared with a central difference. The layer is linear in each argument (ReLU piecewise linear, and
 * the cases keep every pre-activation away from its kink), so the differences are exact up to rounding.
 */
class ReferenceConv2dGradientCheckTest {
  private static final double EPS = 1e-6;
  private static final double REL_TOL = 1e-6;
  private static final double ABS_TOL = 1e-8;
  private static final int N = 2;
  private static final int H = 5;
  private static final int W = 6;
  /** Per-side paddings (top, bottom, left, right); all smaller than the 5x6 input, so every mode applies. */
  private static final int[][] PADDINGS = {{0, 0, 0, 0}, {1, 1, 1, 1}, {2, 1, 0, 2}, {1, 2, 2, 1}};

  @Test
  void gradientsMatchCentralDifferences() {
    int[][] strides = {{1, 1}, {2, 2}, {2, 1}};
    int[][] dilations = {{1, 1}, {2, 2}};
    int cases = 0;
    for (int[] stride : strides) {
      for (int[] dilation : dilations) {
        for (int groups : new int[] {1, 2}) {
          for (PaddingMode mode : PaddingMode.values()) {
            for (boolean bias : new boolean[] {true, false}) {
              for (Activation act : Activation.values()) {
                int[] pad = PADDINGS[cases % PADDINGS.length];
                int kh = cases % 3 == 0 ? 2 : 3;
                int kw = 3;
                Geometry g = new Geometry(2, 4, kh, kw, stride[0], stride[1], pad[0], pad[1], pad[2], pad[3],
                    dilation[0], dilation[1], groups, mode, act);
                check(g, bias, cases);
                cases++;
              }
            }
          }
        }
      }
    }
    assertEquals(3 * 2 * 2 * 4 * 2 * Activation.values().length, cases);
  }

  private static double[] random(SplittableRandom r, int n) {
    double[] a = new double[n];
    for (int i = 0; i < n; i++) {
      a[i] = r.nextDouble(-1.0, 1.0);
    }
    return a;
  }

  private static double loss(Geometry g, double[] x, double[] w, double[] b, double[] r) {
    double[] y = ReferenceConv2d.forward(g, x, w, b, N, H, W);
    double sum = 0.0;
    for (int i = 0; i < y.length; i++) {
      sum += y[i] * r[i];
    }
    return sum;
  }

  private static void check(Geometry g, boolean hasBias, int seed) {
    SplittableRandom rng = new SplittableRandom(1000 + seed);
    double[] x;
    double[] w;
    double[] b;
    int tries = 0;
    // Resample until no pre-activation is near the ReLU kink (eps-sized steps must not cross it).
    while (true) {
      x = random(rng, N * g.inChannels() * H * W);
      w = random(rng, g.weightSize());
      b = hasBias ? random(rng, g.outChannels()) : null;
      if (g.activation() == Activation.NONE || minAbsPreActivation(g, x, w, b) > 1e-3) {
        break;
      }
      if (++tries > 1000) {
        fail("no kink-free sample for " + g);
      }
    }
    double[] y = ReferenceConv2d.forward(g, x, w, b, N, H, W);
    double[] r = random(rng, y.length);
    Gradients grads = ReferenceConv2d.backward(g, x, w, y, r, N, H, W);
    assertThat(grads.input().length).isEqualTo(x.length);
    assertThat(grads.weight().length).isEqualTo(w.length);
    assertThat(grads.bias().length).isEqualTo(g.outChannels());
    double[] xs = x;
    double[] ws = w;
    double[] bs = b;
    compare(g + " input", grads.input(), x, () -> loss(g, xs, ws, bs, r));
    compare(g + " weight", grads.weight(), w, () -> loss(g, xs, ws, bs, r));
    if (hasBias) {
      compare(g + " bias", grads.bias(), b, () -> loss(g, xs, ws, bs, r));
    }
  }

  private static double minAbsPreActivation(Geometry g, double[] x, double[] w, double[] b) {
    Geometry linear = new Geometry(g.inChannels(), g.outChannels(), g.kernelH(), g.kernelW(), g.strideH(),
        g.strideW(), g.padTop(), g.padBottom(), g.padLeft(), g.padRight(), g.dilationH(), g.dilationW(), g.groups(),
        g.paddingMode(), Activation.NONE);
    double min = Double.MAX_VALUE;
    for (double v : ReferenceConv2d.forward(linear, x, w, b, N, H, W)) {
      // An exact zero is a pixel that reads only zero padding without bias: constant, so no kink.
      if (v != 0.0) {
        min = Math.min(min, Math.abs(v));
      }
    }
    return min;
  }

  /** Perturbs each element of {@code values} in place by +-EPS and compares with {@code analytic}. */
  private static void compare(String what, double[] analytic, double[] values,
      java.util.function.DoubleSupplier loss) {
    for (int i = 0; i < values.length; i++) {
      double saved = values[i];
      values[i] = saved + EPS;
      double plus = loss.getAsDouble();
      values[i] = saved - EPS;
      double minus = loss.getAsDouble();
      values[i] = saved;
      double numeric = (plus - minus) / (2 * EPS);
      double err = Math.abs(numeric - analytic[i]);
      if (err > ABS_TOL + REL_TOL * Math.abs(numeric)) {
        fail(what + "[" + i + "]: analytic " + analytic[i] + " numeric " + numeric);
      }
    }
  }

  @Test
  void floatModuleDelegatesToTheDoubleCore() {
    ReferenceConv2d conv = ReferenceConv2d.builder(2, 4, 3, 3).stride(2, 1).padding(1, 2, 2, 1).dilation(1, 2)
        .groups(2).paddingMode(PaddingMode.REFLECT).activation(Activation.RELU).seed(7).build();
    SplittableRandom rng = new SplittableRandom(3);
    float[] xf = new float[N * 2 * H * W];
    for (int i = 0; i < xf.length; i++) {
      xf[i] = (float) rng.nextDouble(-1, 1);
    }
    Tensor y = conv.forward(Tensor.of(xf, N, 2, H, W));
    double[] x = new double[xf.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = xf[i];
    }
    double[] w = toDouble(conv.weight().data().data());
    double[] b = toDouble(conv.bias().data().data());
    double[] expected = ReferenceConv2d.forward(conv.geometry(), x, w, b, N, H, W);
    assertThat(y.shape()).isEqualTo(new int[] {N, 4, conv.outHeight(H), conv.outWidth(W)});
    for (int i = 0; i < expected.length; i++) {
      assertEquals((float) expected[i], y.data()[i], 0f, "output " + i);
    }
    float[] gyf = new float[y.size()];
    for (int i = 0; i < gyf.length; i++) {
      gyf[i] = (float) rng.nextDouble(-1, 1);
    }
    Tensor gx = conv.backward(Tensor.of(gyf, y.shape()));
    Gradients grads = ReferenceConv2d.backward(conv.geometry(), x, w, toDouble(y.data()), toDouble(gyf), N, H, W);
    for (int i = 0; i < x.length; i++) {
      assertEquals((float) grads.input()[i], gx.data()[i], 0f, "grad input " + i);
    }
    for (int i = 0; i < w.length; i++) {
      assertEquals((float) grads.weight()[i], conv.weight().grad().data()[i], 0f, "grad weight " + i);
    }
    for (int i = 0; i < b.length; i++) {
      assertEquals((float) grads.bias()[i], conv.bias().grad().data()[i], 0f, "grad bias " + i);
    }
  }

  private static double[] toDouble(float[] a) {
    double[] out = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i];
    }
    return out;
  }

  @Test
  void rejectsInputsTheGeometryCannotTake() {
    Geometry reflect = new Geometry(1, 1, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1, 1, PaddingMode.REFLECT, Activation.NONE);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> reflect.checkInput(2, 5));
    assertThat(e).hasMessageThat().contains("reflect");
    Geometry circular = new Geometry(1, 1, 3, 3, 1, 1, 3, 3, 0, 0, 1, 1, 1, PaddingMode.CIRCULAR, Activation.NONE);
    circular.checkInput(3, 3);
    assertThat(assertThrows(IllegalArgumentException.class, () -> circular.checkInput(2, 3)))
        .hasMessageThat().contains("circular");
    // A 3-row kernel on 2 rows at stride 2: truncating division would report one output row.
    Geometry strided = new Geometry(1, 1, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 1, PaddingMode.ZEROS, Activation.NONE);
    assertThat(strided.outHeight(2)).isAtMost(0);
    assertThat(assertThrows(IllegalArgumentException.class, () -> strided.checkInput(2, 9)))
        .hasMessageThat().contains("does not fit");
    assertThrows(IllegalArgumentException.class,
        () -> new Geometry(3, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 2, PaddingMode.ZEROS, Activation.NONE));
    assertThrows(IllegalArgumentException.class, () -> ReferenceConv2d.forward(reflect, new double[3],
        new double[9], null, 1, 3, 3));
  }
}
