package dev.kiln.samples.benchmark;

import dev.kiln.runtime.Parallel;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Training throughput of the sample network ({@link TrainNet}, the recipe's {@code Net} on 1x28x28): one
 * step is {@code zeroGrad}, {@code objective.step} (forward, loss, backward) and the SGD update, at batch
 * 64, with and without R-Drop (which runs the network on the duplicated batch, 128 rows), on 1 and 2 of
 * Kiln's threads. The score is images per second (64 per step, R-Drop or not), directly comparable with
 * {@code tools/bench/pytorch_train_bench.py}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(TrainingWorkload.BATCH)
@Fork(1)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@State(Scope.Thread)
public class TrainingStepBenchmark {
  /** The size of Kiln's shared pool ({@link Parallel#setThreads}). */
  @Param({"1", "2"})
  public int threads;

  /** Whether the step is an R-Drop step (alpha 1) or plain cross-entropy. */
  @Param({"false", "true"})
  public boolean rdrop;

  private TrainingWorkload workload;

  @Setup
  public void setUp() {
    Parallel.setThreads(threads);
    workload = new TrainingWorkload(rdrop, 1L);
  }

  /** One training step on a batch of 64 images. */
  @Benchmark
  public double step() {
    return workload.step();
  }
}
