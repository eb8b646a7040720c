package dev.kiln.nn;

import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;

/**
 * The training passes of a {@link RepVggBlock} with BatchNorm in its branches, written to touch each plane
 * as few times as possible: the forward runs both convolutions sample by sample and takes the batch
 * statistics as the planes are written, then one loop applies the three BatchNorms, the sum and the
 * activation; the backward masks the output gradient and takes every BatchNorm's gradient sums in one pass,
 * then runs the BatchNorms' input gradients and both convolutions' backward tile by tile. Every result is
 * the same float as composing the modules one after another. The block owns the buffers and the saved
 * output; this class owns the per-plane bookkeeping.
 */
final class RepVggBatchNormPasses {
  private final ConvKernel denseConv;
  private final ConvKernel pointwiseConv;
  private final BatchNorm2d denseBn;
  private final BatchNorm2d pointwiseBn;
  private final BatchNorm2d identityBn;
  private final int[] inShape;
  private final int[] outShape;
  private final PlaneLoops planeLoops;
  /** The branches' batch-statistics moments, taken in a training forward as each sample's planes are written. */
  private final PlaneMoments denseMoments;
  private final PlaneMoments pointwiseMoments;
  private final PlaneMoments identityMoments;
  /** The BatchNorms' gradient sums of one backward ({@link #maskedGradientWithSums}). */
  private final double[][][] gradientSums;
  /** Each plane's gradient sums for every BatchNorm, in sample order ({@link #maskedGradientWithSums}). */
  private double[] planeSums = new double[0];

  /** {@code identityBn} is null without an identity branch; shapes are {@code {C, H, W}} of one sample. */
  RepVggBatchNormPasses(ConvKernel denseConv, ConvKernel pointwiseConv, BatchNorm2d denseBn,
      BatchNorm2d pointwiseBn, BatchNorm2d identityBn, int[] inShape, int[] outShape, PlaneLoops planeLoops) {
    this.denseConv = denseConv;
    this.pointwiseConv = pointwiseConv;
    this.denseBn = denseBn;
    this.pointwiseBn = pointwiseBn;
    this.identityBn = identityBn;
    this.inShape = inShape;
    this.outShape = outShape;
    this.planeLoops = planeLoops;
    denseMoments = new PlaneMoments(outShape[0]);
    pointwiseMoments = new PlaneMoments(outShape[0]);
    identityMoments = identityBn != null ? new PlaneMoments(inShape[0]) : null;
    gradientSums = new double[3][2][outShape[0]];
  }

  /**
   * The branches with BatchNorm in one pass: each BatchNorm computes its statistics and per-channel map
   * ({@link BatchNorm2d#affine}, which also updates the running statistics and saves what its backward
   * needs), and one loop writes {@code act((bn_d(x_d) + bn_p(x_p)) + bn_i(x))}, each map rounded to float as
   * {@code BatchNorm2d.forward} would, without materializing the three BatchNorm outputs. In training, when
   * the batch covers the threads, the two convolutions run sample by sample and take each plane's moments
   * as it is written ({@link #forwardSamples}); the statistics are the same to the bit either way. Returns
   * {@code out}, the block's output buffer.
   */
  Tensor forward(Tensor input, boolean relu, boolean training, Tensor out) {
    int n = input.dim(0);
    Tensor xd;
    Tensor xp;
    float[][] md;
    float[][] mp;
    float[][] mi;
    if (training && (Parallel.threads() <= 1 || n >= Parallel.threads())) {
      // Sample by sample: both convs read the sample while it is in cache, and each plane's moments for
      // the batch statistics are taken as it is written.
      xd = denseConv.outputBuffer(n);
      xp = pointwiseConv.outputBuffer(n);
      forwardSamples(input, xd, xp);
      md = denseBn.affine(xd, denseMoments);
      mp = pointwiseBn.affine(xp, pointwiseMoments);
      mi = identityBn != null ? identityBn.affine(input, identityMoments) : null;
    } else {
      xd = denseConv.forward(input);
      xp = pointwiseConv.forward(input);
      md = denseBn.affine(xd);
      mp = pointwiseBn.affine(xp);
      mi = identityBn != null ? identityBn.affine(input) : null;
    }
    int channels = outShape[0];
    int area = outShape[1] * outShape[2];
    float[] y = out.data();
    float[] d = xd.data();
    float[] p = xp.data();
    float[] x = input.data();
    Parallel.RangeBody planes = (start, end) -> {
      for (int plane = start; plane < end; plane++) {
        int c = plane % channels;
        int from = plane * area;
        int to = from + area;
        planeLoops.branchSum(d, md[0][c], md[1][c], p, mp[0][c], mp[1][c], mi == null ? null : x,
            mi == null ? 0f : mi[0][c], mi == null ? 0f : mi[1][c], relu, y, from, to);
      }
    };
    if (Parallel.worthSplitting(y.length, Parallel.MIN_ELEMENTS, (long) n * channels)) {
      Parallel.forRange(n * channels, planes);
    } else {
      planes.run(0, n * channels);
    }
    return out;
  }

