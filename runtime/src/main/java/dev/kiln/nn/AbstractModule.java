package dev.kiln.nn;

import dev.kiln.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bookkeeping shared by every module: parameters, buffers and child modules registered in order, so that
 * {@link #namedParameters()}, {@link #stateDict()}, {@link #loadStateDict(Map)}, {@link #zeroGrad()} and
 * {@link #train(boolean)} follow PyTorch's naming (a child's keys are prefixed with its name and a dot).
 */
public abstract class AbstractModule implements Module {
  private static final Tensor[] NO_BUFFERS = new Tensor[0];

  private final Map<String, Parameter> parameters = new LinkedHashMap<>();
  private final Map<String, Tensor> state = new LinkedHashMap<>();
  private final Map<String, Module> children = new LinkedHashMap<>();
  private final List<SavedForBackward<?>> savedForBackward = new ArrayList<>();
  private boolean training = true;
  private boolean reuseBuffers;
  private Tensor[] buffers = NO_BUFFERS;

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
    if (reuseBuffers && module instanceof AbstractModule child) {
      child.reuseBuffers(true);
    }
    return module;
  }

  private void requireNew(String name) {
    if (state.containsKey(name)) {
      throw new IllegalStateException("duplicate state name " + name);
    }
  }

  /**
   * A new holder for something a training-mode forward keeps for backward; {@link #train(boolean)} clears
   * it, together with every other holder of this module.
   */
  protected final <T> SavedForBackward<T> savedForBackward() {
    SavedForBackward<T> s = new SavedForBackward<>();
    savedForBackward.add(s);
    return s;
  }

  /**
   * Keeps {@code value} in {@code saved} for the backward that follows when this module is in training mode;
   * an eval-mode forward keeps nothing.
   */
  protected final <T> void saveForBackward(SavedForBackward<T> saved, T value) {
    if (isTraining()) {
      saved.set(value);
    }
  }

  /** Sets the mode of this module and its children and forgets what a forward saved for backward. */
  @Override
  public void train(boolean on) {
    training = on;
    for (SavedForBackward<?> s : savedForBackward) {
      s.clear();
    }
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
    return flattened(parameters, true);
  }

  @Override
  public Map<String, Tensor> stateDict() {
    return flattened(state, false);
  }

  /**
   * In registration order, this module's own entries of {@code own} under their names and each child's
   * entries (their {@link #namedParameters} or, without {@code parameters}, their {@link #stateDict}) under the
   * child's name and a dot. No lambdas: each is a class generated at run time, on the way to a first result.
   */
  @SuppressWarnings("unchecked")
  private <V> Map<String, V> flattened(Map<String, V> own, boolean parameters) {
    Map<String, V> out = new LinkedHashMap<>();
    for (String key : state.keySet()) {
      Module child = children.get(key);
      if (child != null) {
        Map<String, ?> ofChild = parameters ? child.namedParameters() : child.stateDict();
        for (Map.Entry<String, ?> e : ofChild.entrySet()) {
          out.put(key + "." + e.getKey(), (V) e.getValue());
        }
      } else if (own.containsKey(key)) {
        out.put(key, own.get(key));
      }
    }
    return Collections.unmodifiableMap(out);
  }

  /**
   * {@inheritDoc} Every parameter of this module and its children is then {@link Parameter#markChanged()
   * marked changed}, so derived data (such as a convolution engine's packed weights) is rebuilt.
   */
  @Override
  public void loadStateDict(Map<String, Tensor> source) {
    loadStrict(stateDict(), source);
    for (Parameter p : namedParameters().values()) {
      p.markChanged();
    }
    onStateLoaded();
  }

  /** Called after {@link #loadStateDict(Map)} copied new values in; override to refresh derived data. */
  protected void onStateLoaded() {}

  /**
   * Copies {@code source} into {@code target} (same keys, same shapes), checking everything before
   * changing anything. Works on plain tensors: a caller that copies into parameters calls
   * {@link Parameter#markChanged()} on them afterwards, as {@link #loadStateDict(Map)} does.
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

  /**
   * Whether this module (and every child, now and later registered) keeps the tensors it allocates in
   * training mode &mdash; outputs, input gradients, masks, scratch &mdash; and reuses them on the next
   * training-mode call with the same shapes instead of allocating new ones. Off by default: a module on its
   * own returns fresh tensors from every call, as PyTorch does. {@link SequentialModel} switches it on for
   * its layers, so that a training step of a {@code @Model} network allocates (almost) nothing while the
   * batch size stays the same.
   *
   * <p>With reuse on, a tensor returned by a training-mode {@link #forward} or {@link #backward} stays
   * valid until the next training-mode call of the same kind on this module, which overwrites it (copy it
   * to keep it). Only the most recent shape of each buffer is kept, so a change of batch size allocates once
   * and the old buffers become garbage. Eval mode never touches the buffers: eval-mode forwards allocate
   * their outputs and stay safe to run from many threads. Switching reuse off drops the buffers.
   */
  public void reuseBuffers(boolean on) {
    reuseBuffers = on;
    if (!on) {
      buffers = NO_BUFFERS;
    }
    for (Module child : children.values()) {
      if (child instanceof AbstractModule m) {
        m.reuseBuffers(on);
      }
    }
  }

  /** Whether {@link #reuseBuffers(boolean)} is on. */
  public final boolean reusesBuffers() {
    return reuseBuffers;
  }

  /**
   * A tensor of {@code shape} for buffer number {@code slot} of this module (a small index the subclass
   * picks, one per kind of buffer). In training mode with {@link #reuseBuffers(boolean) reuse} on it is the
   * tensor this slot returned last time if that had the same shape, and its contents are whatever was
   * written there before; otherwise it is a new tensor of zeros. Callers that accumulate into the buffer use
   * {@link #zeroedBuffer} instead.
   */
  protected final Tensor buffer(int slot, int... shape) {
    if (!reuseBuffers || !training) {
      return Tensor.zeros(shape);
    }
    if (slot >= buffers.length) {
      buffers = Arrays.copyOf(buffers, Math.max(slot + 1, 2 * buffers.length));
    }
    Tensor t = buffers[slot];
    if (t == null || !t.hasShape(shape)) {
      t = Tensor.zeros(shape);
      buffers[slot] = t;
    }
    return t;
  }

  /** {@link #buffer(int, int...)} with every element set to zero. */
  protected final Tensor zeroedBuffer(int slot, int... shape) {
    if (!reuseBuffers || !training) {
      return Tensor.zeros(shape);
    }
    Tensor old = slot < buffers.length ? buffers[slot] : null;
    Tensor t = buffer(slot, shape);
    return t == old ? t.fill(0f) : t;
  }
}
