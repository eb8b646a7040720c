package dev.kiln.io;

import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header, then the
 * raw tensor bytes). Placeholder: the strict implementation lands with its tests.
 */
public final class SafeTensors {
  private SafeTensors() {}

  /** Reads every tensor as float (F32; F64, F16, BF16, I64, I32 converted), in file order. */
  public static Map<String, Tensor> read(Path path) throws IOException {
    throw new UnsupportedOperationException("not implemented yet");
  }

  /** Reads the tensors with the {@code __metadata__} map (placeholder, see h-safetensors). */
  public static Contents readWithMetadata(Path path) throws IOException {
    throw new UnsupportedOperationException("not implemented yet");
  }

  /** Tensors and metadata read from one file (placeholder, see h-safetensors). */
  public static final class Contents {
    private Contents() {}

    /** The tensors by name, in header order. */
    public Map<String, Tensor> tensors() {
      throw new UnsupportedOperationException("not implemented yet");
    }

    /** The {@code __metadata__} entries in header order. */
    public Map<String, String> metadata() {
      throw new UnsupportedOperationException("not implemented yet");
    }
  }

  /** Writes {@code tensors} as F32 with optional string metadata, atomically is not guaranteed. */
  public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
    throw new UnsupportedOperationException("not implemented yet");
  }
}
