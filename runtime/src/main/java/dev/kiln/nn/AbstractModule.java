package dev.kiln.nn;

import dev.kiln.tensor.Tensor;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Bookkeeping shared by every module: parameters, buffers and child modules registered in order, so that
 * {@link #namedParameters()}, {@link #stateDict()}, {@link #loadStateDict(Map)}, {@link #zeroGrad()} and
 * {@link #train(boolean)} follow PyTorch's naming (a child's keys are prefixed with its name and a dot).
 */
public abstract class AbstractModule implements Module {
  private final Map<String, Parameter> parameters = new LinkedHashMap<>();
  private final Map<String, Tensor> state = new LinkedHashMap<>();
  private final Map<String, Module> children = new LinkedHashMap<>();
  private boolean training = true;

  /** Registers a parameter under {@code name}; it appears in the state dict at this point of the order. */
  protected final Parameter registerParameter(String name, Tensor value) {
    Parameter p = Parameter.of(name, value);
    requireNew(name);
    parameters.put(name, p);
    state.put(name, value);
    return p;
  }

  /** Registers a buffer (state but not a parameter), e.g. {@code running_mean}. */
  protected final Tensor registerBuffer(String name, Tensor value) {
    requireNew(name);
    state.put(name, value);
    return value;
  }

  /** Registers a child module whose keys are prefixed with {@code name + "."}. */
  protected final <M extends Module> M registerModule(String name, M module) {
    requireNew(name);
    children.put(name, module);
    state.put(name, null); // placeholder keeps the registration order
    return module;
  }

  private void requireNew(String name) {
    if (state.containsKey(name)) {
      throw new IllegalStateException("duplicate state name " + name);
    }
  }

  @Override
  public void train(boolean on) {
    training = on;
    for (Module child : children.values()) {
      child.train(on);
    }
  }

  @Override
  public boolean isTraining() {
    return training;
  }

  @Override
  public Map<String, Parameter> namedParameters() {
    Map<String, Parameter> out = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : state.entrySet()) {
      String key = e.getKey();
      Module child = children.get(key);
      if (child != null) {
        child.namedParameters().forEach((k, v) -> out.put(key + "." + k, v));
      } else if (parameters.containsKey(key)) {
        out.put(key, parameters.get(key));
      }
    }
    return Collections.unmodifiableMap(out);
  }

  @Override
  public Map<String, Tensor> stateDict() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : state.entrySet()) {
      String key = e.getKey();
      Module child = children.get(key);
      if (child != null) {
        child.stateDict().forEach((k, v) -> out.put(key + "." + k, v));
      } else {
        out.put(key, e.getValue());
      }
    }
    return Collections.unmodifiableMap(out);
  }

  @Override
  public void loadStateDict(Map<String, Tensor> source) {
    loadStrict(stateDict(), source);
    onStateLoaded();
  }

  /** Called after {@link #loadStateDict(Map)} copied new values in; override to refresh derived data. */
  protected void onStateLoaded() {}

  /**
   * Copies {@code source} into {@code target} (same keys, same shapes), checking everything before
   * changing anything.
   */
  public static void loadStrict(Map<String, Tensor> target, Map<String, Tensor> source) {
    for (Map.Entry<String, Tensor> e : target.entrySet()) {
      Tensor src = source.get(e.getKey());
      if (src == null) {
        throw new IllegalArgumentException("missing key " + e.getKey() + " (expected shape "
            + Arrays.toString(e.getValue().shape()) + ")");
      }
      if (!Arrays.equals(src.shape(), e.getValue().shape())) {
        throw new IllegalArgumentException("wrong shape for key " + e.getKey() + ": expected "
            + Arrays.toString(e.getValue().shape()) + " but got " + Arrays.toString(src.shape()));
      }
    }
    for (Map.Entry<String, Tensor> e : source.entrySet()) {
      if (!target.containsKey(e.getKey())) {
        throw new IllegalArgumentException("unexpected key " + e.getKey() + " (shape "
            + Arrays.toString(e.getValue().shape()) + ")");
      }
    }
    for (Map.Entry<String, Tensor> e : target.entrySet()) {
      float[] src = source.get(e.getKey()).data();
      System.arraycopy(src, 0, e.getValue().data(), 0, src.length);
    }
  }

  @Override
  public void zeroGrad() {
    for (Parameter p : namedParameters().values()) {
      p.zeroGrad();
    }
  }

  /** The registered children, in order. */
  protected final Map<String, Module> children() {
    return Collections.unmodifiableMap(children);
  }
}
