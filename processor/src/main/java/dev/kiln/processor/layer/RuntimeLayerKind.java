package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.Report;
import java.util.Optional;

/**
 * A layer kind whose layers are instances of one class of the runtime, {@code dev.kiln.nn.<annotation>}: the
 * annotation and the runtime class share their simple name.
 */
abstract class RuntimeLayerKind extends LayerKind {
  /** How a kind infers its layer, as {@link LayerKind#infer} does; {@code kind} makes it with {@link #layer}. */
  interface Inference {
    Optional<LayerSpec> infer(RuntimeLayerKind kind, String name, int[] in, AnnotationReader annotation,
        Report report);
  }

  RuntimeLayerKind(String name) {
    super(name);
  }

  /** The kind of {@code annotation} whose layers {@code inference} infers. */
  static RuntimeLayerKind of(String annotation, Inference inference) {
    return new RuntimeLayerKind(annotation) {
      @Override
      public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader reader, Report report) {
        return inference.infer(this, name, in, reader, report);
      }
    };
  }

  /**
   * Layer {@code layer} of this kind, mapping {@code in} to {@code out}: {@code new dev.kiln.nn.<annotation>(
   * <arguments>)}, kept as it is by the deploy network.
   */
  final LayerSpec.Runtime layer(String layer, int[] in, int[] out, String... arguments) {
    return new LayerSpec.Runtime(layer, annotation(), in, out, arguments);
  }
}
