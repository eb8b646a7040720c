package dev.kiln.nn;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A plain, general 2-D convolution with shapes known only at run time: the oracle the generated kernels
 * are tested against and the baseline they are benchmarked against. Semantics are {@code torch.nn.Conv2d}
 * (cross-correlation, weight {@code [out, in/groups, kH, kW]}, explicit per-side padding, all four padding
 * modes) followed by an optional fused activation.
 *
 * <p>The arithmetic lives in the static double-precision core {@link #forward(Geometry, double[], double[],
 * double[], int, int, int)} and {@link #backward(Geometry, double[], double[], double[], double[], int, int,
 * int)}, which gradient checks can call directly; the {@code float} {@link Module} converts to double,
 * delegates, and rounds the results once.
 */
public final class ReferenceConv2d extends AbstractModule {
  private final Geometry geometry;
  private final Parameter weight;
  private final Parameter bias;
  private Tensor savedInput;
  private Tensor savedOutput;

  private ReferenceConv2d(Builder b) {
    geometry = new Geometry(b.inChannels, b.outChannels, b.kernelH, b.kernelW, b.strideH, b.strideW, b.padTop,
        b.padBottom, b.padLeft, b.padRight, b.dilationH, b.dilationW, b.groups, b.paddingMode, b.activation);
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

  /** A builder; {@code inChannels}, {@code outChannels} and the kernel size are required. */
  public static Builder builder(int inChannels, int outChannels, int kernelH, int kernelW) {
    return new Builder(inChannels, outChannels, kernelH, kernelW);
  }

  /** The layer's geometry. */
  public Geometry geometry() {
    return geometry;
  }

  /** The weight parameter, {@code [out, in/groups, kH, kW]}. */
  public Parameter weight() {
    return weight;
  }

  /** The bias parameter, or {@code null} without bias. */
  public Parameter bias() {
    return bias;
  }

  /** The output height for an input of height {@code h}. */
  public int outHeight(int h) {
    return geometry.outHeight(h);
  }

  /** The output width for an input of width {@code w}. */
  public int outWidth(int w) {
    return geometry.outWidth(w);
  }


  /**
   * The forward pass in double precision: {@code x} is {@code [n, in, h, width]}, {@code w} the weight,
   * {@code b} the bias or {@code null}; returns {@code [n, out, outHeight(h), outWidth(width)]} with the
   * activation applied.
   *
   * @throws IllegalArgumentException if an array length does not match the shapes or the input is too
   *     small for the padding mode or the kernel
   */
  public static double[] forward(Geometry g, double[] x, double[] w, double[] b, int n, int h, int width) {
    g.checkInput(h, width);
    checkLength("input", x, (long) n * g.inChannels() * h * width);
    checkLength("weight", w, g.weightSize());
    if (b != null) {
      checkLength("bias", b, g.outChannels());
    }
    int oh = g.outHeight(h);
    int ow = g.outWidth(width);
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
                int ih = ConvGeometry.sourceIndex(i * g.strideH() - g.padTop() + kh * g.dilationH(), h, g.paddingMode());
                if (ih < 0) {
                  continue;
                }
                for (int kw = 0; kw < g.kernelW(); kw++) {
                  int iw = ConvGeometry.sourceIndex(j * g.strideW() - g.padLeft() + kw * g.dilationW(), width, g.paddingMode());
                  if (iw < 0) {
                    continue;
                  }
                  acc += w[((oc * icPerGroup + c) * g.kernelH() + kh) * g.kernelW() + kw]
                      * x[((s * g.inChannels() + ic) * h + ih) * width + iw];
                }
              }
            }
            if (g.activation() != Activation.NONE && acc < 0.0) {
              acc = 0.0;
            } else if (g.activation() == Activation.RELU6 && acc > 6.0) {
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
   * The backward pass in double precision for the output gradient {@code gy}. {@code y} is the output of
   * {@link #forward(Geometry, double[], double[], double[], int, int, int)} (it masks the ReLU; ignored
   * without activation, may then be {@code null}). The bias gradient is computed whether or not the layer
   * has a bias.
   */
  public static Gradients backward(Geometry g, double[] x, double[] w, double[] y, double[] gy, int n, int h,
      int width) {
    g.checkInput(h, width);
    int oh = g.outHeight(h);
    int ow = g.outWidth(width);
    checkLength("input", x, (long) n * g.inChannels() * h * width);
    checkLength("weight", w, g.weightSize());
    checkLength("gradOutput", gy, (long) n * g.outChannels() * oh * ow);
    boolean relu = g.activation() != Activation.NONE;
    boolean relu6 = g.activation() == Activation.RELU6;
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
                int ih = ConvGeometry.sourceIndex(i * g.strideH() - g.padTop() + kh * g.dilationH(), h, g.paddingMode());
                if (ih < 0) {
                  continue;
                }
                for (int kw = 0; kw < g.kernelW(); kw++) {
                  int iw = ConvGeometry.sourceIndex(j * g.strideW() - g.padLeft() + kw * g.dilationW(), width, g.paddingMode());
                  if (iw < 0) {
                    continue;
                  }
                  int wi = ((oc * icPerGroup + c) * g.kernelH() + kh) * g.kernelW() + kw;
                  int xi = ((s * g.inChannels() + ic) * h + ih) * width + iw;
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

  private void checkInput(Tensor input) {
    int[] s = input.shape();
    if (s.length != 4 || s[1] != geometry.inChannels()) {
      throw new IllegalArgumentException("input: expected shape [N, " + geometry.inChannels() + ", H, W] but got "
          + Arrays.toString(s));
    }
    geometry.checkInput(s[2], s[3]);
  }

  @Override
  public Tensor forward(Tensor input) {
    checkInput(input);
    int n = input.dim(0);
    int h = input.dim(2);
    int w = input.dim(3);
    double[] y = forward(geometry, toDouble(input.data()), toDouble(weight.data().data()),
        bias == null ? null : toDouble(bias.data().data()), n, h, w);
    Tensor output = Tensor.zeros(n, geometry.outChannels(), outHeight(h), outWidth(w));
    float[] out = output.data();
    for (int i = 0; i < y.length; i++) {
      out[i] = (float) y[i];
    }
    if (isTraining()) {
      savedInput = input;
      savedOutput = output;
    }
    return output;
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    if (savedInput == null) {
      throw new IllegalStateException("backward needs a training-mode forward first");
    }
    Tensor input = savedInput;
    int n = input.dim(0);
    int h = input.dim(2);
    int w = input.dim(3);
    Tensor.checkShape("gradOutput", gradOutput, n, geometry.outChannels(), outHeight(h), outWidth(w));
    Gradients grads = backward(geometry, toDouble(input.data()), toDouble(weight.data().data()),
        toDouble(savedOutput.data()), toDouble(gradOutput.data()), n, h, w);
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

  @Override
  public void train(boolean on) {
    super.train(on);
    if (!on) {
      savedInput = null;
      savedOutput = null;
    }
  }

  /**
   * Everything about a convolution except the input size: channels, kernel, stride, per-side padding,
   * dilation, groups, padding mode and activation.
   */
  public record Geometry(
      int inChannels,
      int outChannels,
      int kernelH,
      int kernelW,
      int strideH,
      int strideW,
      int padTop,
      int padBottom,
      int padLeft,
      int padRight,
      int dilationH,
      int dilationW,
      int groups,
      PaddingMode paddingMode,
      Activation activation) {
    /**
     * @throws IllegalArgumentException if channels, kernel, stride, dilation or groups are not positive,
     *     groups does not divide both channel counts, or a padding is negative
     */
    public Geometry {
      Objects.requireNonNull(paddingMode, "paddingMode");
      Objects.requireNonNull(activation, "activation");
      if (inChannels <= 0 || outChannels <= 0 || groups <= 0 || inChannels % groups != 0
          || outChannels % groups != 0) {
        throw new IllegalArgumentException("bad channels/groups: in=" + inChannels + " out=" + outChannels
            + " groups=" + groups + " (all positive, groups dividing both)");
      }
      if (kernelH <= 0 || kernelW <= 0 || strideH <= 0 || strideW <= 0 || dilationH <= 0 || dilationW <= 0
          || padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0) {
        throw new IllegalArgumentException("kernel, stride and dilation must be positive, padding >= 0 but got "
            + "kernel " + kernelH + "x" + kernelW + ", stride " + strideH + "x" + strideW + ", dilation "
            + dilationH + "x" + dilationW + ", padding (" + padTop + ", " + padBottom + ", " + padLeft + ", "
            + padRight + ")");
      }
    }

    /** {@code in/groups * kH * kW}, the fan-in of PyTorch's default initialization. */
    public int fanIn() {
      return inChannels / groups * kernelH * kernelW;
    }

    /** {@code {out, in/groups, kH, kW}}. */
    public int[] weightShape() {
      return new int[] {outChannels, inChannels / groups, kernelH, kernelW};
    }

    int weightSize() {
      return outChannels * (inChannels / groups) * kernelH * kernelW;
    }

    /** The output height for an input of height {@code h} (at most 0 when the kernel does not fit). */
    public int outHeight(int h) {
      return ConvGeometry.outSize(h, padTop, padBottom, kernelH, strideH, dilationH);
    }

    /** The output width for an input of width {@code w} (at most 0 when the kernel does not fit). */
    public int outWidth(int w) {
      return ConvGeometry.outSize(w, padLeft, padRight, kernelW, strideW, dilationW);
    }

    /**
     * Checks that an {@code h x w} input suits this geometry: reflect padding smaller than the input,
     * circular padding at most the input, and a kernel that fits the padded input.
     *
     * @throws IllegalArgumentException otherwise
     */
    public void checkInput(int h, int w) {
      if (h <= 0 || w <= 0) {
        throw new IllegalArgumentException("input size must be positive but was " + h + "x" + w);
      }
      int maxPadH = Math.max(padTop, padBottom);
      int maxPadW = Math.max(padLeft, padRight);
      if (paddingMode == PaddingMode.REFLECT && (maxPadH >= h || maxPadW >= w)) {
        throw new IllegalArgumentException("reflect padding (" + maxPadH + ", " + maxPadW
            + ") must be smaller than the input size " + h + "x" + w);
      }
      if (paddingMode == PaddingMode.CIRCULAR && (maxPadH > h || maxPadW > w)) {
        throw new IllegalArgumentException("circular padding (" + maxPadH + ", " + maxPadW
            + ") must not exceed the input size " + h + "x" + w);
      }
      if (outHeight(h) <= 0 || outWidth(w) <= 0) {
        throw new IllegalArgumentException("kernel " + kernelH + "x" + kernelW + " with dilation " + dilationH + "x"
            + dilationW + " does not fit the padded input " + (h + padTop + padBottom) + "x"
            + (w + padLeft + padRight));
      }
    }
  }

  /**
   * The gradients of one backward pass in double precision, laid out like the input, the weight and the
   * bias ({@code [out]}, computed even for a layer without bias).
   */
  public record Gradients(double[] input, double[] weight, double[] bias) {}

  /** Builder for {@link ReferenceConv2d}. */
  public static final class Builder {
    private final int inChannels;
    private final int outChannels;
    private final int kernelH;
    private final int kernelW;
    private int strideH = 1;
    private int strideW = 1;
    private int padTop;
    private int padBottom;
    private int padLeft;
    private int padRight;
    private int dilationH = 1;
    private int dilationW = 1;
    private int groups = 1;
    private boolean bias = true;
    private PaddingMode paddingMode = PaddingMode.ZEROS;
    private Activation activation = Activation.NONE;
    private long seed;

    private Builder(int inChannels, int outChannels, int kernelH, int kernelW) {
      this.inChannels = inChannels;
      this.outChannels = outChannels;
      this.kernelH = kernelH;
      this.kernelW = kernelW;
    }

    public Builder stride(int h, int w) {
      strideH = h;
      strideW = w;
      return this;
    }

    /** Per-side padding. */
    public Builder padding(int top, int bottom, int left, int right) {
      padTop = top;
      padBottom = bottom;
      padLeft = left;
      padRight = right;
      return this;
    }

    public Builder dilation(int h, int w) {
      dilationH = h;
      dilationW = w;
      return this;
    }

    public Builder groups(int g) {
      groups = g;
      return this;
    }

    public Builder bias(boolean on) {
      bias = on;
      return this;
    }

    public Builder paddingMode(PaddingMode mode) {
      paddingMode = mode;
      return this;
    }

    public Builder activation(Activation a) {
      activation = a;
      return this;
    }

    public Builder seed(long s) {
      seed = s;
      return this;
    }

    public ReferenceConv2d build() {
      return new ReferenceConv2d(this);
    }
  }
}
