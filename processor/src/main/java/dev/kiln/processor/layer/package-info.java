/**
 * The catalogue of layer kinds ({@code LayerKinds}): one {@code LayerKind} per layer annotation, owning how
 * the annotation is read, validated and turned into a layer of a {@code @Model} for the shape that arrives.
 * Adding a layer kind is one class here, its entry in the catalogue, and its tests.
 */
package dev.kiln.processor.layer;
