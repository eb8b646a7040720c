package dev.kiln.nn;

import dev.kiln.annotation.Activation;

/**
 * Finds the vectorized convolution engine when the JVM has the incubating Vector API
 * ({@code --add-modules jdk.incubator.vector}) and the system property {@code kiln.simd} is not
 * {@code false}. The implementation is loaded by name, so no vector class is linked when the module is
 * absent.
 */
final class ConvEngines {
  private static final String VECTOR_MODULE = "jdk.incubator.vector";
  private static final String FACTORY = "dev.kiln.simd.SimdConvEngineFactory";
  private static volatile ConvEngine.Factory factory;
  private static volatile boolean loaded;

  private ConvEngines() {}

  /** Whether the system property {@code kiln.simd} allows a vectorized engine (default: yes). */
  static boolean enabled() {
    return !"false".equalsIgnoreCase(System.getProperty("kiln.simd", "true").trim());
  }

  /** An engine for the geometry, or {@code null} for the generated scalar loops. */
  static ConvEngine create(ConvGeometry geometry, boolean bias, Activation activation) {
    if (!enabled()) {
      return null;
    }
    ConvEngine.Factory f = factory();
    return f == null ? null : f.create(geometry, bias, activation);
  }

  private static ConvEngine.Factory factory() {
    if (!loaded) {
      synchronized (ConvEngines.class) {
        if (!loaded) {
          factory = load();
          loaded = true;
        }
      }
    }
    return factory;
  }

  private static ConvEngine.Factory load() {
    if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
      return null;
    }
    try {
      Class<?> c = Class.forName(FACTORY);
      return (ConvEngine.Factory) c.getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
      System.err.println("kiln: vectorized convolutions unavailable (" + e + "); using scalar kernels");
      return null;
    }
  }
}
