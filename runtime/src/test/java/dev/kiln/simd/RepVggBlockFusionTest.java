package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.BatchNorm2d;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.ConvKernel;
import dev.kiln.nn.RepVggBlock;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A training-mode {@link RepVggBlock} with BatchNorm runs its branches fused: both convolutions sample by
 * sample with each plane's BatchNorm moments taken as it is written, and one backward pass that masks the
 * output gradient and takes all three BatchNorms' gradient sums. This checks that against the same block
 * computed module by module (conv, BatchNorm, sum, ReLU), bit for bit: outputs, input gradients, every
 * parameter gradient and the running statistics, over strides 1 and 2, 1 and 2 threads and batches that take
 * the fused forward and the per-module one.
 */
class RepVggBlockFusionTest {
  private final int savedThreads = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(savedThreads);
  }

  private static final class Block extends RepVggBlock {
    Block(ConvKernel dense, ConvKernel pointwise, boolean identity, int[] in, int[] out) {
      super(dense, pointwise, true, identity, Activation.RELU, in, out, 1);
    }
  }

  /** The block's parts, copied into separate modules with the same parameters. */
  private static final class Unfused {
    final ConvKernel dense;
    final ConvKernel pointwise;
    final BatchNorm2d denseBn;
    final BatchNorm2d pointwiseBn;
    final BatchNorm2d identityBn;
    Tensor y;
    int[] xShape;

    Unfused(ConvGeometry gd, ConvGeometry gp, boolean identity, Block block) {
      dense = new NaiveConvKernel(gd, false, Activation.NONE, 1);
      pointwise = new NaiveConvKernel(gp, false, Activation.NONE, 2);
      denseBn = new BatchNorm2d(gd.outChannels());
      pointwiseBn = new BatchNorm2d(gd.outChannels());
      identityBn = identity ? new BatchNorm2d(gd.inChannels()) : null;
      Map<String, Tensor> state = block.stateDict();
      dense.loadStateDict(part(state, "rbr_dense.conv."));
      pointwise.loadStateDict(part(state, "rbr_1x1.conv."));
      denseBn.loadStateDict(part(state, "rbr_dense.bn."));
      pointwiseBn.loadStateDict(part(state, "rbr_1x1.bn."));
      if (identity) {
        identityBn.loadStateDict(part(state, "rbr_identity."));
      }
    }

    /** The entries under {@code prefix}, without it. */
    private static Map<String, Tensor> part(Map<String, Tensor> state, String prefix) {
      Map<String, Tensor> part = new LinkedHashMap<>();
      state.forEach((k, v) -> {
        if (k.startsWith(prefix) && k.indexOf('.', prefix.length()) < 0) {
          part.put(k.substring(prefix.length()), v);
        }
      });
      return part;
    }

    Tensor forward(Tensor x) {
      float[] d = denseBn.forward(dense.forward(x)).data();
      float[] p = pointwiseBn.forward(pointwise.forward(x)).data();
      float[] i = identityBn == null ? null : identityBn.forward(x).data();
      float[] out = new float[d.length];
      for (int k = 0; k < out.length; k++) {
        float v = i == null ? d[k] + p[k] : d[k] + p[k] + i[k];
        out[k] = Math.max(v, 0f);
      }
      xShape = x.shape();
      int[] o = dense.outputShape();
      y = Tensor.of(out, x.dim(0), o[0], o[1], o[2]);
      return y;
    }

    Tensor backward(Tensor gy) {
      float[] yv = y.data();
      float[] g = new float[yv.length];
      for (int k = 0; k < g.length; k++) {
        g[k] = yv[k] > 0f ? gy.data()[k] : 0f;
      }
      Tensor gt = Tensor.of(g, gy.shape());
      float[] gd = dense.backward(denseBn.backward(gt)).data().clone();
      float[] gp = pointwise.backward(pointwiseBn.backward(gt)).data();
      float[] gi = identityBn == null ? null : identityBn.backward(gt).data();
      for (int k = 0; k < gd.length; k++) {
        gd[k] = gi == null ? gd[k] + gp[k] : gd[k] + gp[k] + gi[k];
      }
      return Tensor.of(gd, xShape);
    }
  }

  private static void assertSame(String what, float[] actual, float[] expected) {
    assertWithMessage(what).that(actual).usingExactEquality().containsExactly(expected).inOrder();
  }

  @Test
  void fusedBranchesEqualModuleByModule() {
    SplittableRandom r = new SplittableRandom(20261128L);
    int cases = 0;
    // {in, out, size, stride}: the identity branch exists for stride 1 and in == out.
    int[][] shapes = {{4, 4, 9, 1}, {3, 8, 10, 2}, {16, 16, 7, 1}, {5, 20, 13, 2}};
    for (int[] s : shapes) {
      for (int threads = 1; threads <= 2; threads++) {
        for (int n : new int[] {1, 3}) {
          Parallel.setThreads(threads);
          int in = s[0];
          int out = s[1];
          int h = s[2];
          int stride = s[3];
          boolean identity = stride == 1 && in == out;
          ConvGeometry gd = NaiveConvKernel.geometry(in, out, h, h, 3, 3, stride, stride, 1, 1, 1, 1, 1, 1, 1,
              PaddingMode.ZEROS);
          ConvGeometry gp = NaiveConvKernel.geometry(in, out, h, h, 1, 1, stride, stride, 1, 1, 0, 0, 0, 0, 1,
              PaddingMode.ZEROS);
          int[] outShape = {out, gd.outHeight(), gd.outWidth()};
          Block block = new Block(new NaiveConvKernel(gd, false, Activation.NONE, 1),
              new NaiveConvKernel(gp, false, Activation.NONE, 2), identity, new int[] {in, h, h}, outShape);
          // Non-trivial BatchNorm affine parameters.
          for (Map.Entry<String, Tensor> e : block.stateDict().entrySet()) {
            if (e.getKey().endsWith("bn.weight") || e.getKey().endsWith("bn.bias")
                || e.getKey().equals("rbr_identity.weight") || e.getKey().equals("rbr_identity.bias")) {
              float[] v = e.getValue().data();
              for (int k = 0; k < v.length; k++) {
                v[k] = (float) (0.5 + r.nextDouble());
              }
            }
          }
          Unfused ref = new Unfused(gd, gp, identity, block);
          String c = "in=" + in + " out=" + out + " size=" + h + " stride=" + stride + " N=" + n + " threads="
              + threads;
          for (int step = 0; step < 2; step++) {
            Tensor x = TestTensors.uniform(r, 1, n, in, h, h);
            Tensor gy = TestTensors.uniform(r, 1, n, outShape[0], outShape[1], outShape[2]);
            assertSame("output of " + c, block.forward(x).data(), ref.forward(x).data());
            assertSame("input gradient of " + c, block.backward(gy).data(), ref.backward(gy).data());
          }
          Map<String, Tensor> state = block.stateDict();
          assertSame("dense weight gradient of " + c, block.denseConv().weight().grad().data(),
              ref.dense.weight().grad().data());
          assertSame("pointwise weight gradient of " + c, block.pointwiseConv().weight().grad().data(),
              ref.pointwise.weight().grad().data());
          assertSame("dense BN running mean of " + c, state.get("rbr_dense.bn.running_mean").data(),
              ref.denseBn.runningMean().data());
          assertSame("pointwise BN running var of " + c, state.get("rbr_1x1.bn.running_var").data(),
              ref.pointwiseBn.runningVar().data());
          assertBnGrads(c, block, "rbr_dense.bn", ref.denseBn);
          assertBnGrads(c, block, "rbr_1x1.bn", ref.pointwiseBn);
          if (identity) {
            assertSame("identity BN running var of " + c, state.get("rbr_identity.running_var").data(),
                ref.identityBn.runningVar().data());
            assertBnGrads(c, block, "rbr_identity", ref.identityBn);
          }
          cases++;
        }
      }
    }
    assertThat(cases).isEqualTo(16);
  }

  private static void assertBnGrads(String c, RepVggBlock block, String prefix, BatchNorm2d ref) {
    Map<String, dev.kiln.nn.Parameter> params = block.namedParameters();
    assertSame(prefix + " weight gradient of " + c, params.get(prefix + ".weight").grad().data(),
        ref.weight().grad().data());
    assertSame(prefix + " bias gradient of " + c, params.get(prefix + ".bias").grad().data(),
        ref.bias().grad().data());
  }
}
