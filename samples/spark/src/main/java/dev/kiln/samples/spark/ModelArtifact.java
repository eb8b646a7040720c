package dev.kiln.samples.spark;

import dev.kiln.io.SafeTensors;
import dev.kiln.nn.SequentialModel;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;

/**
 * The bytes of a {@code model.safetensors} file written by {@code kiln-cli train}, checked on the driver to fit
 * their network: what the driver broadcasts so that every executor JVM can build the fused network once
 * ({@link ExecutorModels}). Identified by the network and the bytes' SHA-256.
 */
final class ModelArtifact implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Metadata key under which {@code kiln-cli train} records the data set. */
  static final String DATASET_KEY = "dataset";
  /** Largest weights file accepted (the sample networks' files are about 150 KB). */
  static final long MAX_BYTES = 256L << 20;

  private final Network network;
  private final String sha256;
  private final byte[] bytes;

  private ModelArtifact(Network network, String sha256, byte[] bytes) {
    this.network = network;
    this.sha256 = sha256;
    this.bytes = bytes;
  }

  /**
   * Reads and checks {@code file} on the driver: it must be a safetensors file whose tensors fit the network
   * of the data set it records (or {@code requested}, which must agree with the recorded one).
   *
   * @throws JobException exit code 2 if the file is missing or the data set is unknown or contradicts
   *     {@code requested}; 1 if the file is malformed or does not fit the network
   */
  static ModelArtifact read(Path file, Network requested) {
    if (!Files.isRegularFile(file)) {
      throw new JobException(JobException.USAGE, "model file " + file + " does not exist");
    }
    byte[] bytes;
    SafeTensors.Contents contents;
    try {
      long size = Files.size(file);
      if (size > MAX_BYTES) {
        throw new JobException(JobException.FAILURE, "model file " + file + " has " + size
            + " bytes, more than the " + MAX_BYTES + " this sample accepts");
      }
      bytes = Files.readAllBytes(file);
      contents = SafeTensors.readWithMetadata(file);
      if (!Arrays.equals(bytes, Files.readAllBytes(file))) {
        throw new JobException(JobException.FAILURE, "model file " + file + " changed while it was read");
      }
    } catch (IOException e) {
      throw new JobException(JobException.FAILURE, "cannot read model file " + file + ": " + e.getMessage(), e);
    }
    Network network = network(file, contents.metadata().get(DATASET_KEY), requested);
    ModelArtifact artifact = new ModelArtifact(network, sha256(bytes), bytes);
    try {
      artifact.load(contents.tensors());
    } catch (IllegalArgumentException e) {
      throw new JobException(JobException.FAILURE, file + " does not fit " + network.networkName() + ": "
          + e.getMessage(), e);
    }
    return artifact;
  }

  private static Network network(Path file, String recorded, Network requested) {
    Network recordedNetwork = recorded == null ? null : Network.byDatasetName(recorded);
    if (recorded != null && recordedNetwork == null && requested == null) {
      throw new JobException(JobException.USAGE, file + " records data set '" + recorded + "', which has no "
          + "network here; expected one of: " + Network.names());
    }
    if (requested != null && recordedNetwork != null && requested != recordedNetwork) {
      throw new JobException(JobException.USAGE, file + " holds weights trained on " + recordedNetwork
          + " but --dataset is " + requested);
    }
    Network network = requested != null ? requested : recordedNetwork;
    if (network == null) {
      throw new JobException(JobException.USAGE, file + " does not record its data set; give --dataset "
          + String.join(" or ", Network.names().split(", ")));
    }
    return network;
  }

  /** The network these weights are for. */
  Network network() {
    return network;
  }

  /** The SHA-256 of the file's bytes, in hex. */
  String sha256() {
    return sha256;
  }

  /**
   * Builds the fused deploy network from the bytes (in eval mode, ready for concurrent {@code forward} calls).
   *
   * @throws UncheckedIOException if the bytes cannot be parsed (they were checked on the driver)
   */
  SequentialModel fused() {
    Path tmp = null;
    try {
      tmp = Files.createTempFile("kiln-model-", ".safetensors");
      Files.write(tmp, bytes);
      return load(SafeTensors.read(tmp));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the broadcast " + network.networkName() + " weights (sha256 "
          + sha256 + "): " + e.getMessage(), e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // a temporary file left behind in the executor's temporary directory
        }
      }
    }
  }

  private SequentialModel load(Map<String, Tensor> tensors) {
    SequentialModel model = network.newModel();
    model.loadStateDict(tensors);
    model.eval();
    SequentialModel fused = network.fuse(model);
    fused.eval();
    return fused;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return network.networkName() + " weights (sha256 " + sha256.substring(0, 12) + ")";
  }
}
