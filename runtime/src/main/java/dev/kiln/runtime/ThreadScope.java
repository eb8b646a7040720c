package dev.kiln.runtime;

import java.util.function.Supplier;

/**
 * A condition that holds on one thread for the duration of a call ({@link #call}), nested calls included, and
 * nowhere else: {@code Init.skipped}'s random initialization left out, {@link Parallel#onCallingThread}'s sections
 * run alone. Entering and leaving allocate nothing, and nothing is generated at run time (the thread-local is a
 * class of its own, not a lambda: a network's first forward makes no class, {@code StartupClassesTest}).
 */
public final class ThreadScope {
  private final ThreadLocal<int[]> depth = new ThreadLocal<>() {
    @Override
    protected int[] initialValue() {
      return new int[1];
    }
  };

  /** Runs {@code body} with this scope active on the calling thread; inactive again after, however it ends. */
  public <T> T call(Supplier<T> body) {
    int[] d = depth.get();
    d[0]++;
    try {
      return body.get();
    } finally {
      d[0]--;
    }
  }

  /** Whether the calling thread is inside {@link #call}. */
  public boolean active() {
    return depth.get()[0] > 0;
  }
}
