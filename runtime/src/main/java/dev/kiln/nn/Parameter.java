package dev.kiln.nn;

import dev.kiln.tensor.Tensor;
import java.util.Objects;

/** A learnable tensor and its gradient (same shape, accumulated by {@link Module#backward}). */
public final class Parameter {
  private final String name;
  private final Tensor data;
  private final Tensor grad;

  private Parameter(String name, Tensor data) {
    this.name = Objects.requireNonNull(name, "name");
    this.data = Objects.requireNonNull(data, "data");
    this.grad = Tensor.zeros(data.shape());
  }

  /** A parameter over {@code data} (not copied) with a zero gradient. */
  public static Parameter of(String name, Tensor data) {
    return new Parameter(name, data);
  }

  /** The state-dict name relative to the module that owns it, e.g. {@code weight}. */
  public String name() {
    return name;
  }

  /** The values. */
  public Tensor data() {
    return data;
  }

  /** The accumulated gradient. */
  public Tensor grad() {
    return grad;
  }

  /** Sets the gradient to zero. */
  public void zeroGrad() {
    grad.fill(0f);
  }

  @Override
  public String toString() {
    return "Parameter{" + name + " " + Tensor.shapeString(data.shape()) + "}";
  }
}
