/**
 * The catalogue of layer kinds ({@code LayerKinds}): one {@code LayerKind} per layer annotation, owning how
 * the annotation is read, validated and turned into a layer of a {@code @Model} for the shape that arrives.
 * Adding a layer kind is its entry in the catalogue (a convolution's validation, a runtime layer's inference,
 * or a class here when it needs more), and its tests.
 */
package dev.kiln.processor.layer;
