package dev.kiln.nn;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A plain, general 2-D convolution with shapes known only at run time: the oracle the generated kernels
 * are tested against and the baseline they are benchmarked against. Semantics are {@code torch.nn.Conv2d}
 * (cross-correlation, weight {@code [out, in/groups, kH, kW]}, explicit per-side padding, all four padding
 * modes) followed by an optional fused activation. Accumulates in double.
 */
public final class ReferenceConv2d extends AbstractModule {
  private final int inChannels;
  private final int outChannels;
  private final int kernelH;
  private final int kernelW;
  private final int strideH;
  private final int strideW;
  private final int padTop;
  private final int padBottom;
  private final int padLeft;
  private final int padRight;
  private final int dilationH;
  private final int dilationW;
  private final int groups;
  private final PaddingMode paddingMode;
  private final Activation activation;
  private final Parameter weight;
  private final Parameter bias;
  private Tensor savedInput;
  private Tensor savedOutput;

  private ReferenceConv2d(Builder b) {
    if (b.inChannels <= 0 || b.outChannels <= 0 || b.groups <= 0
        || b.inChannels % b.groups != 0 || b.outChannels % b.groups != 0) {
      throw new IllegalArgumentException("bad channels/groups: in=" + b.inChannels + " out=" + b.outChannels
          + " groups=" + b.groups);
    }
    if (b.kernelH <= 0 || b.kernelW <= 0 || b.strideH <= 0 || b.strideW <= 0 || b.dilationH <= 0
        || b.dilationW <= 0 || b.padTop < 0 || b.padBottom < 0 || b.padLeft < 0 || b.padRight < 0) {
      throw new IllegalArgumentException("kernel, stride and dilation must be positive, padding >= 0");
    }
    inChannels = b.inChannels;
    outChannels = b.outChannels;
    kernelH = b.kernelH;
    kernelW = b.kernelW;
    strideH = b.strideH;
    strideW = b.strideW;
    padTop = b.padTop;
    padBottom = b.padBottom;
    padLeft = b.padLeft;
    padRight = b.padRight;
    dilationH = b.dilationH;
    dilationW = b.dilationW;
    groups = b.groups;
    paddingMode = b.paddingMode;
    activation = b.activation;
    int fanIn = inChannels / groups * kernelH * kernelW;
    SplittableRandom random = new SplittableRandom(b.seed);
    Tensor w = Tensor.zeros(outChannels, inChannels / groups, kernelH, kernelW);
    Init.uniformFanIn(w.data(), fanIn, random);
    weight = registerParameter("weight", w);
    if (b.bias) {
      Tensor bt = Tensor.zeros(outChannels);
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
    return (h + padTop + padBottom - dilationH * (kernelH - 1) - 1) / strideH + 1;
  }

  /** The output width for an input of width {@code w}. */
  public int outWidth(int w) {
    return (w + padLeft + padRight - dilationW * (kernelW - 1) - 1) / strideW + 1;
  }

  /**
   * Maps a padded coordinate {@code i} (may be negative or past the end) to a source coordinate, or -1
   * when it reads a zero.
   */
  static int source(int i, int size, PaddingMode mode) {
    if (i >= 0 && i < size) {
      return i;
    }
    switch (mode) {
      case ZEROS:
        return -1;
      case REFLECT:
        return i < 0 ? -i : 2 * (size - 1) - i;
      case REPLICATE:
        return i < 0 ? 0 : size - 1;
      case CIRCULAR:
        return i < 0 ? i + size : i - size;
      default:
        throw new AssertionError(mode);
    }
  }

  private void checkInput(Tensor input) {
    int[] s = input.shape();
    if (s.length != 4 || s[1] != inChannels) {
      throw new IllegalArgumentException("input: expected shape [N, " + inChannels + ", H, W] but got "
          + Arrays.toString(s));
    }
    int h = s[2];
    int w = s[3];
    int maxPadH = Math.max(padTop, padBottom);
    int maxPadW = Math.max(padLeft, padRight);
    if (paddingMode == PaddingMode.REFLECT && (maxPadH >= h || maxPadW >= w)) {
      throw new IllegalArgumentException("reflect padding must be smaller than the input size " + h + "x" + w);
    }
    if (paddingMode == PaddingMode.CIRCULAR && (maxPadH > h || maxPadW > w)) {
      throw new IllegalArgumentException("circular padding must not exceed the input size " + h + "x" + w);
    }
    if (outHeight(h) <= 0 || outWidth(w) <= 0) {
      throw new IllegalArgumentException("kernel does not fit the padded input " + h + "x" + w);
    }
  }

  @Override
  public Tensor forward(Tensor input) {
    checkInput(input);
    int n = input.dim(0);
    int h = input.dim(2);
    int w = input.dim(3);
    int oh = outHeight(h);
    int ow = outWidth(w);
    int icPerGroup = inChannels / groups;
    int ocPerGroup = outChannels / groups;
    float[] x = input.data();
    float[] wt = weight.data().data();
    Tensor output = Tensor.zeros(n, outChannels, oh, ow);
    float[] y = output.data();
    for (int b = 0; b < n; b++) {
      for (int oc = 0; oc < outChannels; oc++) {
        int g = oc / ocPerGroup;
        for (int i = 0; i < oh; i++) {
          for (int j = 0; j < ow; j++) {
            double acc = bias == null ? 0.0 : bias.data().data()[oc];
            for (int c = 0; c < icPerGroup; c++) {
              int ic = g * icPerGroup + c;
              for (int kh = 0; kh < kernelH; kh++) {
                int ih = source(i * strideH - padTop + kh * dilationH, h, paddingMode);
                if (ih < 0) {
                  continue;
                }
                for (int kw = 0; kw < kernelW; kw++) {
                  int iw = source(j * strideW - padLeft + kw * dilationW, w, paddingMode);
                  if (iw < 0) {
                    continue;
                  }
                  acc += (double) wt[((oc * icPerGroup + c) * kernelH + kh) * kernelW + kw]
                      * x[((b * inChannels + ic) * h + ih) * w + iw];
                }
              }
            }
            float v = (float) acc;
            if (activation == Activation.RELU && v < 0f) {
              v = 0f;
            }
            y[((b * outChannels + oc) * oh + i) * ow + j] = v;
          }
        }
      }
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
    int oh = outHeight(h);
    int ow = outWidth(w);
    Tensor.checkShape("gradOutput", gradOutput, n, outChannels, oh, ow);
    int icPerGroup = inChannels / groups;
    int ocPerGroup = outChannels / groups;
    float[] x = input.data();
    float[] wt = weight.data().data();
    float[] gy = gradOutput.data().clone();
    if (activation == Activation.RELU) {
      float[] y = savedOutput.data();
      for (int i = 0; i < gy.length; i++) {
        if (y[i] <= 0f) {
          gy[i] = 0f;
        }
      }
    }
    double[] gx = new double[x.length];
    double[] gw = new double[wt.length];
    double[] gb = new double[outChannels];
    for (int b = 0; b < n; b++) {
      for (int oc = 0; oc < outChannels; oc++) {
        int g = oc / ocPerGroup;
        for (int i = 0; i < oh; i++) {
          for (int j = 0; j < ow; j++) {
            double go = gy[((b * outChannels + oc) * oh + i) * ow + j];
            gb[oc] += go;
            for (int c = 0; c < icPerGroup; c++) {
              int ic = g * icPerGroup + c;
              for (int kh = 0; kh < kernelH; kh++) {
                int ih = source(i * strideH - padTop + kh * dilationH, h, paddingMode);
                if (ih < 0) {
                  continue;
                }
                for (int kw = 0; kw < kernelW; kw++) {
                  int iw = source(j * strideW - padLeft + kw * dilationW, w, paddingMode);
                  if (iw < 0) {
                    continue;
                  }
                  int wi = ((oc * icPerGroup + c) * kernelH + kh) * kernelW + kw;
                  int xi = ((b * inChannels + ic) * h + ih) * w + iw;
                  gx[xi] += wt[wi] * go;
                  gw[wi] += x[xi] * go;
                }
              }
            }
          }
        }
      }
    }
    float[] gwOut = weight.grad().data();
    for (int i = 0; i < gw.length; i++) {
      gwOut[i] += (float) gw[i];
    }
    if (bias != null) {
      float[] gbOut = bias.grad().data();
      for (int i = 0; i < gb.length; i++) {
        gbOut[i] += (float) gb[i];
      }
    }
    Tensor gradInput = Tensor.zeros(input.shape());
    float[] gxOut = gradInput.data();
    for (int i = 0; i < gx.length; i++) {
      gxOut[i] = (float) gx[i];
    }
    return gradInput;
  }

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
