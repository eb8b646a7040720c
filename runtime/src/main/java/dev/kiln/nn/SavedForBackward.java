package dev.kiln.nn;

/**
 * What a training-mode {@code forward} keeps for the {@code backward} that follows it (PyTorch's
 * {@code ctx.save_for_backward}). A module makes one per saved value with
 * {@link AbstractModule#savedForBackward()}; {@link AbstractModule#train(boolean)} clears them all, so a
 * backward after a change of mode fails instead of using a stale forward.
 *
 * @param <T> the kind of value saved (a tensor, a shape, a mask)
 */
public final class SavedForBackward<T> {
  private T value;

  SavedForBackward() {}

  /** Keeps {@code value} (null clears). */
  public void set(T value) {
    this.value = value;
  }

  /** The saved value; throws {@link IllegalStateException} when no training-mode forward saved one. */
  public T get() {
    T v = value;
    if (v == null) {
      throw new IllegalStateException("backward needs a training-mode forward first");
    }
    return v;
  }

  /** The saved value, or null when there is none. */
  public T orNull() {
    return value;
  }

  /** Forgets the saved value. */
  public void clear() {
    value = null;
  }
}
