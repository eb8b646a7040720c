package dev.kiln.testing;

import dev.kiln.io.SafeTensors;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One golden-vector file written by {@code tools/golden/st.py}, read with
 * {@link SafeTensors#readWithMetadata}: every tensor as {@code float} (F64 and integer entries converted),
 * plus the string metadata. Shared by the tests of all modules (through kiln-runtime's test jar).
 */
public final class Golden {
  private final String name;
  private final SafeTensors.Contents contents;

  private Golden(String name, SafeTensors.Contents contents) {
    this.name = name;
    this.contents = contents;
  }

  /** Reads the test resource {@code resource} (e.g. {@code "/golden/layers/layers.safetensors"}). */
  public static Golden load(String resource) {
    URL url = Golden.class.getResource(resource);
    if (url == null) {
      throw new AssertionError("missing test resource " + resource);
    }
    try {
      return new Golden(resource, SafeTensors.readWithMetadata(Path.of(url.toURI())));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** All tensors by name, in file order (the stored instances: use {@link #tensor} for a copy). */
  public Map<String, Tensor> tensors() {
    return contents.tensors();
  }

  /** All tensor names, in file order. */
  public Set<String> keys() {
    return contents.tensors().keySet();
  }

  /** The {@code __metadata__} strings, in file order. */
  public Map<String, String> metadata() {
    return contents.metadata();
  }

  /** Whether the file has a tensor {@code key}. */
  public boolean has(String key) {
    return contents.tensors().containsKey(key);
  }

  /** A fresh copy of the tensor {@code key}, so a test cannot alter the golden data; fails if absent. */
  public Tensor tensor(String key) {
    Tensor t = contents.tensors().get(key);
    if (t == null) {
      throw new AssertionError(name + " has no tensor " + key);
    }
    return t.copy();
  }

  /** The shape of the tensor {@code key}. */
  public int[] shape(String key) {
    return tensor(key).shape();
  }

  /** The elements of the tensor {@code key}, widened to double. */
  public double[] doubles(String key) {
    float[] data = tensor(key).data();
    double[] out = new double[data.length];
    for (int i = 0; i < data.length; i++) {
      out[i] = data[i];
    }
    return out;
  }

  /** The elements of the tensor {@code key}, which must be integers. */
  public int[] ints(String key) {
    float[] data = tensor(key).data();
    int[] out = new int[data.length];
    for (int i = 0; i < data.length; i++) {
      out[i] = (int) data[i];
      if (out[i] != data[i]) {
        throw new AssertionError(name + ": " + key + "[" + i + "] = " + data[i] + " is not an integer");
      }
    }
    return out;
  }

  /** The single element of the tensor {@code key}. */
  public double scalar(String key) {
    double[] v = doubles(key);
    if (v.length != 1) {
      throw new AssertionError(name + ": " + key + " has " + v.length + " elements, not 1");
    }
    return v[0];
  }

  /** The single element of the tensor {@code key} as a boolean (non-zero is true). */
  public boolean flag(String key) {
    return scalar(key) != 0;
  }

  /** The metadata string {@code key}; fails if absent. */
  public String metadata(String key) {
    String v = contents.metadata().get(key);
    if (v == null) {
      throw new AssertionError(name + " has no metadata " + key);
    }
    return v;
  }

  /** The metadata {@code key} parsed as JSON (see {@link JsonParser}). */
  public Object metadataJson(String key) {
    return JsonParser.parse(metadata(key));
  }

  /**
   * The key prefixes of the {@link #cases()} cases of the set {@code name}, in order: {@code "<name>.0."},
   * {@code "<name>.1."}, ...
   */
  public List<String> casePrefixes(String name) {
    List<String> prefixes = new ArrayList<>();
    for (int i = 0; i < cases(); i++) {
      prefixes.add(name + "." + i + ".");
    }
    return prefixes;
  }

  /** The number of cases the generator wrote: the integer metadata {@code cases}. */
  public int cases() {
    return Integer.parseInt(metadata("cases"));
  }
}
