package dev.kiln.nn;

import dev.kiln.annotation.Activation;
import dev.kiln.tensor.Tensor;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A plain, general 2-D convolution whose {@link ConvGeometry} is known only at run time: the oracle the
 * generated kernels are tested against and the baseline they are benchmarked against. Semantics are
 * {@code torch.nn.Conv2d} (cross-correlation, weight {@code [out, in/groups, kH, kW]}, explicit per-side
 * padding, all four padding modes) followed by an optional fused activation.
 *
 * <p>The arithmetic lives in the static double-precision core {@link #forward(ConvGeometry, Activation,
 * double[], double[], double[], int)} and {@link #backward(ConvGeometry, Activation, double[], double[],
 * double[], double[], int)}, which gradient checks can call directly; the {@code float} {@link Module}
 * converts to double, delegates, and rounds the results once.
 */
public final class ReferenceConv2d extends AbstractModule {
  private final ConvGeometry geometry;
  private final Activation activation;
  private final Parameter weight;
  private final Parameter bias;
  private final SavedForBackward<Tensor> savedInput = savedForBackward();
  private final SavedForBackward<Tensor> savedOutput = savedForBackward();

  private ReferenceConv2d(Builder b) {
    geometry = b.geometry;
    activation = b.activation;
    int fanIn = geometry.fanIn();
    SplittableRandom random = new SplittableRandom(b.seed);
    Tensor w = Tensor.zeros(geometry.weightShape());
    Init.uniformFanIn(w.data(), fanIn, random);
    weight = registerParameter("weight", w);
    if (b.bias) {
      Tensor bt = Tensor.zeros(geometry.outChannels());
      Init.uniformFanIn(bt.data(), fanIn, random);
      bias = registerParameter("bias", bt);
    } else {
      bias = null;
    }
  }

  /** A builder for a convolution of {@code geometry}: with bias, without activation, seed 0. */
  public static Builder builder(ConvGeometry geometry) {
    return new Builder(geometry);
  }

  /** The layer's geometry. */
  public ConvGeometry geometry() {
    return geometry;
  }

  /** The activation applied after the bias. */
  public Activation activation() {
    return activation;
  }

  /** The weight parameter, {@code [out, in/groups, kH, kW]}. */
  public Parameter weight() {
    return weight;
  }

  /** The bias parameter, or {@code null} without bias. */
  public Parameter bias() {
    return bias;
  }

  /**
   * The forward pass in double precision: {@code x} is {@code [n, in, inHeight, inWidth]}, {@code w} the
   * weight, {@code b} the bias or {@code null}; returns {@code [n, out, outHeight, outWidth]} with the
   * activation applied.
   *
   * @throws IllegalArgumentException if an array length does not match the shapes
   */
  public static double[] forward(ConvGeometry g, Activation activation, double[] x, double[] w, double[] b, int n) {
    int h = g.inHeight();
    int width = g.inWidth();
    checkLength("input", x, (long) n * g.inChannels() * h * width);
    checkLength("weight", w, g.weightElements());
    if (b != null) {
      checkLength("bias", b, g.outChannels());
    }
    int oh = g.outHeight();
    int ow = g.outWidth();
    int icPerGroup = g.inChannels() / g.groups();
    int ocPerGroup = g.outChannels() / g.groups();
    double[] y = new double[n * g.outChannels() * oh * ow];
    for (int s = 0; s < n; s++) {
      for (int oc = 0; oc < g.outChannels(); oc++) {
        int group = oc / ocPerGroup;
        for (int i = 0; i < oh; i++) {
          for (int j = 0; j < ow; j++) {
            double acc = b == null ? 0.0 : b[oc];
            for (int c = 0; c < icPerGroup; c++) {
              int ic = group * icPerGroup + c;
              for (int kh = 0; kh < g.kernelH(); kh++) {
                for (int kw = 0; kw < g.kernelW(); kw++) {
                  int xi = inputIndex(g, s, ic, i, j, kh, kw);
                  if (xi >= 0) {
                    acc += w[((oc * icPerGroup + c) * g.kernelH() + kh) * g.kernelW() + kw] * x[xi];
                  }
                }
              }
            }
            if (activation != Activation.NONE && acc < 0.0) {
              acc = 0.0;
            } else if (activation == Activation.RELU6 && acc > 6.0) {
              acc = 6.0;
            }
            y[((s * g.outChannels() + oc) * oh + i) * ow + j] = acc;
          }
        }
      }
    }
    return y;
  }

  /**
   * The index in a batch {@code [N, inChannels, inHeight, inWidth]} of the input element that tap
   * {@code (kh, kw)} of output {@code (i, j)} reads from channel {@code ic} of sample {@code s}, or -1 where
   * the tap falls on zero padding (other padding modes map it back into the input).
   */
  private static int inputIndex(ConvGeometry g, int s, int ic, int i, int j, int kh, int kw) {
    int h = g.inHeight();
    int width = g.inWidth();
    int ih = ConvGeometry.sourceIndex(g.inputRow(i, kh), h, g.paddingMode());
    int iw = ConvGeometry.sourceIndex(g.inputColumn(j, kw), width, g.paddingMode());
    return ih < 0 || iw < 0 ? -1 : ((s * g.inChannels() + ic) * h + ih) * width + iw;
  }

