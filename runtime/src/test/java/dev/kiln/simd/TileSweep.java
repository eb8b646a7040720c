package dev.kiln.simd;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A benchmark program (not a test): one convolution layer's loops over output-channel chunks, rows and column
 * tiles, as {@link BlockedConv} runs them, with tile choices given on the command line, all variants
 * interleaved in one JVM (slices of each in turn, round after round) so that a machine's slow phases fall on
 * every variant alike. Prints per variant the best and the median slice's time per layer call, and the median
 * over the rounds of its time over the first variant's in the same round (with quartiles): neighbouring slices
 * share the machine's phase, so that ratio holds where the times swing.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp runtime/target/classes:runtime/target/test-classes \
 *   dev.kiln.simd.TileSweep KIND CIN COUT H W ROUNDS SLICE_MS VARIANT...
 * </pre>
 *
 * KIND is {@code pw} (1x1 layers, pointwise tiles) or {@code c3} (3x3 stride 1, convolution tiles); a VARIANT is
 * {@code threes|twos|ones:MAXPIXELS:ARG}: chunks of three blocks (twos and a one for the rest, {@link
 * BlockedConv#split}), of two, or of one, row tiles of at most MAXPIXELS ({@link BlockedConv#columns}), and ARG the
 * pointwise tiles' lanes per step (1 or 2; 0 runs a pw layer through the convolution tiles of variable pixel
 * distance, one offset-table entry per step) or the convolution tiles' pixel distance (1: constant, 0: variable);
 * a fourth field {@code :rows} runs each output row through all chunks before the next row (BlockedConv runs each
 * chunk through all rows); a last field {@code :sliceN} (pw) runs the reduction in slices of N input channels, each
 * slice through all rows before the next (timing only: the partial sums are not carried from slice to slice); a
 * field {@code :gapN} leaves N floats between the input's channel blocks (and the output's) beyond the map.
 * The weights and inputs are arbitrary values; only time is measured.
 */
public final class TileSweep {
  private TileSweep() {}

  public static void main(String[] a) {
    if (a.length < 8) {
      System.err.println("usage: TileSweep pw|c3 CIN COUT H W ROUNDS SLICE_MS threes|twos:MAXPIXELS:ARG[:rows]...");
      System.exit(2);
    }
    boolean pw = a[0].equals("pw");
    int cin = Integer.parseInt(a[1]);
    int cout = Integer.parseInt(a[2]);
    int h = Integer.parseInt(a[3]);
    int w = Integer.parseInt(a[4]);
    int rounds = Integer.parseInt(a[5]);
    long slice = Long.parseLong(a[6]) * 1_000_000L;
    int lanes = VectorShape.LANES;
    int pad = pw ? 0 : 1;
    int k = pw ? 1 : 3;
    int rowStride = (w + 2 * pad) * lanes;
    int outBlocks = VectorShape.blocks(cout);
    int steps = cin * k * k;
    float[] weights = filled(steps * outBlocks * lanes);
    float[] bias = new float[outBlocks * lanes];

    int n = a.length - 7;
    List<Variant> variants = new ArrayList<>();
    int maxGap = 0;
    for (int v = 0; v < n; v++) {
      variants.add(new Variant(a[7 + v], outBlocks, w, pw));
      maxGap = Math.max(maxGap, variants.get(v).gap);
    }
    float[] x = filled(VectorShape.blocks(cin) * ((h + 2 * pad) * rowStride + maxGap) + 64);
    float[] y = new float[outBlocks * (h * w * lanes + maxGap) + 64];
    double[][] micros = new double[n][rounds];
    for (int round = -3; round < rounds; round++) {
      for (int v = 0; v < n; v++) {
        Variant var = variants.get(v);
        int blockStride = (h + 2 * pad) * rowStride + var.gap;
        int outBlockStride = h * w * lanes + var.gap;
        int[] off = offsets(cin, k, lanes, blockStride, rowStride, pw);
        long calls = 0;
        long t0 = System.nanoTime();
        long now;
        do {
          // BlockedConv's order: each chunk through all rows; with rowsFirst, each row through all chunks.
          for (int row = 0; row < (var.rowsFirst ? h : 1); row++) {
            int first = 0;
            int wo = 0;
            for (int m : var.chunks) {
              int[] cols = var.columns[m];
              BlockedKernels.ConvTile[] tiles = var.tiles[m];
              int part = var.slice > 0 && pw ? Math.min(var.slice, steps) : steps;
              for (int s0 = 0; s0 < steps; s0 += part) {
                int xs = s0 / lanes * blockStride;
                for (int oh = var.rowsFirst ? row : 0; oh < (var.rowsFirst ? row + 1 : h); oh++) {
                  int yBase = first * outBlockStride + oh * w * lanes;
                  for (int i = 0; i < tiles.length; i++) {
                    int col = cols[2 * i];
                    tiles[i].run(x, xs + oh * rowStride + col * lanes, lanes, off, part, weights, wo + s0 * m * lanes,
                        m * lanes, bias, first * lanes, 0f, y, yBase + col * lanes, lanes, outBlockStride);
                  }
                }
              }
              first += m;
              wo += steps * m * lanes;
            }
          }
          calls++;
          now = System.nanoTime();
        } while (now - t0 < slice);
        if (round >= 0) {
          micros[v][round] = (now - t0) / 1e3 / calls;
        }
      }
    }
    double macs = (double) cin * cout * k * k * h * w;
    System.out.printf(Locale.ROOT, "%s %d->%d %dx%d, %d lanes, %d rounds of %d ms%n", a[0], cin, cout, h, w, lanes,
        rounds, slice / 1_000_000L);
    for (int v = 0; v < n; v++) {
      double[] s = micros[v].clone();
      Arrays.sort(s);
      // Each round's time over the first variant's in the same round: neighbouring slices share the machine's
      // phase, so the median ratio holds where the times themselves swing from minute to minute.
      double[] ratio = new double[rounds];
      for (int round = 0; round < rounds; round++) {
        ratio[round] = micros[v][round] / micros[0][round];
      }
      Arrays.sort(ratio);
      System.out.printf(Locale.ROOT,
          "%-14s best %9.1f us  median %9.1f us  (%.1f G multiply-adds/s at best)  %.3f of the first's time "
              + "(median of rounds; quartiles %.3f-%.3f)%n",
          a[7 + v], s[0], s[rounds / 2], macs / s[0] / 1e3, ratio[rounds / 2], ratio[rounds / 4],
          ratio[rounds * 3 / 4]);
    }
  }

