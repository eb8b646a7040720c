package dev.kiln.runtime;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A scope holds inside {@code call} on the calling thread only, through nested calls, and ends however the call does. */
class ThreadScopeTest {
  @Test
  void activeInsideTheCallOnThisThreadOnly() throws Exception {
    ThreadScope scope = new ThreadScope();
    ThreadScope other = new ThreadScope();
    List<Boolean> seen = new ArrayList<>();
    seen.add(scope.active());
    boolean[] elsewhere = {true};
    String result = scope.call(() -> {
      seen.add(scope.active());
      seen.add(other.active());
      seen.add(scope.call(scope::active));
      seen.add(scope.active());
      Thread t = new Thread(() -> elsewhere[0] = scope.active());
      t.start();
      try {
        t.join();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      return "done";
    });
    seen.add(scope.active());
    assertThat(result).isEqualTo("done");
    assertThat(seen).containsExactly(false, true, false, true, true, false).inOrder();
    assertThat(elsewhere[0]).isFalse();
    assertThrows(IllegalStateException.class, () -> scope.call(() -> {
      throw new IllegalStateException("inside");
    }));
    assertThat(scope.active()).isFalse();
  }
}