  /**
   * The backward pass in double precision for the output gradient {@code gy}. {@code y} is the output of
   * {@link #forward(ConvGeometry, Activation, double[], double[], double[], int)} (it masks the ReLU; ignored
   * without activation, may then be {@code null}). The bias gradient is computed whether or not the layer
   * has a bias.
   *
   * @throws IllegalArgumentException if an array length does not match the shapes
   */
  public static Gradients backward(ConvGeometry g, Activation activation, double[] x, double[] w, double[] y,
      double[] gy, int n) {
    int h = g.inHeight();
    int width = g.inWidth();
    int oh = g.outHeight();
    int ow = g.outWidth();
    checkLength("input", x, (long) n * g.inChannels() * h * width);
    checkLength("weight", w, g.weightElements());
    checkLength("gradOutput", gy, (long) n * g.outChannels() * oh * ow);
    boolean relu = activation != Activation.NONE;
    boolean relu6 = activation == Activation.RELU6;
    if (relu) {
      checkLength("output", y, gy.length);
    }
    int icPerGroup = g.inChannels() / g.groups();
    int ocPerGroup = g.outChannels() / g.groups();
    double[] gx = new double[x.length];
    double[] gw = new double[w.length];
    double[] gb = new double[g.outChannels()];
    for (int s = 0; s < n; s++) {
      for (int oc = 0; oc < g.outChannels(); oc++) {
        int group = oc / ocPerGroup;
        for (int i = 0; i < oh; i++) {
          for (int j = 0; j < ow; j++) {
            int yi = ((s * g.outChannels() + oc) * oh + i) * ow + j;
            double go = relu && (y[yi] <= 0.0 || relu6 && y[yi] >= 6.0) ? 0.0 : gy[yi];
            gb[oc] += go;
            for (int c = 0; c < icPerGroup; c++) {
              int ic = group * icPerGroup + c;
              for (int kh = 0; kh < g.kernelH(); kh++) {
                for (int kw = 0; kw < g.kernelW(); kw++) {
                  int xi = inputIndex(g, s, ic, i, j, kh, kw);
                  if (xi < 0) {
                    continue;
                  }
                  int wi = ((oc * icPerGroup + c) * g.kernelH() + kh) * g.kernelW() + kw;
                  gx[xi] += w[wi] * go;
                  gw[wi] += x[xi] * go;
                }
              }
            }
          }
        }
      }
    }
    return new Gradients(gx, gw, gb);
  }

  private static void checkLength(String what, double[] a, long expected) {
    if (a == null || a.length != expected) {
      throw new IllegalArgumentException(what + ": expected " + expected + " values but got "
          + (a == null ? "null" : Integer.toString(a.length)));
    }
  }

  private static double[] toDouble(float[] a) {
    double[] out = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i];
    }
    return out;
  }

  @Override
  public Tensor forward(Tensor input) {
    int n = LayerShapes.requireSamples("input", input, geometry.inChannels(), geometry.inHeight(),
        geometry.inWidth());
    double[] y = forward(geometry, activation, toDouble(input.data()), toDouble(weight.data().data()),
        bias == null ? null : toDouble(bias.data().data()), n);
    Tensor output = Tensor.zeros(n, geometry.outChannels(), geometry.outHeight(), geometry.outWidth());
    float[] out = output.data();
    for (int i = 0; i < y.length; i++) {
      out[i] = (float) y[i];
    }
    if (isTraining()) {
      savedInput.set(input);
      savedOutput.set(output);
    }
    return output;
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    Tensor input = savedInput.get();
    int n = input.dim(0);
    Tensor.checkShape("gradOutput", gradOutput, n, geometry.outChannels(), geometry.outHeight(),
        geometry.outWidth());
    Gradients grads = backward(geometry, activation, toDouble(input.data()), toDouble(weight.data().data()),
        toDouble(savedOutput.get().data()), toDouble(gradOutput.data()), n);
    float[] gwOut = weight.grad().data();
    for (int i = 0; i < gwOut.length; i++) {
      gwOut[i] += (float) grads.weight()[i];
    }
    if (bias != null) {
      float[] gbOut = bias.grad().data();
      for (int i = 0; i < gbOut.length; i++) {
        gbOut[i] += (float) grads.bias()[i];
      }
    }
    Tensor gradInput = Tensor.zeros(input.shape());
    float[] gxOut = gradInput.data();
    for (int i = 0; i < gxOut.length; i++) {
      gxOut[i] = (float) grads.input()[i];
    }
    return gradInput;
  }

  /**
   * The gradients of one backward pass in double precision, laid out like the input, the weight and the
   * bias ({@code [out]}, computed even for a layer without bias).
   */
  public record Gradients(double[] input, double[] weight, double[] bias) {}

  /** Builder for {@link ReferenceConv2d}. */
  public static final class Builder {
    private final ConvGeometry geometry;
    private boolean bias = true;
    private Activation activation = Activation.NONE;
    private long seed;

    private Builder(ConvGeometry geometry) {
      this.geometry = Objects.requireNonNull(geometry, "geometry");
    }

    public Builder bias(boolean on) {
      bias = on;
      return this;
    }

    public Builder activation(Activation a) {
      activation = Objects.requireNonNull(a, "activation");
      return this;
    }

    /** The seed of PyTorch's default initialization. */
    public Builder seed(long s) {
      seed = s;
      return this;
    }

    public ReferenceConv2d build() {
      return new ReferenceConv2d(this);
    }
  }
}
