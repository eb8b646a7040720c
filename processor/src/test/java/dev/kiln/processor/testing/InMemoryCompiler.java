package dev.kiln.processor.testing;

import static com.google.common.truth.Truth.assertWithMessage;
import static com.google.testing.compile.Compiler.javac;

import com.google.testing.compile.Compilation;
import dev.kiln.processor.KilnProcessor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.annotation.processing.Filer;
import javax.annotation.processing.ProcessingEnvironment;
import javax.annotation.processing.Processor;
import javax.tools.Diagnostic;
import javax.tools.JavaFileObject;

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
   * The qualified names of the source files the processor generated for {@code sources}, whether or not the
   * compilation succeeded (compile-testing hides the files of a failed compilation: the processor's
   * {@link Filer} is watched instead).
   */
  public static Set<String> generatedSourceNames(JavaFileObject... sources) {
    Set<String> names = new TreeSet<>();
    javac().withProcessors(watched(new KilnProcessor(), names)).withOptions("-proc:only").compile(sources);
    return names;
  }

  /**
   * {@code delegate} with the source files it creates recorded by name in {@code names}: every call goes to the
   * delegate, {@code init} with an environment whose {@link Filer} records them.
   */
  private static Processor watched(Processor delegate, Set<String> names) {
    return forwarding(Processor.class, (proxy, method, args) -> {
      if (!method.getName().equals("init")) {
        return invoke(method, delegate, args);
      }
      ProcessingEnvironment env = (ProcessingEnvironment) args[0];
      Filer filer = env.getFiler();
      Filer watching = forwarding(Filer.class, (filerProxy, filerMethod, filerArgs) -> {
        if (filerMethod.getName().equals("createSourceFile")) {
          names.add(filerArgs[0].toString());
        }
        return invoke(filerMethod, filer, filerArgs);
      });
      delegate.init(forwarding(ProcessingEnvironment.class, (envProxy, envMethod, envArgs) ->
          envMethod.getName().equals("getFiler") ? watching : invoke(envMethod, env, envArgs)));
      return null;
    });
  }

  /** A proxy implementing {@code type} whose every call goes to {@code handler}. */
  private static <T> T forwarding(Class<T> type, InvocationHandler handler) {
    return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
  }

  /** Calls {@code method} on {@code target}, rethrowing what it throws as it is. */
  private static Object invoke(Method method, Object target, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
