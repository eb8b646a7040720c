package dev.kiln.annotation;

import static com.google.common.truth.Truth.assertWithMessage;

import org.junit.jupiter.api.Test;

/**
 * The range each activation clamps to, which the engines' epilogues apply as {@code min(max(x, lower), upper)}:
 * on -1, 3 and 7 that gives PyTorch's identity, {@code relu} and {@code relu6}. Every activation, counted.
 */
class ActivationTest {
  @Test
  void clampingToTheBoundsIsTheActivation() {
    float[] x = {-1f, 3f, 7f};
    float[][] expected = {{-1f, 3f, 7f}, {0f, 3f, 7f}, {0f, 3f, 6f}};
    Activation[] order = {Activation.NONE, Activation.RELU, Activation.RELU6};
    int cases = 0;
    for (int a = 0; a < order.length; a++) {
      for (int i = 0; i < x.length; i++) {
        float y = Math.min(Math.max(x[i], order[a].lower()), order[a].upper());
        assertWithMessage(order[a] + " of " + x[i]).that(y).isEqualTo(expected[a][i]);
        cases++;
      }
    }
    assertWithMessage("cases").that(cases).isEqualTo(3 * Activation.values().length);
  }
}
