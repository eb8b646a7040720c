package dev.kiln.nn;

import dev.kiln.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/** Weight folding used when a network is fused for deployment. */
public final class Fusion {
  private Fusion() {}

  /**
   * Writes {@code conv} followed by {@code bn} (may be {@code null}) into {@code target}, a kernel of the same
   * geometry with a bias (without one when neither has a bias to fold): {@code W' = W * s}, {@code b' = (b - running_mean) * s + beta} with
   * {@code s = gamma / sqrt(running_var + eps)}; without BatchNorm the weights are copied (bias 0 if the conv
   * has none). Equal to conv-then-BN in eval mode. Computed in double.
   */
  public static void foldInto(ConvKernel conv, BatchNorm2d bn, ConvKernel target) {
    Tensor weight = conv.weight().data();
    int out = weight.dim(0);
    int per = weight.size() / out;
    float[] w = weight.data();
    float[] fw = new float[w.length];
    float[] fb = new float[out];
    for (int o = 0; o < out; o++) {
      double bias = conv.bias() == null ? 0.0 : conv.bias().data().data()[o];
      double scale = 1.0;
      double shift = 0.0;
      if (bn != null) {
        scale = bn.foldedScale(o);
        shift = bn.foldedShift(o);
      }
      for (int i = o * per; i < (o + 1) * per; i++) {
        fw[i] = (float) (w[i] * scale);
      }
      fb[o] = (float) (bias * scale + shift);
    }
    Map<String, Tensor> state = new LinkedHashMap<>();
    state.put("weight", Tensor.of(fw, weight.shape()));
    if (target.bias() != null) {
      state.put("bias", Tensor.of(fb, out));
    } else if (bn != null || conv.bias() != null) {
      throw new IllegalArgumentException("fusion target must have a bias");
    }
    target.loadStateDict(state);
    target.train(false);
  }

  /** Copies every state entry of {@code source} into {@code target} (same keys and shapes) and sets eval mode. */
  public static void copyState(Module source, Module target) {
    Map<String, Tensor> copy = new LinkedHashMap<>();
    source.stateDict().forEach((k, v) -> copy.put(k, v.copy()));
    target.loadStateDict(copy);
    target.train(false);
  }
}
