package dev.kiln.samples.benchmark;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The JMH settings of the single-convolution benchmarks ({@link KilnConvBenchmark}, {@link OrtConvBenchmark},
 * {@link ReferenceConvBenchmark}), which inherit them, so that their scores compare: average microseconds per
 * call, one fork, three warm-up and five measured one-second iterations.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public abstract class ConvBenchmarkSettings {}
