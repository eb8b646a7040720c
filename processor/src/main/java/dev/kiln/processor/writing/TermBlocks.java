package dev.kiln.processor.writing;

import com.palantir.javapoet.CodeBlock;
import com.palantir.javapoet.MethodSpec;
import dev.kiln.processor.model.ConvSpec;
import dev.kiln.processor.model.TapBlock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * How the multiply-adds of one output value are grouped into the vectorizable loops of the scalar forward
 * ({@link PixelLanesEmitter}, {@link ChannelLanesEmitter}): each loop adds at most {@link #MAX_TERMS} products
 * to an accumulator, {@code acc[j] += w0 * a0[j] + w1 * a1[j] + ...}.
 *
 * <p>The limit comes from HotSpot's C2 (JDK 17): it vectorizes a loop only after unrolling it once, and it
 * unrolls only loops whose body has at most {@code LoopUnrollLimit} (60) IR nodes. Loops of six or more
 * products exceeded that in some compilations or all (measured on RepVGG-A0's 192-channel 14x14 layer: nine
 * or six products per loop ran at 2-8 GMAC/s, five or fewer at 22-34 on two threads), and whether a
 * borderline loop vectorizes depends on compile timing. Within that, more products per loop are faster
 * (every loop loads and stores its accumulator once): five rather than four made every RepVGG-A0 layer 8-12%
 * faster.
 *
 * <p>Each loop comes in two forms ({@link #addLoop}): fused multiply-adds ({@code Math.fma}, which C2 vectorizes
 * into the processor's vector FMA) where the JVM has the instruction ({@code ConvKernel.fusedMultiplyAdd()}, a
 * constant to the JIT, so only one form is compiled), else separate multiplies and adds.
 */
final class TermBlocks {
  /** The most products one loop adds. */
  static final int MAX_TERMS = 5;
  /** The largest window the vectorizable forward handles: at most this many loops per input channel. */
  static final int MAX_BLOCKS_PER_CHANNEL = 16;

  /**
   * One loop: taps {@code [firstTap, firstTap + taps)} (in {@code kh}-major order) of {@code channels}
   * consecutive input channels; more than one channel only when a window has at most
   * {@code MAX_TERMS / 2} taps, and then the whole window.
   *
   * @param index the block's position among the blocks of one channel (0-based), used in method names
   */
  record Block(int index, int channels, int firstTap, int taps) {
    int last() {
      return firstTap + taps - 1;
    }
  }

  private TermBlocks() {}

  /** Whether the window of {@code spec} is small enough for the vectorizable forward. */
  static boolean fits(ConvSpec spec) {
    return spec.kernelArea() <= MAX_TERMS * MAX_BLOCKS_PER_CHANNEL;
  }

  /** Input channels one loop covers: several when a window has few taps, otherwise 1. */
  static int channelsPerBlock(ConvSpec spec) {
    int area = spec.kernelArea();
    return area * 2 > MAX_TERMS ? 1 : Math.min(spec.inChannelsPerGroup(), MAX_TERMS / area);
  }

  /**
   * The loops over one channel's window when {@link #channelsPerBlock} is 1: the taps split into balanced
   * blocks of at most {@link #MAX_TERMS} (a 3x3 window gives its three rows), as {@link TapBlock#split} splits
   * a window into unrolled methods.
   */
  static List<Block> tapBlocks(ConvSpec spec) {
    return TapBlock.split(spec, MAX_TERMS).stream()
        .map(taps -> new Block(taps.index(), 1, taps.first(), taps.count()))
        .toList();
  }

  /**
   * The distinct loops of a window: its {@link #tapBlocks}, or when several channels share a loop, the block
   * of {@link #channelsPerBlock} channels and the block of the channels left over (if any).
   */
  static List<Block> distinct(ConvSpec spec) {
    int per = channelsPerBlock(spec);
    if (per == 1) {
      return tapBlocks(spec);
    }
    List<Block> blocks = new ArrayList<>();
    blocks.add(new Block(0, per, 0, spec.kernelArea()));
    int tail = spec.inChannelsPerGroup() % per;
    if (tail > 0) {
      blocks.add(new Block(0, tail, 0, spec.kernelArea()));
    }
    return blocks;
  }

  /** {@code f} of each of the {@link #distinct} loops of {@code spec}, in order (e.g. the loops' helper methods). */
  static <T> List<T> mapDistinct(ConvSpec spec, Function<Block, T> f) {
    return distinct(spec).stream().map(f).toList();
  }

  /** The method name of a block's loop, {@code prefix} plus what it covers. */
  static String name(String prefix, Block block, ConvSpec spec) {
    if (block.channels() > 1) {
      return prefix + "Channels" + block.channels();
    }
    return tapBlocks(spec).size() == 1 ? prefix : prefix + block.index();
  }

  /**
   * A block's loop, {@code for (header)}, adding the products of {@code scalars} and {@code elements} (pairwise) to
   * {@code target}: with fused multiply-adds, one product after another
   * ({@code target = Math.fma(sN, eN, ... Math.fma(s0, e0, target))}), where {@code ConvKernel.fusedMultiplyAdd()}
   * says so, else {@code target += s0 * e0 + s1 * e1 + ...}.
   */
  static void addLoop(MethodSpec.Builder m, String header, String target, List<String> scalars,
      List<String> elements) {
    CodeBlock.Builder fused = CodeBlock.builder();
    for (int k = scalars.size() - 1; k >= 0; k--) {
      fused.add("$T.fma($L, $L, ", Math.class, scalars.get(k), elements.get(k));
    }
    fused.add("$L", target);
    fused.add(")".repeat(scalars.size()));
    CodeBlock.Builder sum = CodeBlock.builder();
    for (int k = 0; k < scalars.size(); k++) {
      sum.add(k == 0 ? "$L * $L" : " + $L * $L", scalars.get(k), elements.get(k));
    }
    // Inherited from ConvKernel, so unqualified: the same text in a kernel of its own and in a model's nested one.
    m.beginControlFlow("if (fusedMultiplyAdd())");
    m.beginControlFlow("for ($L)", header);
    m.addStatement("$L = $L", target, fused.build());
    m.endControlFlow();
    m.nextControlFlow("else");
    m.beginControlFlow("for ($L)", header);
    m.addStatement("$L += $L", target, sum.build());
    m.endControlFlow();
    m.endControlFlow();
  }

  /** A Javadoc phrase for what a block adds. */
  static String describe(Block block, ConvSpec spec) {
    if (block.channels() > 1) {
      return "the windows of " + block.channels() + " input channels";
    }
    return tapBlocks(spec).size() == 1 ? "the window of one input channel"
        : "taps " + block.firstTap() + ".." + block.last() + " of the window of one input channel";
  }
}
