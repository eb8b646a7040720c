/**
 * The vectorized convolution engine and plane loops (Vector API, {@code jdk.incubator.vector}): loaded by
 * name through {@code dev.kiln.nn.Accelerators} only when the JVM has the incubator module and the system
 * property {@code kiln.simd} is not {@code false}; otherwise never linked, and the generated scalar loops run.
 */
package dev.kiln.simd;
