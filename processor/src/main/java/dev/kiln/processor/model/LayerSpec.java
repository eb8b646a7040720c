package dev.kiln.processor.model;

import java.util.Arrays;
import java.util.List;

/**
 * One layer of a {@code @Model} after shape inference: its method name, the shape that arrives (without the
 * batch dimension), the shape it produces, and what the deploy network makes of it. Convolutions are
 * generated as nested kernels ({@link Conv}, {@link RepConv}); every other layer is a class of the runtime
 * ({@link Runtime}), made by its {@code dev.kiln.processor.layer} kind.
 */
public interface LayerSpec {
  /** The interface method that declares the layer; also its state-dict prefix. */
  String name();

  int[] inShape();

  int[] outShape();

  /** What {@code fuse()} does with the layer when it does not follow a convolution it folds into. */
  default DeployRole deployRole() {
    return DeployRole.KEEP;
  }

  /** {@code [2, 3, 4]}. */
  static String shape(int[] s) {
    return Arrays.toString(s);
  }

  /** How the deploy network treats a layer. */
  enum DeployRole {
    /** Copied as it is. */
    KEEP,
    /** Left out: the layer is the identity in eval mode (dropout). */
    REMOVE,
    /** A BatchNorm2d: folded into the weights of a directly preceding convolution without activation. */
    BATCH_NORM,
    /** A ReLU: fused into the epilogue of a directly preceding convolution without activation. */
    RELU
  }

  /** A layer the runtime implements: {@code new dev.kiln.nn.<runtimeClass>(<arguments>)}. */
  interface Runtime extends LayerSpec {
    /** The simple name of the class in {@code dev.kiln.nn}. */
    String runtimeClass();

    /**
     * The constructor's arguments as Java source, built from the inferred shapes and the annotation values.
     *
     * @param seed a {@code long} expression for layers that draw random numbers
     */
    List<String> constructorArguments(String seed);
  }

  /** A {@code @Conv2d} layer, generated as a specialized kernel. */
  record Conv(String name, ConvSpec conv) implements LayerSpec {
    @Override
    public int[] inShape() {
      return new int[] {conv.inChannels(), conv.inHeight(), conv.inWidth()};
    }

    @Override
    public int[] outShape() {
      return new int[] {conv.outChannels(), conv.outHeight(), conv.outWidth()};
    }
  }

  /** A {@code @RepConv} layer, generated as a RepVGG block whose {@code fuse()} gives its deploy kernel. */
  record RepConv(String name, RepConvSpec block) implements LayerSpec {
    @Override
    public int[] inShape() {
      return new int[] {block.inChannels(), block.inHeight(), block.inWidth()};
    }

    @Override
    public int[] outShape() {
      return new int[] {block.outChannels(), block.outHeight(), block.outWidth()};
    }
  }
}
