package dev.kiln.nn;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;

/**
 * Whether the scalar path's loops use {@link Math#fma}: where the JVM compiles it to the processor's fused
 * multiply-add, C2 vectorizes a loop of them into vector fused multiply-adds, half the arithmetic instructions of
 * separate multiplies and adds (and one rounding instead of two). Where it does not, {@code Math.fma} is computed
 * exactly in software, a thousand times slower, so it is used only where the JVM says it has the
 * instruction: HotSpot's {@code UseFMA} option, set on processors with FMA (x86-64 from Haswell and Piledriver on,
 * every AArch64). Elsewhere (no {@code jdk.management} module, another JVM) the loops multiply and add.
 * {@code -Dkiln.scalar.fma=true} or {@code false} decides instead.
 */
final class FusedMultiplyAdd {
  /** The system property that decides instead of the JVM's option. */
  static final String PROPERTY = "kiln.scalar.fma";

  private FusedMultiplyAdd() {}

  /** Whether to use fused multiply-adds: the property where it is {@code true} or {@code false}, else the JVM's. */
  static boolean fast() {
    return Holder.FAST;
  }

  /**
   * What {@code property} decides: true or false where it says {@code true} or {@code false} (any case), else
   * {@code null} (the JVM's option decides).
   */
  static Boolean fromProperty(String property) {
    if ("true".equalsIgnoreCase(property)) {
      return Boolean.TRUE;
    }
    if ("false".equalsIgnoreCase(property)) {
      return Boolean.FALSE;
    }
    return null;
  }

  /** HotSpot's {@code UseFMA} option, false where the JVM cannot say. */
  static boolean jvmUsesFma() {
    try {
      return HotSpotOption.useFma();
    } catch (RuntimeException | LinkageError e) {
      // Not HotSpot, no such option, or no jdk.management module (a trimmed runtime, Android): multiply and add.
      return false;
    }
  }

  /**
   * The management classes' only user, loaded only when asked: where they do not exist, the failure is a
   * {@link LinkageError} at this call, not a class of ours that cannot load.
   */
  private static final class HotSpotOption {
    static boolean useFma() {
      HotSpotDiagnosticMXBean bean = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
      return bean != null && "true".equals(bean.getVMOption("UseFMA").getValue());
    }
  }

  /** Asked once, when the scalar path first needs it (the SIMD path never loads this class). */
  private static final class Holder {
    static final boolean FAST = decide();

    private static boolean decide() {
      Boolean property = fromProperty(System.getProperty(PROPERTY));
      return property != null ? property : jvmUsesFma();
    }
  }
}
