/** The seed examples: a {@code same}-padded 3x3 convolution and a grouped one, their shapes and outputs. */
package dev.kiln.samples.seed;
