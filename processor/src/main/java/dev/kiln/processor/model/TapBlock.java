package dev.kiln.processor.model;

import java.util.ArrayList;
import java.util.List;

/**
 * A run of consecutive kernel taps (in {@code kh}-major order) that one unrolled interior method handles.
 * Large windows are split into several blocks so that no generated method outgrows HotSpot's compile
 * limit: the window is unrolled, nothing else.
 *
 * @param index the block's position (0-based), used in method names
 * @param first the first tap, {@code kh * kW + kw}
 * @param count the number of taps
 */
public record TapBlock(int index, int first, int count) {
  /** The most taps one generated method unrolls. */
  public static final int MAX_UNROLL = 64;

  /** Splits the {@code kH x kW} window of {@code spec} into blocks of at most {@code maxUnroll} taps. */
  public static List<TapBlock> split(ConvSpec spec, int maxUnroll) {
    int area = spec.kernelArea();
    int blocks = (area + maxUnroll - 1) / maxUnroll;
    List<TapBlock> out = new ArrayList<>(blocks);
    for (int i = 0; i < blocks; i++) {
      int first = (int) ((long) area * i / blocks);
      int last = (int) ((long) area * (i + 1) / blocks);
      out.add(new TapBlock(i, first, last - first));
    }
    return out;
  }

  /** The {@code kh} of tap {@code t}. */
  public static int row(ConvSpec spec, int t) {
    return t / spec.kernelW();
  }

  /** The {@code kw} of tap {@code t}. */
  public static int col(ConvSpec spec, int t) {
    return t % spec.kernelW();
  }

  /** The offset of tap {@code t} from tap 0 inside an input plane. */
  public static long inputOffset(ConvSpec spec, int t) {
    return (long) row(spec, t) * spec.dilationH() * spec.inWidth() + (long) col(spec, t) * spec.dilationW();
  }
}
