package dev.kiln.samples.benchmark;

import dev.kiln.nn.SequentialModel;

/**
 * The whole networks of the network benchmarks ({@link NetworkBench}, {@link ColdStart}), by the file names
 * {@code tools/bench/networks.py} writes: how to construct each {@code @Model} and fuse it, and its input size.
 * Constant-specific methods rather than lambdas, so that {@link ColdStart}'s JVM generates no class at run time
 * for them on the way to its first result.
 */
enum BenchNetwork {
  REPVGG_A0("repvgg-a0", 224) {
    @Override
    SequentialModel create() {
      return new RepVggA0Model();
    }

    @Override
    SequentialModel fuse(SequentialModel model) {
      return ((RepVggA0Model) model).fuse();
    }
  },
  MOBILENET_V1("mobilenet-v1", 224) {
    @Override
    SequentialModel create() {
      return new MobileNetV1Model();
    }

    @Override
    SequentialModel fuse(SequentialModel model) {
      return ((MobileNetV1Model) model).fuse();
    }
  },
  MOBILENET_V1_160("mobilenet-v1-160", 160) {
    @Override
    SequentialModel create() {
      return new MobileNetV1At160Model();
    }

    @Override
    SequentialModel fuse(SequentialModel model) {
      return ((MobileNetV1At160Model) model).fuse();
    }
  };

  /** The stem of the network's files ({@code FILE.safetensors}, {@code FILE.onnx}, {@code FILE-nN.safetensors}). */
  final String file;
  /** The input's height and width. */
  final int size;

  BenchNetwork(String file, int size) {
    this.file = file;
    this.size = size;
  }

  /** A new network in training form (random initialization unless inside {@code Init.skipped}). */
  abstract SequentialModel create();

  /** The deploy form of {@code model}, which {@link #create} made. */
  abstract SequentialModel fuse(SequentialModel model);

  /** The network of this name ({@code REPVGG_A0}, ...), or null. */
  static BenchNetwork named(String name) {
    for (BenchNetwork n : values()) {
      if (n.name().equals(name)) {
        return n;
      }
    }
    return null;
  }
}
