package dev.kiln.processor.writing;

import com.palantir.javapoet.MethodSpec;
import dev.kiln.processor.model.TapBlock;

/**
 * Emits the hot loops over the interior of one (output channel, input channel) plane pair: the output
 * pixels whose every tap reads inside the input. The rest of the kernel only calls these methods, so a
 * vectorized emitter can replace the scalar one without touching anything else.
 *
 * <p>Signatures of the emitted methods (static, private):
 * <ul>
 *   <li>{@code forwardInterior<s>(float[] x, int xPlane, float[] y, int yPlane, float[] w, int wOff)} adds
 *       this block's taps to {@code y}
 *   <li>{@code backwardInputInterior<s>(float[] gy, int gyPlane, float[] gx, int gxPlane, float[] w, int wOff)}
 *   <li>{@code backwardWeightInterior<s>(float[] x, int xPlane, float[] gy, int gyPlane, float[] gw, int wOff)}
 * </ul>
 */
public interface InteriorEmitter {
  MethodSpec forward(TapBlock block, String suffix);

  MethodSpec backwardInput(TapBlock block, String suffix);

  MethodSpec backwardWeight(TapBlock block, String suffix);
}
