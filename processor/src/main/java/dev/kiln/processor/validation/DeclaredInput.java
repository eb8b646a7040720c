package dev.kiln.processor.validation;

/**
 * The input shape a convolution annotation is given, before validation: the shape that arrives in a model, or
 * on a standalone interface the {@code inChannels}, {@code height} and {@code width} attributes as written
 * ({@code null} where not).
 */
public record DeclaredInput(Integer channels, Integer height, Integer width) {}