  /** Both convolutions of a training forward, sample by sample, with the moments of every plane. */
  private void forwardSamples(Tensor input, Tensor xd, Tensor xp) {
    int n = input.dim(0);
    int inArea = inShape[1] * inShape[2];
    int outArea = outShape[1] * outShape[2];
    int inSize = inShape[0] * inArea;
    int outSize = outShape[0] * outArea;
    float[] x = input.data();
    float[] d = xd.data();
    float[] p = xp.data();
    ConvEngine.Weights wd = denseConv.forwardWeights();
    ConvEngine.Weights wp = pointwiseConv.forwardWeights();
    denseMoments.resize(n);
    pointwiseMoments.resize(n);
    if (identityMoments != null) {
      identityMoments.resize(n);
    }
    Parallel.RangeBody samples = (start, end) -> {
      double[] work = new double[2];
      for (int i = start; i < end; i++) {
        denseConv.forwardOne(wd, x, i, d);
        pointwiseConv.forwardOne(wp, x, i, p);
        denseMoments.record(planeLoops, d, i * outSize, i, outArea, work);
        pointwiseMoments.record(planeLoops, p, i * outSize, i, outArea, work);
        if (identityMoments != null) {
          identityMoments.record(planeLoops, x, i * inSize, i, inArea, work);
        }
      }
    };
    long macs = (denseConv.macsPerSample() + pointwiseConv.macsPerSample()) * n;
    if (Parallel.worthSplitting(macs, Parallel.MIN_MACS)) {
      Parallel.forRange(n, samples);
    } else {
      samples.run(0, n);
    }
    denseConv.saveForBackward(input, xd);
    pointwiseConv.saveForBackward(input, xp);
  }

  /**
   * The backward of the block's saved training {@code output} for {@code gradOutput}, through the activation
   * into {@code g} (the block's buffer with ReLU, else {@code gradOutput} itself), or (without
   * {@code inputGradient}) its parameter gradients only; returns the input gradient or null. In tiles
   * ({@link #backwardInTiles}), except when exactly one of the two convolutions would split its own backward
   * over the pool: then module by module.
   */
  Tensor backward(Tensor output, Tensor gradOutput, Tensor g, boolean relu, boolean inputGradient) {
    maskedGradientWithSums(output, gradOutput, g, relu);
    int n = output.dim(0);
    if (runsInTiles(n)) {
      return backwardInTiles(g, inputGradient, n);
    }
    double[][][] sums = gradientSums;
    Tensor gd = denseBn.backward(g, true, sums[0]);
    Tensor gp = pointwiseBn.backward(g, true, sums[1]);
    Tensor gi = identityBn == null ? null : identityBn.backward(g, inputGradient, sums[2]);
    if (!inputGradient) {
      denseConv.backwardParameters(gd);
      pointwiseConv.backwardParameters(gp);
      return null;
    }
    Tensor gx = denseConv.backward(gd);
    RepVggBlock.addBranches(gx, pointwiseConv.backward(gp), gi);
    return gx;
  }

  /**
   * Whether a backward with BatchNorm runs in tiles ({@link #backwardInTiles}): unless exactly one of the two
   * convolutions would split its own backward over the pool, where the tiles could not match both.
   */
  private boolean runsInTiles(int n) {
    return denseConv.splitsBackward(n) == pointwiseConv.splitsBackward(n);
  }

