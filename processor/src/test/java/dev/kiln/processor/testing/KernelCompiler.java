package dev.kiln.processor.testing;

import static com.google.testing.compile.Compiler.javac;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.nn.ConvKernel;
import dev.kiln.processor.KilnProcessor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.tools.JavaFileObject;

/**
 * Compiles annotated sources in memory with the Kiln processor and loads the resulting classes (the
 * user's interfaces and the generated kernels) in a class loader whose parent sees kiln-runtime.
 */
public final class KernelCompiler {
  private KernelCompiler() {}

  /** Runs javac with {@link KilnProcessor} and every lint warning on {@code sources}. */
  public static Compilation compile(JavaFileObject... sources) {
    return javac().withProcessors(new KilnProcessor()).withOptions("-Xlint:all", "-Xlint:-processing").compile(sources);
  }

  /**
   * One source file {@code pkg.outer} declaring every case as a nested interface named after the case;
   * the kernel of case {@code c} is {@code pkg.outer_<c.name()>Kernel}.
   */
  public static JavaFileObject source(String pkg, String outer, List<ConvCase> cases) {
    StringBuilder sb = new StringBuilder();
    sb.append("package ").append(pkg).append(";\n\n");
    sb.append("public interface ").append(outer).append(" {\n");
    for (ConvCase c : cases) {
      sb.append("  ").append(c.annotation()).append('\n');
      sb.append("  interface ").append(c.name()).append(" {}\n\n");
    }
    sb.append("}\n");
    return JavaFileObjects.forSourceString(pkg + "." + outer, sb.toString());
  }

  /** A loader for every class file the compilation produced. */
  public static ClassLoader loader(Compilation compilation) {
    Map<String, byte[]> classes = new HashMap<>();
    for (JavaFileObject f : compilation.generatedFiles()) {
      if (f.getKind() != JavaFileObject.Kind.CLASS) {
        continue;
      }
      String path = f.toUri().getPath();
      int at = path.indexOf("/CLASS_OUTPUT/");
      String binary = path.substring(at + "/CLASS_OUTPUT/".length(), path.length() - ".class".length())
          .replace('/', '.');
      try (InputStream in = f.openInputStream()) {
        classes.put(binary, in.readAllBytes());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return new ClassLoader(KernelCompiler.class.getClassLoader()) {
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

  /**
   * Runs javac with {@link KilnProcessor} directly (not through compile-testing, which hides the outputs of
   * a failed compilation) and returns the qualified names of the generated source files, whether or not
   * the compilation succeeded.
   */
  public static java.util.Set<String> generatedSourceNames(JavaFileObject... sources) {
    javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
    java.util.Set<String> names = new java.util.TreeSet<>();
    javax.tools.StandardJavaFileManager standard = javac.getStandardFileManager(null, null, null);
    javax.tools.JavaFileManager memory = new javax.tools.ForwardingJavaFileManager<>(standard) {
      @Override
      public JavaFileObject getJavaFileForOutput(Location location, String className, JavaFileObject.Kind kind,
          javax.tools.FileObject sibling) {
        if (kind == JavaFileObject.Kind.SOURCE) {
          names.add(className);
        }
        return new javax.tools.SimpleJavaFileObject(
            java.net.URI.create("mem:///" + className.replace('.', '/') + kind.extension), kind) {
          private final java.io.StringWriter text = new java.io.StringWriter();

          @Override
          public java.io.OutputStream openOutputStream() {
            return new java.io.ByteArrayOutputStream();
          }

          @Override
          public java.io.Writer openWriter() {
            return text;
          }

          @Override
          public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return text.toString();
          }
        };
      }
    };
    javax.tools.JavaCompiler.CompilationTask task = javac.getTask(null, memory, d -> { }, List.of("-proc:only"),
        null, List.of(sources));
    task.setProcessors(List.of(new KilnProcessor()));
    task.call();
    return names;
  }

  /** Every class file the compilation produced, by binary name. */
  public static Map<String, byte[]> classFiles(Compilation compilation) {
    Map<String, byte[]> classes = new HashMap<>();
    for (JavaFileObject f : compilation.generatedFiles()) {
      if (f.getKind() == JavaFileObject.Kind.CLASS) {
        try (InputStream in = f.openInputStream()) {
          classes.put(f.toUri().getPath(), in.readAllBytes());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    return classes;
  }

  /** A new instance (no-arg constructor) of the kernel generated for {@code c} in {@code pkg.outer}. */
  public static ConvKernel kernel(ClassLoader loader, String pkg, String outer, ConvCase c) {
    try {
      Class<?> type = loader.loadClass(pkg + "." + outer + "_" + c.name() + "Kernel");
      return (ConvKernel) type.getConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("cannot instantiate the kernel of " + c, e);
    }
  }
}
