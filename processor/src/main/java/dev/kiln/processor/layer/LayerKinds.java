package dev.kiln.processor.layer;

import java.util.List;

/** The catalogue of layer kinds: every annotation that declares a layer of a {@code @Model}, in one list. */
public final class LayerKinds {
  /** Every layer kind, in the order messages list them. */
  public static final List<LayerKind> ALL = List.of(
      new Conv2dKind(),
      new RepConvKind(),
      new LinearKind(),
      new ReluKind(),
      PoolKind.MAX,
      PoolKind.AVG,
      new GlobalAvgPoolKind(),
      new FlattenKind(),
      new DropoutKind(),
      new BatchNormKind());

  private LayerKinds() {}

  /** The simple names of every layer annotation, in catalogue order. */
  public static List<String> annotations() {
    return ALL.stream().map(LayerKind::annotation).toList();
  }
}
