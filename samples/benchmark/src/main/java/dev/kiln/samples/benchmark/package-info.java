/**
 * Benchmarks: single convolutions against the reference convolution and ONNX Runtime (JMH; the suite is
 * {@code ConvShape}), training steps of the sample network ({@code TrainingStepBenchmark},
 * {@code TrainingStepTimer}), and the processor's compile time ({@code CompileTimeBenchmark}).
 */
package dev.kiln.samples.benchmark;
