package dev.kiln.processor.model;

import java.util.ArrayList;
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

  /**
   * A layer the runtime implements: {@code new dev.kiln.nn.<runtimeClass>(<arguments>)}, with the network's
   * seed as the last argument when the layer draws random numbers.
   *
   * @param runtimeClass the simple name of the class in {@code dev.kiln.nn}
   * @param arguments the constructor's arguments as Java source (all but the seed), built from the inferred
   *     shapes and the annotation values
   * @param drawsRandomNumbers whether the constructor takes a {@code long} seed after {@code arguments}
   */
  record Runtime(String name, String runtimeClass, int[] inShape, int[] outShape, DeployRole deployRole,
      List<String> arguments, boolean drawsRandomNumbers) implements LayerSpec {
    /** A layer that the deploy network keeps as it is and that draws no random numbers. */
    public Runtime(String name, String runtimeClass, int[] inShape, int[] outShape, String... arguments) {
      this(name, runtimeClass, inShape, outShape, DeployRole.KEEP, List.of(arguments), false);
    }

    /** This layer, treated as {@code role} by the deploy network. */
    public Runtime deployedAs(DeployRole role) {
      return new Runtime(name, runtimeClass, inShape, outShape, role, arguments, drawsRandomNumbers);
    }

    /** This layer, its constructor taking the seed after its other arguments. */
    public Runtime drawingRandomNumbers() {
      return new Runtime(name, runtimeClass, inShape, outShape, deployRole, arguments, true);
    }

    /**
     * The constructor's arguments as Java source.
     *
     * @param seed a {@code long} expression, passed to layers that draw random numbers
     */
    public List<String> constructorArguments(String seed) {
      if (!drawsRandomNumbers) {
        return arguments;
      }
      List<String> all = new ArrayList<>(arguments);
      all.add(seed);
      return all;
    }
  }

  /** A {@code @Conv2d} layer, generated as a specialized kernel. */
  record Conv(String name, ConvSpec conv) implements LayerSpec {
    @Override
    public int[] inShape() {
      return conv.inShape();
    }

    @Override
    public int[] outShape() {
      return conv.outShape();
    }
  }

  /**
   * A {@code @RepConv} layer, generated as a RepVGG block whose {@code fuse()} gives its deploy kernel; its
   * shapes are those of that kernel.
   */
  record RepConv(String name, RepConvSpec block) implements LayerSpec {
    @Override
    public int[] inShape() {
      return block.deploy().inShape();
    }

    @Override
    public int[] outShape() {
      return block.deploy().outShape();
    }
  }
}
