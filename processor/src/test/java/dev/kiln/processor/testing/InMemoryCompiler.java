package dev.kiln.processor.testing;

import static com.google.common.truth.Truth.assertWithMessage;
import static com.google.testing.compile.Compiler.javac;

import com.google.testing.compile.Compilation;
import dev.kiln.processor.KilnProcessor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.tools.Diagnostic;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Compiles sources in memory with the Kiln processor and loads every class the compilation produced (the
 * user's interfaces and the generated classes) in a class loader whose parent sees kiln-runtime.
 */
public final class InMemoryCompiler {
  private static final String CLASS_OUTPUT = "/CLASS_OUTPUT/";

  private InMemoryCompiler() {}

  /**
   * Runs javac with {@link KilnProcessor} and every lint warning (but {@code processing}) on {@code sources}.
   * Whatever else a test expects, no diagnostic may point into a generated file: invalid input is an error
   * on the user's source, and generated code always compiles cleanly.
   */
  public static Compilation compile(JavaFileObject... sources) {
    Compilation compilation = javac().withProcessors(new KilnProcessor()).withOptions("-Xlint:all", "-Xlint:-processing")
        .compile(sources);
    assertNothingInGeneratedSources(compilation);
    return compilation;
  }

  /** Fails if an error or warning of {@code compilation} is in a source file the processor generated. */
  public static void assertNothingInGeneratedSources(Compilation compilation) {
    Set<JavaFileObject> inputs = Set.copyOf(compilation.sourceFiles());
    for (Diagnostic<? extends JavaFileObject> d : compilation.diagnostics()) {
      if (d.getKind() != Diagnostic.Kind.NOTE && d.getSource() != null && !inputs.contains(d.getSource())) {
        throw new AssertionError("generated source " + d.getSource().getName() + " does not compile cleanly: " + d);
      }
    }
  }

  /** Compiles, asserts success (printing the diagnostics otherwise) and returns a loader for the classes. */
  public static ClassLoader compileAndLoad(JavaFileObject... sources) {
    Compilation compilation = compile(sources);
    assertWithMessage("compilation: %s", compilation.diagnostics())
        .that(compilation.status()).isEqualTo(Compilation.Status.SUCCESS);
    return loader(compilation);
  }

  /** Every class file the compilation produced, by binary name. */
  public static Map<String, byte[]> classFiles(Compilation compilation) {
    Map<String, byte[]> classes = new HashMap<>();
    for (JavaFileObject f : compilation.generatedFiles()) {
      if (f.getKind() != JavaFileObject.Kind.CLASS) {
        continue;
      }
      String path = f.toUri().getPath();
      String binary = path.substring(path.indexOf(CLASS_OUTPUT) + CLASS_OUTPUT.length(),
          path.length() - ".class".length()).replace('/', '.');
      try (InputStream in = f.openInputStream()) {
        classes.put(binary, in.readAllBytes());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return classes;
  }

  /** A loader for every class file of {@code compilation}. */
  public static ClassLoader loader(Compilation compilation) {
    Map<String, byte[]> classes = classFiles(compilation);
    return new ClassLoader(InMemoryCompiler.class.getClassLoader()) {
      @Override
      protected Class<?> findClass(String name) throws ClassNotFoundException {
        byte[] bytes = classes.get(name);
        if (bytes == null) {
          throw new ClassNotFoundException(name);
        }
        return defineClass(name, bytes, 0, bytes.length);
      }
    };
  }

  /** A new instance of the class {@code name} through its public no-arg constructor. */
  @SuppressWarnings("unchecked")
  public static <T> T newInstance(ClassLoader loader, String name) {
    try {
      return (T) loader.loadClass(name).getConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("cannot instantiate " + name, e);
    }
  }

  /**
   * Runs javac with {@link KilnProcessor} directly (not through compile-testing, which hides the outputs of
   * a failed compilation) and returns the qualified names of the generated source files, whether or not
   * the compilation succeeded.
   */
  public static Set<String> generatedSourceNames(JavaFileObject... sources) {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    Set<String> names = new TreeSet<>();
    try (StandardJavaFileManager standard = javac.getStandardFileManager(null, null, null)) {
      JavaFileManager memory = new ForwardingJavaFileManager<>(standard) {
        @Override
        public JavaFileObject getJavaFileForOutput(Location location, String className, JavaFileObject.Kind kind,
            FileObject sibling) {
          if (kind == JavaFileObject.Kind.SOURCE) {
            names.add(className);
          }
          return new MemoryFile(className, kind);
        }
      };
      JavaCompiler.CompilationTask task = javac.getTask(null, memory, d -> { }, List.of("-proc:only"), null,
          List.of(sources));
      task.setProcessors(List.of(new KilnProcessor()));
      task.call();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return names;
  }

  /** An output file kept in memory (and then dropped). */
  private static final class MemoryFile extends SimpleJavaFileObject {
    private final StringWriter text = new StringWriter();

    MemoryFile(String className, Kind kind) {
      super(URI.create("mem:///" + className.replace('.', '/') + kind.extension), kind);
    }

    @Override
    public OutputStream openOutputStream() {
      return new ByteArrayOutputStream();
    }

    @Override
    public Writer openWriter() {
      return text;
    }

    @Override
    public CharSequence getCharContent(boolean ignoreEncodingErrors) {
      return text.toString();
    }
  }
}
