package dev.kiln.samples.spark;

import dev.kiln.nn.ConvKernel;
import dev.kiln.nn.Module;
import dev.kiln.nn.SequentialModel;
import dev.kiln.runtime.Parallel;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fused networks of one JVM (an executor, or the driver in local mode): each set of weights is built once,
 * by the first task that needs it, and then shared by every task of the JVM (a fused network in eval mode is
 * safe to call from many threads at once). The few most recently used are kept.
 */
final class ExecutorModels {
  /** Networks kept per JVM; the sample's are about 150 KB each. */
  static final int CAPACITY = 4;

  private static final Map<String, Module> FUSED = new LinkedHashMap<>(8, 0.75f, true) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Module> eldest) {
      return size() > CAPACITY;
    }
  };
  private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
  private static int loads;

  private ExecutorModels() {}

  /**
   * The fused network of {@code artifact}, built on the first call in this JVM; sets Kiln's pool to
   * {@code kilnThreads} threads (the JVM-wide setting) if it has another size.
   */
  static Module fused(ModelArtifact artifact, int kilnThreads) {
    if (Parallel.threads() != kilnThreads) {
      Parallel.setThreads(kilnThreads);
    }
    synchronized (FUSED) {
      Module model = FUSED.get(key(artifact));
      if (model == null) {
        long start = System.nanoTime();
        model = artifact.fused();
        FUSED.put(key(artifact), model);
        loads++;
        LOG.info("built the fused network of {} in {} ms: engine {}, Kiln pool {} thread(s)", artifact,
            (System.nanoTime() - start) / 1_000_000, engine(model), Parallel.threads());
      }
      return model;
    }
  }

  /** How many networks tasks have built from broadcast bytes in this JVM (for tests). */
  static int loads() {
    synchronized (FUSED) {
      return loads;
    }
  }

  /**
   * The engine that runs {@code network}'s eval-mode forward: the whole-network engine where there is one
   * ({@code simd-blocked-...}), else the convolution engine of its first convolution ({@code scalar} in a JVM
   * started without {@code --add-modules jdk.incubator.vector}).
   */
  static String engine(Module network) {
    if (network instanceof SequentialModel sequential) {
      if (sequential.networkEngine() != null) {
        return sequential.networkEngine().name();
      }
      for (Module layer : sequential.layers().values()) {
        if (layer instanceof ConvKernel kernel) {
          return kernel.engineName();
        }
      }
    }
    return "unknown";
  }

  private static String key(ModelArtifact artifact) {
    return artifact.network().name() + ":" + artifact.sha256();
  }
}
