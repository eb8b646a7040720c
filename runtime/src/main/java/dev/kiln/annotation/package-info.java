/**
 * The annotations users write: standalone layers on an interface ({@code @Conv2d}, {@code @RepConv}), a
 * network of layer methods ({@code @Model} with {@code @Linear}, {@code @ReLU}, the pools, {@code @Flatten},
 * {@code @Dropout}, {@code @BatchNorm2d}), R-Drop training ({@code @RDrop}), and the enums their attributes
 * take ({@code PaddingMode}, {@code Activation}, {@code Reduction}). Read by the Kiln processor at compile
 * time (class retention); nothing here runs.
 */
package dev.kiln.annotation;
