package dev.kiln.nn;

import dev.kiln.annotation.Activation;

/**
 * Finds the vectorized implementations of {@code dev.kiln.simd} (the convolution engines and
 * {@link PlaneLoops}) when the JVM has the incubating Vector API ({@code --add-modules
 * jdk.incubator.vector}) and the system property {@code kiln.simd} is not {@code false}. They are
 * loaded by name, so no vector class is linked when the module is absent.
 */
final class Accelerators {
  private static final String VECTOR_MODULE = "jdk.incubator.vector";
  private static final String CONV_FACTORY = "dev.kiln.simd.SimdConvEngineFactory";
  private static final String PLANE_LOOPS = "dev.kiln.simd.SimdPlaneLoops";
  private static final String NETWORK_FACTORY = "dev.kiln.simd.BlockedNetworkFactory";

  private Accelerators() {}

  /** Whether the system property {@code kiln.simd} allows vectorized code (default: yes). */
  static boolean enabled() {
    return !"false".equalsIgnoreCase(System.getProperty("kiln.simd", "true").trim());
  }

  /**
   * A convolution engine for the geometry, or {@code null} for the generated scalar loops: the vectorized one,
   * or without the Vector API the plain-Java Winograd form of the 3x3 layers it applies to ({@link PlainWinograd}).
   */
  static ConvEngine convEngine(ConvGeometry geometry, boolean bias, Activation activation) {
    if (!enabled()) {
      return null;
    }
    ConvEngine.Factory f = Loaded.CONV_FACTORY;
    if (f != null) {
      return f.create(geometry, bias, activation);
    }
    return PlainWinograd.supports(geometry) ? new PlainWinograd(geometry, activation) : null;
  }

  /**
   * Tells the vectorized code that a convolution of this geometry exists, so that it can prepare (compile)
   * what the geometry will run on before the first call; a no-op without it.
   */
  static void prepareConv(ConvGeometry geometry) {
    if (enabled()) {
      ConvEngine.Factory f = Loaded.CONV_FACTORY;
      if (f != null) {
        f.prepare(geometry);
      }
    }
  }

  /** A whole-network engine for {@code model}, or {@code null} for the layer-by-layer forward. */
  static NetworkEngine networkEngine(SequentialModel model) {
    if (!enabled()) {
      return null;
    }
    NetworkEngine.Factory f = Loaded.NETWORK_FACTORY;
    return f == null ? null : f.create(model);
  }

  /** The vectorized plane sums, or the scalar ones. */
  static PlaneLoops planeLoops() {
    PlaneLoops p = enabled() ? Loaded.PLANE_LOOPS : null;
    return p == null ? PlaneLoops.scalar() : p;
  }

  /** Loaded once, on first use (the holder idiom). */
  private static final class Loaded {
    static final boolean VECTOR = ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    static final ConvEngine.Factory CONV_FACTORY = load(Accelerators.CONV_FACTORY, ConvEngine.Factory.class);
    static final PlaneLoops PLANE_LOOPS = load(Accelerators.PLANE_LOOPS, PlaneLoops.class);
    static final NetworkEngine.Factory NETWORK_FACTORY = load(Accelerators.NETWORK_FACTORY,
        NetworkEngine.Factory.class);

    private static <T> T load(String className, Class<T> type) {
      if (!VECTOR) {
        return null;
      }
      try {
        return type.cast(Class.forName(className).getDeclaredConstructor().newInstance());
      } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
        System.err.println("kiln: vectorized code unavailable (" + e + "); using scalar loops");
        return null;
      }
    }
  }
}