  /** The offset table of a layer whose input channel blocks are {@code blockStride} floats apart. */
  private static int[] offsets(int cin, int k, int lanes, int blockStride, int rowStride, boolean pw) {
    int[] off = new int[Math.max(cin * k * k, lanes + 1)];
    int r = 0;
    for (int c = 0; c < cin; c++) {
      for (int kh = 0; kh < k; kh++) {
        for (int kw = 0; kw < k; kw++) {
          off[r++] = (c / lanes) * blockStride + c % lanes + kh * rowStride + kw * lanes;
        }
      }
    }
    if (pw) {
      off[lanes] = blockStride; // the pointwise tiles read the block stride there
    }
    return off;
  }

  private static float[] filled(int size) {
    float[] f = new float[size];
    for (int i = 0; i < size; i++) {
      f[i] = (i % 13) * 0.01f;
    }
    return f;
  }

  /** One tile choice: the chunks' block counts, and per block count its column runs and tiles. */
  private static final class Variant {
    final int[] chunks;
    final boolean rowsFirst;
    /** Pointwise reduction slices of this many input channels (partial sums not carried over: timing only). */
    final int slice;
    /** Floats between the input's (and the output's) channel blocks beyond the map itself. */
    final int gap;
    final int[][] columns = new int[BlockedKernels.MAX_BLOCKS + 1][];
    final BlockedKernels.ConvTile[][] tiles = new BlockedKernels.ConvTile[BlockedKernels.MAX_BLOCKS + 1][];

    Variant(String spec, int outBlocks, int width, boolean pw) {
      String[] s = spec.split(":");
      chunks = s[0].equals("ones") ? ones(outBlocks) : BlockedConv.split(outBlocks, s[0].equals("twos"));
      int max = Integer.parseInt(s[1]);
      int arg = Integer.parseInt(s[2]);
      rowsFirst = s.length > 3 && s[3].equals("rows");
      int sliceN = 0;
      int gapN = 0;
      for (int i = 3; i < s.length; i++) {
        if (s[i].startsWith("slice")) {
          sliceN = Integer.parseInt(s[i].substring(5));
        } else if (s[i].startsWith("gap")) {
          gapN = Integer.parseInt(s[i].substring(3));
        }
      }
      slice = sliceN;
      gap = gapN;
      for (int m : chunks) {
        if (tiles[m] != null) {
          continue;
        }
        columns[m] = BlockedConv.columns(width, Math.min(max, BlockedKernels.MAX_PIXELS[m]), true);
        tiles[m] = new BlockedKernels.ConvTile[columns[m].length / 2];
        for (int i = 0; i < tiles[m].length; i++) {
          int t = columns[m][2 * i + 1];
          tiles[m][i] = pw && arg > 0 ? pointwise(m, t, arg) : BlockedKernels.conv(m, t, arg);
        }
      }
    }

    private static int[] ones(int blocks) {
      int[] c = new int[blocks];
      Arrays.fill(c, 1);
      return c;
    }

    /** The pointwise tile taking {@code lanes} lanes per step, or the other kind where that one does not exist. */
    private static BlockedKernels.ConvTile pointwise(int m, int t, int lanes) {
      try {
        return BlockedKernels.pointwise(m, t, lanes);
      } catch (IllegalArgumentException e) {
        return BlockedKernels.pointwise(m, t, 3 - lanes);
      }
    }
  }
}
