package dev.kiln.processor.layer;

import java.util.List;

/**
 * The catalogue of layer kinds: every annotation that declares a layer of a {@code @Model}, in one list, each
 * kind also by name for the code that writes layers of a given kind (the steps of the standalone layers, the
 * ONNX importer).
 */
public final class LayerKinds {
  public static final Conv2dKind CONV2D = new Conv2dKind();
  public static final RepConvKind REP_CONV = new RepConvKind();
  public static final LayerKind LINEAR = new LinearKind();
  public static final LayerKind RELU = new ReluKind();
  public static final LayerKind MAX_POOL = PoolKind.MAX;
  public static final LayerKind AVG_POOL = PoolKind.AVG;
  public static final LayerKind GLOBAL_AVG_POOL = new GlobalAvgPoolKind();
  public static final LayerKind FLATTEN = new FlattenKind();
  public static final LayerKind DROPOUT = new DropoutKind();
  public static final LayerKind BATCH_NORM = new BatchNormKind();

  /** Every layer kind, in the order messages list them. */
  public static final List<LayerKind> ALL = List.of(CONV2D, REP_CONV, LINEAR, RELU, MAX_POOL, AVG_POOL,
      GLOBAL_AVG_POOL, FLATTEN, DROPOUT, BATCH_NORM);

  private LayerKinds() {}

  /** The simple names of every layer annotation, in catalogue order. */
  public static List<String> annotations() {
    return ALL.stream().map(LayerKind::annotation).toList();
  }
}
