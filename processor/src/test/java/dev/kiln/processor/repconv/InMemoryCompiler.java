package dev.kiln.processor.repconv;

import static com.google.common.truth.Truth.assertWithMessage;
import static com.google.testing.compile.Compiler.javac;

import com.google.testing.compile.Compilation;
import dev.kiln.processor.KilnProcessor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Compiles sources in memory with the Kiln processor and loads every class the compilation produced
 * (the user's interfaces and the generated classes) in a loader whose parent sees kiln-runtime.
 */
final class InMemoryCompiler {
  private InMemoryCompiler() {}

  /** Runs javac with {@link KilnProcessor}. */
  static Compilation compile(JavaFileObject... sources) {
    return javac().withProcessors(new KilnProcessor()).compile(sources);
  }

  /** Compiles, asserts success (printing the diagnostics otherwise) and returns a loader for the classes. */
  static ClassLoader compileAndLoad(JavaFileObject... sources) {
    Compilation compilation = compile(sources);
    assertWithMessage("compilation: %s", compilation.diagnostics())
        .that(compilation.status()).isEqualTo(Compilation.Status.SUCCESS);
    return loader(compilation);
  }

  /** A loader for every class file of {@code compilation}, by binary name. */
  static ClassLoader loader(Compilation compilation) {
    Map<String, byte[]> classes = new HashMap<>();
    String marker = "/CLASS_OUTPUT/";
    for (JavaFileObject f : compilation.generatedFiles()) {
      if (f.getKind() != JavaFileObject.Kind.CLASS) {
        continue;
      }
      String path = f.toUri().getPath();
      String binary = path.substring(path.indexOf(marker) + marker.length(), path.length() - ".class".length())
          .replace('/', '.');
      try (InputStream in = f.openInputStream()) {
        classes.put(binary, in.readAllBytes());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
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

  /** A new instance of {@code name} through its public no-arg constructor. */
  @SuppressWarnings("unchecked")
  static <T> T newInstance(ClassLoader loader, String name) {
    try {
      return (T) loader.loadClass(name).getConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("cannot instantiate " + name, e);
    }
  }

  /**
   * The source files the processor writes for {@code sources}, whether or not the compilation fails
   * (compile-testing hides generated files of a failed compilation): runs javac on the sources with
   * {@code -s} and {@code -d} in a temporary directory and lists what appeared under {@code -s}.
   */
  static List<String> generatedSourcesDespiteErrors(JavaFileObject... sources) {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    Path tmp = null;
    try {
      tmp = Files.createTempDirectory("kiln-diag");
      Path gen = Files.createDirectories(tmp.resolve("gen"));
      Path out = Files.createDirectories(tmp.resolve("out"));
      try (StandardJavaFileManager files = javac.getStandardFileManager(null, null, null)) {
        JavaCompiler.CompilationTask task = javac.getTask(null, files, d -> { }, List.of("-s", gen.toString(), "-d",
            out.toString(), "-classpath", System.getProperty("java.class.path")), null, List.of(sources));
        task.setProcessors(List.of(new KilnProcessor()));
        task.call();
      }
      try (Stream<Path> walk = Files.walk(gen)) {
        return walk.filter(Files::isRegularFile).map(p -> gen.relativize(p).toString()).sorted().toList();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteTree(tmp);
    }
  }

  private static void deleteTree(Path root) {
    if (root == null) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
