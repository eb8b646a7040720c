/**
 * The validated model: immutable specs of what is generated ({@code ConvSpec} over the runtime's
 * {@code ConvGeometry}, {@code RepConvSpec}, {@code LayerSpec}, {@code ModelSpec} with its deploy plan) and
 * the shape arithmetic only generated code needs. Plain data, usable without a compiler.
 */
package dev.kiln.processor.model;