  /**
   * The backward after {@link #maskedGradientWithSums}, tile by tile ({@link ConvKernel#BACKWARD_TILE}
   * samples) over the pool's chunks of the batch: each tile's three BatchNorm input gradients, both
   * convolutions' backward on them ({@link ConvKernel#backwardTiles}) and the branch sum, while the tile is in
   * cache. The same floats as the module-by-module composition: the same per-element formulas, and the
   * convolutions' tiles and chunks are the ones their own backward uses.
   */
  private Tensor backwardInTiles(Tensor g, boolean inputGradient, int n) {
    double[][][] sums = gradientSums;
    float[] gy = g.data();
    float[] gd = denseBn.beginBackward(g, true, sums[0]).data();
    float[] gpIn = pointwiseBn.beginBackward(g, true, sums[1]).data();
    Tensor giTensor = identityBn == null ? null : identityBn.beginBackward(g, inputGradient, sums[2]);
    float[] gi = giTensor == null ? null : giTensor.data();
    int chunks = denseConv.splitsBackward(n) ? Parallel.chunkCount(n) : 1;
    ConvBackwardTiles dense = denseConv.backwardTiles(gd, inputGradient, chunks);
    ConvBackwardTiles pointwise = pointwiseConv.backwardTiles(gpIn, inputGradient, chunks);
    float[] acc = dense.inputGradient();
    float[] gp = pointwise.inputGradient();
    int inSize = inShape[0] * inShape[1] * inShape[2];
    Parallel.ChunkBody body = (chunk, start, end) -> {
      for (int t = start; t < end; t += ConvKernel.BACKWARD_TILE) {
        int te = Math.min(end, t + ConvKernel.BACKWARD_TILE);
        denseBn.inputGradient(gy, gd, t, te);
        pointwiseBn.inputGradient(gy, gpIn, t, te);
        if (gi != null) {
          identityBn.inputGradient(gy, gi, t, te);
        }
        dense.tile(chunk, t, te);
        pointwise.tile(chunk, t, te);
        if (acc != null) {
          RepVggBlock.sum(acc, gp, gi, false, t * inSize, te * inSize);
        }
      }
    };
    if (chunks > 1) {
      Parallel.forChunks(n, body);
    } else {
      body.run(0, 0, n);
    }
    pointwise.finish();
    return dense.finish();
  }

  /**
   * The output gradient through the activation (into {@code g}), then the BatchNorms' gradient sums ({@code sum(g)} and
   * {@code sum(g * (z - mean))} per channel, into {@code gradientSums[branch]}, branch 0 dense, 1 pointwise,
   * 2 identity). One pass over the batch, sample by sample: each sample's gradient is masked and each of its
   * planes read once for all three BatchNorms; the planes' sums are recorded and then added per channel in
   * sample order, the order each BatchNorm's own backward takes them in.
   */
  private void maskedGradientWithSums(Tensor output, Tensor gradOutput, Tensor g, boolean relu) {
    int n = output.dim(0);
    int channels = outShape[0];
    int area = outShape[1] * outShape[2];
    int outSize = channels * area;
    float[] y = output.data();
    float[] gy = gradOutput.data();
    float[] masked = g.data();
    int branches = identityBn != null ? 3 : 2;
    if (planeSums.length < 2 * n * channels * branches) {
      planeSums = new double[2 * n * channels * branches];
    }
    double[] planes = planeSums;
    Parallel.RangeBody samples = (start, end) -> {
      double[] work = new double[2];
      for (int i = start; i < end; i++) {
        int from = i * outSize;
        if (relu) {
          planeLoops.reluGradient(y, gy, masked, from, from + outSize);
        }
        for (int c = 0; c < channels; c++) {
          int off = from + c * area;
          int k = 2 * branches * (i * channels + c);
          denseBn.planeGradientSums(masked, off, area, c, work);
          planes[k] = work[0];
          planes[k + 1] = work[1];
          pointwiseBn.planeGradientSums(masked, off, area, c, work);
          planes[k + 2] = work[0];
          planes[k + 3] = work[1];
          if (branches == 3) {
            identityBn.planeGradientSums(masked, off, area, c, work);
            planes[k + 4] = work[0];
            planes[k + 5] = work[1];
          }
        }
      }
    };
    if (Parallel.worthSplitting(masked.length, Parallel.MIN_ELEMENTS, n)) {
      Parallel.forRange(n, samples);
    } else {
      samples.run(0, n);
    }
    double[][][] sums = gradientSums;
    for (int b = 0; b < branches; b++) {
      for (int c = 0; c < channels; c++) {
        double sumG = 0;
        double dot = 0;
        for (int i = 0; i < n; i++) {
          int k = 2 * branches * (i * channels + c) + 2 * b;
          sumG += planes[k];
          dot += planes[k + 1];
        }
        sums[b][0][c] = sumG;
        sums[b][1][c] = dot;
      }
    }
  }
}
