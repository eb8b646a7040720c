package dev.kiln.processor.layer;

import dev.kiln.processor.model.LayerSpec;

/**
 * A layer kind whose layers are instances of one class of the runtime, {@code dev.kiln.nn.<annotation>}: the
 * annotation and the runtime class share their simple name.
 */
abstract class RuntimeLayerKind extends LayerKind {
  RuntimeLayerKind(String name) {
    super(name);
  }

  /**
   * Layer {@code layer} of this kind, mapping {@code in} to {@code out}: {@code new dev.kiln.nn.<annotation>(
   * <arguments>)}, kept as it is by the deploy network.
   */
  final LayerSpec.Runtime layer(String layer, int[] in, int[] out, String... arguments) {
    return new LayerSpec.Runtime(layer, annotation(), in, out, arguments);
  }
}
