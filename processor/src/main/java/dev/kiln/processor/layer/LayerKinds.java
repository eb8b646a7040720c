package dev.kiln.processor.layer;

import dev.kiln.processor.model.ConvSpec;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.model.LayerSpec.DeployRole;
import dev.kiln.processor.model.RepConvSpec;
import dev.kiln.processor.validation.ArrivingShapes;
import dev.kiln.processor.validation.ConvValidator;
import dev.kiln.processor.validation.ModelValidator;
import dev.kiln.processor.validation.RepConvValidator;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The catalogue of layer kinds: every annotation that declares a layer of a {@code @Model}, in one list, each
 * kind also by name for the code that writes layers of a given kind (the steps of the standalone layers, the
 * ONNX importer).
 */
public final class LayerKinds {
  /** {@code @Conv2d}: a convolution, generated as a specialized kernel (also on a standalone interface). */
  public static final ConvolutionKind<ConvSpec> CONV2D =
      new ConvolutionKind<>("Conv2d", ConvValidator::validate, LayerSpec.Conv::new);

  /** {@code @RepConv}: a RepVGG block and its fused deploy kernel (also on a standalone interface). */
  public static final ConvolutionKind<RepConvSpec> REP_CONV =
      new ConvolutionKind<>("RepConv", RepConvValidator::validate, LayerSpec.RepConv::new);

  /**
   * {@code @Linear(outFeatures, bias)} on a flat vector: {@code dev.kiln.nn.Linear}, a fully connected layer
   * {@code [inFeatures] -> [outFeatures]}.
   */
  public static final LayerKind LINEAR = RuntimeLayerKind.of("Linear", (kind, name, in, annotation, report) -> {
    int out = annotation.intValue("outFeatures");
    return ModelValidator.linear(name, in, out, report)
        ? Optional.of(kind.layer(name, new int[] {in[0]}, new int[] {out}, Integer.toString(in[0]),
            Integer.toString(out), Boolean.toString(annotation.booleanValue("bias"))).drawingRandomNumbers())
        : Optional.empty();
  });

  /**
   * {@code @ReLU} on any shape: {@code dev.kiln.nn.ReLU}, element-wise, fused into a directly preceding
   * convolution on deploy.
   */
  public static final LayerKind RELU = RuntimeLayerKind.of("ReLU",
      (kind, name, in, annotation, report) -> Optional.of(kind.layer(name, in, in).deployedAs(DeployRole.RELU)));

  public static final LayerKind MAX_POOL = PoolKind.MAX;
  public static final LayerKind AVG_POOL = PoolKind.AVG;

  /**
   * {@code @GlobalAvgPool2d} on a feature map {@code [C, H, W] -> [C, 1, 1]}: {@code dev.kiln.nn.GlobalAvgPool2d},
   * the mean of each channel plane.
   */
  public static final LayerKind GLOBAL_AVG_POOL = RuntimeLayerKind.of("GlobalAvgPool2d",
      (kind, name, in, annotation, report) -> ArrivingShapes.featureMap(kind.annotation(), name, in, report)
          ? Optional.of(kind.layer(name, in, new int[] {in[0], 1, 1})) : Optional.empty());

  /** {@code @Flatten} on any shape: {@code dev.kiln.nn.Flatten}, one sample's values as a flat vector. */
  public static final LayerKind FLATTEN = RuntimeLayerKind.of("Flatten",
      (kind, name, in, annotation, report) -> Optional.of(kind.layer(name, in,
          new int[] {Arrays.stream(in).reduce(1, (n, d) -> n * d)})));

  /**
   * {@code @Dropout(p)} on any shape: {@code dev.kiln.nn.Dropout}, inverted dropout with probability {@code p},
   * left out of the deploy network.
   */
  public static final LayerKind DROPOUT = RuntimeLayerKind.of("Dropout", (kind, name, in, annotation, report) -> {
    double p = annotation.doubleValue("p");
    return ModelValidator.dropout(p, report)
        ? Optional.of(kind.layer(name, in, in, Double.toString(p)).drawingRandomNumbers().deployedAs(DeployRole.REMOVE))
        : Optional.empty();
  });

  /**
   * {@code @BatchNorm2d} on a feature map: {@code dev.kiln.nn.BatchNorm2d}, batch normalization over the
   * channels, folded into a directly preceding convolution on deploy.
   */
  public static final LayerKind BATCH_NORM = RuntimeLayerKind.of("BatchNorm2d",
      (kind, name, in, annotation, report) -> ArrivingShapes.featureMap(kind.annotation(), name, in, report)
          ? Optional.of(kind.layer(name, in, in, Integer.toString(in[0])).deployedAs(DeployRole.BATCH_NORM))
          : Optional.empty());

  /** Every layer kind, in the order messages list them. */
  public static final List<LayerKind> ALL = List.of(CONV2D, REP_CONV, LINEAR, RELU, MAX_POOL, AVG_POOL,
      GLOBAL_AVG_POOL, FLATTEN, DROPOUT, BATCH_NORM);

  private LayerKinds() {}

  /** The simple names of every layer annotation, in catalogue order. */
  public static List<String> annotations() {
    return ALL.stream().map(LayerKind::annotation).toList();
  }
}
