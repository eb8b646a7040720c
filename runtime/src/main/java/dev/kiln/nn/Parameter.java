package dev.kiln.nn;

import dev.kiln.tensor.Tensor;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A learnable tensor and its gradient (same shape, accumulated by {@link Module#backward}). The gradient is
 * allocated on first use, so a network that only runs inference (a fused deploy network, a model whose
 * weights are loaded to serve) holds no gradient memory.
 *
 * <p>A parameter also carries a modification counter, {@link #version()}, so that code which derives data
 * from the values (for example a convolution engine that keeps the weights in a packed layout) can tell
 * cheaply whether they changed. <b>Contract:</b> code that writes the values of {@link #data()} in place
 * must call {@link #markChanged()} after writing, before the next forward. Every writer in the library
 * does: the optimizers' {@code step()}, {@link Module#loadStateDict} (and so checkpoint restore and
 * fusion). A write without {@code markChanged()} may not be seen by the layers that keep the weights in
 * another layout ({@link PackedWeights}: {@link Linear}, the vectorized convolutions, the generated
 * convolutions of layers with small output planes), which keep using the copy they made before.
 */
public final class Parameter {
  private final String name;
  private final Tensor data;
  /** Allocated by the first {@link #grad()} call. */
  private volatile Tensor grad;
  /** Increased by {@link #markChanged()}; a reader that sees a new version also sees the values written before. */
  private final AtomicLong version = new AtomicLong();

  private Parameter(String name, Tensor data) {
    this.name = Objects.requireNonNull(name, "name");
    this.data = Objects.requireNonNull(data, "data");
  }

  /** A parameter over {@code data} (not copied) with a zero gradient. */
  public static Parameter of(String name, Tensor data) {
    return new Parameter(name, data);
  }

  /** The state-dict name relative to the module that owns it, e.g. {@code weight}. */
  public String name() {
    return name;
  }

  /**
   * The values. Writing them in place is allowed, followed by {@link #markChanged()} (see the class
   * documentation).
   */
  public Tensor data() {
    return data;
  }

  /** The accumulated gradient (zeros until a backward adds to it). */
  public Tensor grad() {
    Tensor g = grad;
    if (g == null) {
      synchronized (this) {
        g = grad;
        if (g == null) {
          g = Tensor.zeros(data.shape());
          grad = g;
        }
      }
    }
    return g;
  }

  /** Sets the gradient to zero (allocating nothing when no gradient was ever taken). */
  public void zeroGrad() {
    Tensor g = grad;
    if (g != null) {
      g.fill(0f);
    }
  }

  /**
   * The modification counter: 0 for a new parameter, increased by every {@link #markChanged()}. Equal
   * versions mean the values were not changed by any writer that keeps the contract.
   */
  public long version() {
    return version.get();
  }

  /**
   * Records that the values of {@link #data()} were written: call it after writing them in place, before
   * the next forward. Cheap (one counter increment); calling it when nothing changed only costs the next
   * forward a repack of derived data.
   */
  public void markChanged() {
    version.incrementAndGet();
  }

  @Override
  public String toString() {
    return "Parameter{" + name + " " + Tensor.shapeString(data.shape()) + "}";
  }
}
