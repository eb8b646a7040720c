package dev.kiln.nn;

import dev.kiln.tensor.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A chain of layers run in order, the base of every generated {@code @Model} network (and its fused deploy
 * form). State-dict keys are {@code <prefix>.<key>}, the prefix being the layer's name unless it was added with
 * another ({@link #add(String, String, Module)}). What training optimizes is the training side's concern
 * ({@code dev.kiln.loss.DeclaredObjective}, which generated training networks implement).
 *
 * <p>{@link #reseed(long)} restarts every random layer ({@link Dropout}, or any {@link Reseedable} layer)
 * from a seed derived from the given one and the layer's position, so the trainer can make each epoch's
 * dropout masks a function of the run's seed and the epoch alone.
 */
public abstract class SequentialModel extends AbstractModule implements Reseedable {
  private final int[] inputShape;
  private final int[] outputShape;
  private final List<Module> layers = new ArrayList<>();
  private final Map<String, Module> named = new LinkedHashMap<>();
  /** Marks "no network engine" in {@link #engine}. */
  private static final Object NO_ENGINE = new Object();
  /** The {@link NetworkEngine}, {@link #NO_ENGINE}, or null before the first eval-mode forward. */
  private volatile Object engine;
  /**
   * The convolutions' outputs of the last eval-mode forward that ran the layers one by one, by layer index,
   * for the next such forward to write into again (taken while a forward runs, so concurrent forwards never
   * share them); null while taken or before the first one.
   */
  private final AtomicReference<Tensor[]> evalOutputs = new AtomicReference<>();

  /**
   * A chain with {@link #reuseBuffers(boolean) buffer reuse} on: in training mode every layer keeps its
   * activations, gradients and scratch buffers from one step to the next while the batch size stays the
   * same, so a training step allocates (almost) nothing; the logits a training-mode {@link #forward}
   * returns and the input gradient {@link #backward} returns are among those buffers and are overwritten by
   * the next training step (copy them to keep them). Eval mode returns a new tensor on every call and is safe
   * to call from many threads; when it runs the layers one by one (no {@link #networkEngine()}), the
   * convolutions write their outputs into the tensors of the previous eval-mode call (one set per model,
   * which a call running at the same time as another does not share: it allocates its own). {@code
   * reuseBuffers(false)} restores fresh tensors on every call in both modes.
   *
   * @param inputShape one sample's input shape, e.g. {@code {1, 28, 28}}
   * @param outputShape one sample's output shape, e.g. {@code {10}}
   */
  protected SequentialModel(int[] inputShape, int[] outputShape) {
    this.inputShape = inputShape.clone();
    this.outputShape = outputShape.clone();
    reuseBuffers(true);
  }

  /** Appends a layer under {@code name}, which is also the prefix of its state-dict keys. */
  protected final <M extends Module> M add(String name, M layer) {
    return add(name, name, layer);
  }

  /**
   * Appends a layer under {@code name} whose state-dict keys are {@code <keyPrefix>.<key>} ({@code keyPrefix}
   * may contain dots, e.g. {@code "stage1.0"} or {@code "stage1.0.rbr_reparam"}).
   */
  protected final <M extends Module> M add(String name, String keyPrefix, M layer) {
    registerModule(keyPrefix, layer);
    layers.add(layer);
    named.put(name, layer);
    return layer;
  }

  /** Also drops (when {@code on} is false) the feature maps eval-mode forwards keep. */
  @Override
  public void reuseBuffers(boolean on) {
    super.reuseBuffers(on);
    if (!on && evalOutputs != null) {
      evalOutputs.set(null);
    }
  }

  /** One sample's input shape (without the batch dimension). */
  public final int[] inputShape() {
    return inputShape.clone();
  }

  /** One sample's output shape (without the batch dimension). */
  public final int[] outputShape() {
    return outputShape.clone();
  }

  /** The layers by name, in order. */
  public final Map<String, Module> layers() {
    return Collections.unmodifiableMap(named);
  }

  /**
   * Restarts the generator of every {@link Dropout} layer (and every {@link Reseedable} layer) from
   * {@link #layerSeed(long, int)} of {@code seed} and the layer's 0-based position.
   */
  @Override
  public void reseed(long seed) {
    for (int i = 0; i < layers.size(); i++) {
      Module layer = layers.get(i);
      if (layer instanceof Dropout) {
        ((Dropout) layer).setSeed(layerSeed(seed, i));
      } else if (layer instanceof Reseedable) {
        ((Reseedable) layer).reseed(layerSeed(seed, i));
      }
    }
  }

  /** The seed {@link #reseed(long)} gives the layer at {@code index}: SplitMix64's finalizer over both. */
  public static long layerSeed(long seed, int index) {
    return dev.kiln.runtime.Seeds.mix(seed, index);
  }

  @Override
  public Tensor forward(Tensor input) {
    int[] s = input.shape();
    boolean ok = s.length == inputShape.length + 1;
    for (int i = 0; ok && i < inputShape.length; i++) {
      ok = s[i + 1] == inputShape[i];
    }
    if (!ok) {
      int[] expected = new int[inputShape.length + 1];
      System.arraycopy(inputShape, 0, expected, 1, inputShape.length);
      throw new IllegalArgumentException("input: expected shape " + Arrays.toString(expected).replaceFirst("0", "N")
          + " but got " + Arrays.toString(s));
    }
    if (!isTraining()) {
      NetworkEngine e = networkEngine();
      if (e != null) {
        return e.forward(input);
      }
      if (reusesBuffers()) {
        return forwardEval(input);
      }
    }
    return forwardLayers(input);
  }

  /**
   * The layer-by-layer eval-mode forward that allocates no feature maps once the batch size is the same as in
   * the previous call: every convolution but the last layer writes into its output tensor of that call (a
   * forward that allocated its feature maps, 6.5 MB per call on RepVGG-A0, ran the scalar path 30% slower for
   * seconds at a time, faulting in heap pages touched for the first time). The returned tensor is never one of
   * those kept.
   */
  private Tensor forwardEval(Tensor input) {
    Tensor[] outputs = evalOutputs.getAndSet(null);
    if (outputs == null) {
      outputs = new Tensor[layers.size()];
    }
    Tensor x = input;
    int last = layers.size() - 1;
    for (int i = 0; i <= last; i++) {
      Module layer = layers.get(i);
      if (i < last && layer instanceof ConvKernel conv && x.rank() == 4) {
        // A kept output differs from the one needed at most in the batch size (a layer's sample shape is fixed).
        int n = x.dim(0);
        Tensor out = outputs[i];
        if (out == null || out.dim(0) != n) {
          int[] sample = conv.outputShape();
          out = Tensor.zeros(n, sample[0], sample[1], sample[2]);
          outputs[i] = out;
        }
        conv.forward(x, out); // checks the input's shape
        x = out;
      } else {
        x = layer.forward(x);
      }
    }
    for (Tensor kept : outputs) {
      if (kept != null && kept.data() == x.data()) {
        x = x.copy(); // a layer after the last convolution returned (a view of) the conv's output
        break;
      }
    }
    evalOutputs.set(outputs);
    return x;
  }

  /**
   * Prepares this model for serving: one eval-mode {@link #forward} on {@code input} (a representative batch,
   * of the size the server will use), then a wait until the vectorized code that forward asked for is compiled
   * (the layers' own tile kernels, which take over from the shared ones of the first forward), then one more
   * forward (the blocked engine may run a network's first forward one sample at a time, keeping one sample's
   * buffers, and later ones in larger groups; this one allocates the buffers they use), so that the calls after it
   * run at full speed from the first. The
   * wait ends at {@code timeout} (counted from the start, a day at most; the last forward comes after it).
   * Returns whether the warm-up finished in time (a kernel that does not compile within the warmer's 10-s
   * deadline is given up on and counts as finished); always true on the scalar path (no
   * {@code jdk.incubator.vector}, or {@code -Dkiln.simd=false}), which has nothing to wait for.
   *
   * @throws IllegalStateException in training mode
   * @throws IllegalArgumentException if {@code timeout} is negative, or the input's shape does not fit
   * @throws InterruptedException if the calling thread is interrupted while it waits
   */
  public final boolean warmUp(Tensor input, Duration timeout) throws InterruptedException {
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative but was " + timeout);
    }
    if (isTraining()) {
      throw new IllegalStateException("warmUp runs eval-mode forwards; call eval() first");
    }
    long nanos = (timeout.compareTo(Duration.ofDays(1)) > 0 ? Duration.ofDays(1) : timeout).toNanos();
    long start = System.nanoTime();
    forward(input);
    NetworkEngine e = networkEngine();
    if (e == null) {
      return true;
    }
    boolean compiled = e.awaitCompiled(Math.max(0, nanos - (System.nanoTime() - start)));
    forward(input);
    return compiled;
  }

  /** The layer-by-layer forward, whatever the mode (what a {@link NetworkEngine} falls back on). */
  public final Tensor forwardLayers(Tensor input) {
    Tensor x = input;
    for (Module layer : layers) {
      x = layer.forward(x);
    }
    return x;
  }

  /**
   * The engine of eval-mode forwards, created on the first call, or {@code null} when the layers run one by
   * one (no vectorized engine in this JVM, or none that knows these layers).
   */
  public final NetworkEngine networkEngine() {
    Object e = engine;
    if (e == null) {
      synchronized (this) {
        e = engine;
        if (e == null) {
          NetworkEngine created = Accelerators.networkEngine(this);
          e = created == null ? NO_ENGINE : created;
          engine = e;
        }
      }
    }
    return e == NO_ENGINE ? null : (NetworkEngine) e;
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    Tensor g = gradOutput;
    for (int i = layers.size() - 1; i >= 0; i--) {
      g = layers.get(i).backward(g);
    }
    return g;
  }

  /** As {@link #backward}, but the first layer skips its input gradient (the gradient of the data). */
  @Override
  public void backwardParameters(Tensor gradOutput) {
    Tensor g = gradOutput;
    for (int i = layers.size() - 1; i > 0; i--) {
      g = layers.get(i).backward(g);
    }
    layers.get(0).backwardParameters(g);
  }
}
