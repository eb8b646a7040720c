package dev.kiln.io;

import dev.kiln.nn.Module;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format: an 8-byte
 * little-endian header length {@code N}, {@code N} bytes of UTF-8 JSON
 * ({@code {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"key": "value"}}}), then the data section, where {@code [begin, end)} are byte offsets.
 *
 * <p>Reading is strict and bounded. Every malformation is an {@link IOException} whose message names the file
 * and the offending tensor or key; nothing is allocated or read before the sizes it depends on have been
 * checked against the file size and against what one read may allocate ({@link ReadOptions}: 1 GiB by
 * default, counting 4 bytes per tensor element and {@value ReadOptions#HEADER_BYTE_COST} per header byte),
 * so a hostile file, even a sparse one that declares gigabytes, can neither cause an
 * {@link OutOfMemoryError} nor a read past its end. A caller that knows which tensors it needs states them
 * ({@link ReadOptions#expecting}), and a file that holds others, or other shapes, is rejected before any
 * tensor data is allocated. Rejected are: a file shorter than 8 bytes; a header length of 0, above {@link #MAX_HEADER_BYTES} or
 * beyond the file; a header that is not valid UTF-8, not a single JSON object starting at its first byte, or
 * followed by anything but JSON whitespace (the usual space padding); duplicate keys in any JSON object;
 * JSON beyond objects, arrays, strings and integers; a {@code __metadata__} that is not an object of strings; a
 * tensor entry that is not an object with exactly the fields {@code dtype}, {@code shape} and
 * {@code data_offsets} (unknown fields are rejected, not ignored); an unknown or unsupported dtype; a shape that
 * is not a list of non-negative integers or holds more than {@code Integer.MAX_VALUE - 8} elements; offsets
 * that are not {@code [begin, end]} with {@code 0 <= begin <= end <= data size}; a byte span other than
 * {@code elements * dtype size}; overlapping tensors; gaps or trailing bytes (the format requires the tensors to
 * cover the data section exactly); and a {@code BOOL} byte other than 0 or 1.
 *
 * <p>Writing produces F32 (optionally I64 for chosen keys), the header padded with spaces to a multiple of 8
 * bytes, and replaces the target as {@link AtomicFile} does.
 */
public final class SafeTensors {
  /** The largest header accepted, in bytes (100 MB, as the reference implementation). */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  /** The reserved top-level key holding the string metadata. */
  static final String METADATA_KEY = "__metadata__";

  private SafeTensors() {}

  /**
   * Reads every tensor as {@code float}, in header order (for files from the standard writers, also the
   * data order), within the default limit of {@link ReadOptions#DEFAULT_MAX_BYTES}. F32 is taken as is; F64,
   * F16, BF16, I64, I32, I16, I8, U8 and BOOL are converted (F64 and integers beyond 2^24 rounding to
   * nearest). A shape {@code []} gives a scalar tensor.
   *
   * @throws IOException if the file cannot be read, is malformed (see the class documentation) or would take
   *     more than the limit
   */
  public static Map<String, Tensor> read(Path path) throws IOException {
    return readWithMetadata(path).tensors();
  }

  /**
   * Loads a file written from {@code module}'s state dict into the module, as
   * {@code module.loadStateDict(read(path))} does but without a second copy of the weights: each tensor is
   * read straight into the module's own, which matters for the first result of a large network (a fresh
   * copy of tens of megabytes costs the JVM page faults and garbage collections). The file must hold exactly
   * the module's state names with their shapes; the whole header is read and checked against them before
   * anything is written, so a malformed or mismatched file leaves the module as it was. Only an I/O error
   * while the data is read (a disk failure, the file shrinking underneath) can leave it partly loaded.
   *
   * @throws IOException if the file cannot be read, is malformed, would take more than the default limit or
   *     does not hold exactly the module's state
   */
  public static void load(Path path, Module module) throws IOException {
    Map<String, Tensor> state = module.stateDict();
    SafeTensorsReader.readInto(path, state, ReadOptions.defaults());
    // Copying each tensor onto itself is free of new memory and runs what a load does after the copy: every
    // parameter marked changed, the module's own refresh of derived data.
    module.loadStateDict(state);
  }

  /**
   * Reads as {@link #read(Path)} does, with the limit and expectations of {@code options}.
   *
   * @throws IOException additionally if the file does not hold exactly the expected tensors
   */
  public static Map<String, Tensor> read(Path path, ReadOptions options) throws IOException {
    return readWithMetadata(path, options).tensors();
  }

  /**
   * Reads the tensors as {@link #read(Path)} does, together with the {@code __metadata__} string map (empty if
   * the file has none).
   *
   * @throws IOException if the file cannot be read, is malformed (see the class documentation) or would take
   *     more than the limit
   */
  public static Contents readWithMetadata(Path path) throws IOException {
    return readWithMetadata(path, ReadOptions.defaults());
  }

  /**
   * Reads as {@link #readWithMetadata(Path)} does, with the limit and expectations of {@code options}.
   *
   * @throws IOException additionally if the file does not hold exactly the expected tensors
   */
  public static Contents readWithMetadata(Path path, ReadOptions options) throws IOException {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(options, "options");
    return SafeTensorsReader.read(path, options);
  }

  /**
   * Reads only the {@code __metadata__} string map, after checking the whole header as a full read does
   * (no tensor data is read or allocated); with the limit and expectations of {@code options}.
   *
   * @throws IOException if the file cannot be read or its header is malformed or unexpected
   */
  public static Map<String, String> readMetadata(Path path, ReadOptions options) throws IOException {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(options, "options");
    return Collections.unmodifiableMap(SafeTensorsReader.readMetadata(path, options));
  }

  /**
   * Writes {@code tensors} as F32 in map order with optional string {@code metadata} ({@code null} or empty:
   * no {@code __metadata__} entry), replacing {@code path} atomically where supported.
   *
   * @throws IllegalArgumentException if a name is {@code __metadata__}, a name or metadata string holds an
   *     unpaired surrogate (not encodable as UTF-8), or the header would exceed {@link #MAX_HEADER_BYTES}
   * @throws IOException if writing fails; {@code path} is then left as it was
   */
  public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
    write(path, tensors, metadata, Set.of());
  }

  /**
   * Writes as {@link #write(Path, Map, Map)}, but stores the tensors named in {@code int64Keys} as I64, as
   * PyTorch stores {@code num_batches_tracked}.
   *
   * @throws IllegalArgumentException additionally if a key in {@code int64Keys} is not in {@code tensors}, or
   *     one of its values is not an integer in the {@code long} range
   * @throws IOException if writing fails; {@code path} is then left as it was
   */
  public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata,
      Set<String> int64Keys) throws IOException {
    SafeTensorsWriter.write(path, tensors, metadata, int64Keys);
  }

  /**
   * Writes {@code module}'s state dict as PyTorch's {@code save_file(model.state_dict(), path)} does: every
   * key in state-dict order, as F32, except BatchNorm's step counters (keys {@code num_batches_tracked} or
   * ending in {@code .num_batches_tracked}), which PyTorch keeps as 64-bit integers and this writes as I64. The
   * file is what {@link #load(Path, Module)} reads back into a module of the same kind, and what PyTorch's
   * {@code load_state_dict} takes. Replaces {@code path} atomically where supported.
   *
   * @throws IOException if writing fails; {@code path} is then left as it was
   */
  public static void save(Path path, Module module) throws IOException {
    save(path, module, null);
  }

  /**
   * Writes as {@link #save(Path, Module)} does, with string {@code metadata} ({@code null} or empty: none).
   *
   * @throws IllegalArgumentException if a metadata string holds an unpaired surrogate
   * @throws IOException if writing fails; {@code path} is then left as it was
   */
  public static void save(Path path, Module module, Map<String, String> metadata) throws IOException {
    Objects.requireNonNull(module, "module");
    Map<String, Tensor> state = module.stateDict();
    write(path, state, metadata, pytorchInt64Keys(state.keySet()));
  }

  /**
   * Of {@code keys} (state-dict names, possibly prefixed), those PyTorch keeps as 64-bit integers: BatchNorm's
   * step counters, {@code num_batches_tracked} or ending in {@code .num_batches_tracked}; in their order.
   */
  public static Set<String> pytorchInt64Keys(Collection<String> keys) {
    Set<String> int64 = new LinkedHashSet<>();
    for (String key : keys) {
      if (key.equals(BATCHES_TRACKED) || key.endsWith("." + BATCHES_TRACKED)) {
        int64.add(key);
      }
    }
    return int64;
  }

  /** The state name of BatchNorm's step counter, an int64 tensor in PyTorch. */
  private static final String BATCHES_TRACKED = "num_batches_tracked";

  /**
   * Tensors and metadata read from one file. Both maps are unmodifiable and keep the header order; the tensors
   * themselves are ordinary (mutable) tensors owned by the caller.
   */
  public static final class Contents {
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
      this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
      this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** The tensors by name, in header order. */
    public Map<String, Tensor> tensors() {
      return tensors;
    }

    /** The {@code __metadata__} entries in header order; empty if the file has none. */
    public Map<String, String> metadata() {
      return metadata;
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder("SafeTensors.Contents{tensors={");
      String separator = "";
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        sb.append(separator).append(e.getKey()).append('=').append(Tensor.shapeString(e.getValue().shape()));
        separator = ", ";
      }
      return sb.append("}, metadata=").append(metadata).append('}').toString();
    }
  }
}
