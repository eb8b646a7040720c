package dev.kiln.nn;

/**
 * Per-thread working memory of the vectorizable scalar loops (the generated convolutions, {@link Linear}):
 * staged copies of the input and accumulators, each plane its own float array, so that every array access
 * of a hot loop has the form {@code a[j + constant]}, the form HotSpot's auto-vectorizer needs. A layer takes
 * what it needs at the start of a call and does not hold on to it, so the layers that run one after another
 * on a thread share one set of arrays, sized for the largest of them. Contents are unspecified between
 * calls. Public for the generated code.
 */
public final class Scratch {
  private static final ThreadLocal<Scratch> LOCAL = new ThreadLocal<>() {
    @Override
    protected Scratch initialValue() {
      return new Scratch();
    }
  };

  private final Planes inputs = new Planes();
  private final Planes accumulators = new Planes();
  private final Planes patches = new Planes();

  private Scratch() {}

  /** This thread's scratch. */
  public static Scratch get() {
    return LOCAL.get();
  }

  /** At least {@code count} input planes of at least {@code length} floats each. */
  public float[][] inputs(int count, int length) {
    return inputs.get(count, length);
  }

  /** At least {@code count} accumulators of at least {@code length} floats each, distinct from the inputs. */
  public float[][] accumulators(int count, int length) {
    return accumulators.get(count, length);
  }

  /** At least {@code count} patch rows of at least {@code length} floats each, distinct from the other sets. */
  public float[][] patches(int count, int length) {
    return patches.get(count, length);
  }

  /** A set of equally long arrays that grows on demand and keeps what is large enough. */
  private static final class Planes {
    private float[][] arrays = new float[0][];
    private int length;

    float[][] get(int count, int minLength) {
      if (count > arrays.length || minLength > length) {
        int newLength = Math.max(minLength, length);
        float[][] grown = new float[Math.max(count, arrays.length)][];
        for (int i = 0; i < grown.length; i++) {
          grown[i] = i < arrays.length && arrays[i].length >= newLength ? arrays[i] : new float[newLength];
        }
        arrays = grown;
        length = newLength;
      }
      return arrays;
    }
  }
}
