package dev.kiln.processor.step;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.TypeSpec;
import dev.kiln.annotation.Reduction;
import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.element.Diagnostics;
import dev.kiln.processor.layer.LayerKind;
import dev.kiln.processor.layer.LayerKinds;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.model.ModelSpec;
import dev.kiln.processor.validation.KeyPrefixes;
import dev.kiln.processor.validation.Messages;
import dev.kiln.processor.validation.ModelValidator;
import dev.kiln.processor.validation.Report;
import dev.kiln.processor.validation.TargetInterfaceValidator;
import dev.kiln.processor.writing.GeneratedFiles;
import dev.kiln.processor.writing.GeneratedMembers;
import dev.kiln.processor.writing.ModelWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.annotation.processing.Messager;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.TypeElement;
import javax.lang.model.type.TypeMirror;
import javax.lang.model.util.ElementFilter;

/**
 * {@code @Model}: walks the layer methods in source order, infers each layer's input shape from the one
 * before through its {@link LayerKind}, and writes {@code FooModel}. The first inconsistent layer is the
 * error, reported on its method (and attribute where one is to blame).
 */
public final class ModelStep extends ProcessingStep {
  static final String ANNOTATION = "dev.kiln.annotation.Model";
  static final String SEQUENTIAL_MODEL = "dev.kiln.nn.SequentialModel";
  static final String KEY_PREFIX = "dev.kiln.annotation.KeyPrefix";

  private final GeneratedFiles files;

  public ModelStep(ProcessingEnvironment env, GeneratedFiles files) {
    super(env);
    this.files = files;
  }

  @Override
  public String annotation() {
    return ANNOTATION;
  }

  @Override
  protected void process(Element element, AnnotationReader model) {
    Messager messager = env.getMessager();
    Report report = new Report();
    if (!targets.checkTarget(element, "Model", report) || !ModelValidator.input(model.intArray("input"), report)) {
      Diagnostics.print(messager, element, model, report);
      return;
    }
    TypeElement type = (TypeElement) element;
    Optional<AnnotationReader> rDropAnnotation = AnnotationReader.of(type, RDropStep.ANNOTATION,
        env.getElementUtils());
    Optional<ModelSpec.RDropSpec> rDrop = rDropAnnotation.flatMap(r -> ModelValidator.rDrop(r.doubleValue("alpha"),
        r.enumValue("klReduction", Reduction.class), report));
    if (rDropAnnotation.isPresent() && rDrop.isEmpty()) {
      Diagnostics.print(messager, type, rDropAnnotation.get(), report);
      return;
    }
    List<ExecutableElement> methods = new ArrayList<>();
    for (ExecutableElement m : ElementFilter.methodsIn(type.getEnclosedElements())) {
      if (m.getModifiers().contains(Modifier.ABSTRACT)) {
        methods.add(m);
      }
    }
    if (methods.isEmpty()) {
      Diagnostics.error(messager, element, model, Messages.modelEmpty());
      return;
    }
    if (!checkMethods(type, model, methods)) {
      return;
    }
    List<LayerSpec> layers = new ArrayList<>();
    Map<String, String> keyPrefixes = new LinkedHashMap<>();
    int[] shape = model.intArray("input");
    for (ExecutableElement method : methods) {
      Optional<LayerSpec> layer = layer(method, shape);
      if (layer.isEmpty()) {
        return; // later layers depend on this one's shape: stop at the first inconsistency
      }
      if (!addKeyPrefix(method, keyPrefixes)) {
        return;
      }
      layers.add(layer.get());
      shape = layer.get().outShape();
    }
    ModelSpec spec = new ModelSpec(model.intArray("input"), layers, rDrop, keyPrefixes);
    ClassName generated = GeneratedFiles.nameFor(type, "Model");
    TypeSpec network = new ModelWriter(spec, ClassName.get(type), generated).write(
        "The network declared by {@link " + type.getQualifiedName() + "}.");
    if (checkGeneratedMembers(type, methods, network, generated)) {
      files.write(type, generated, network);
    }
  }

  /**
   * Adds the layer's state-dict key prefix ({@code @KeyPrefix}, else the method name) to {@code earlier} after
   * checking it against the prefixes there; false after reporting an error on the {@code @KeyPrefix} value (or
   * on the method when its name is the prefix).
   */
  private boolean addKeyPrefix(ExecutableElement method, Map<String, String> earlier) {
    String name = method.getSimpleName().toString();
    Optional<AnnotationReader> key = AnnotationReader.of(method, KEY_PREFIX, env.getElementUtils());
    if (key.isPresent() && key.get().hasErroneousValue()) {
      return false; // javac already reports the broken value
    }
    String prefix = key.map(k -> k.stringValue("value")).orElse(name);
    Optional<String> error = key.isPresent() ? KeyPrefixes.checkSyntax(prefix) : Optional.empty();
    if (error.isEmpty()) {
      error = KeyPrefixes.checkAgainstEarlier(name, prefix, earlier);
    }
    if (error.isEmpty()) {
      earlier.put(name, prefix);
      return true;
    }
    if (key.isPresent()) {
      Report report = new Report();
      report.error("value", error.get());
      Diagnostics.print(env.getMessager(), method, key.get(), report);
    } else {
      Diagnostics.error(env.getMessager(), method, error.get());
    }
    return false;
  }

  /**
   * Checks the methods Kiln writes into the network against the names the user chose: no layer named like
   * one of them, and no other method of the interface either (the network would override it).
   */
  private boolean checkGeneratedMembers(TypeElement type, List<ExecutableElement> layers, TypeSpec network,
      ClassName generated) {
    Messager messager = env.getMessager();
    boolean ok = true;
    Map<String, String> repeated = GeneratedMembers.repeatedNoArgMethods(network, generated);
    for (ExecutableElement method : layers) {
      String name = method.getSimpleName().toString();
      if (repeated.containsKey(name)) {
        Diagnostics.error(messager, method, Messages.layerNameTaken(name, repeated.get(name), "declares"));
        ok = false;
      }
    }
    return checkTakenOver(type, "Model", network, generated, Set.copyOf(layers)) && ok;
  }

  /**
   * Checks what the generated network can implement: every abstract method a layer declared in the
   * interface itself (an inherited one is reported on that method), each layer named so that the network's
   * members do not clash, and the interface's other methods compatible with the base class.
   */
  private boolean checkMethods(TypeElement type, AnnotationReader model, List<ExecutableElement> layers) {
    Messager messager = env.getMessager();
    boolean ok = true;
    Report report = new Report();
    List<ExecutableElement> misfits = targets.unimplementable(type, SEQUENTIAL_MODEL, Set.copyOf(layers));
    for (ExecutableElement m : misfits) {
      if (m.getModifiers().contains(Modifier.ABSTRACT) && !m.getEnclosingElement().equals(type)) {
        Diagnostics.error(messager, m, Messages.layerInherited(type.getSimpleName().toString(),
            m.getSimpleName().toString(), ((TypeElement) m.getEnclosingElement()).getQualifiedName().toString()));
        ok = false;
      }
    }
    if (ok && !misfits.isEmpty()) {
      targets.checkImplementable(type, "Model", SEQUENTIAL_MODEL, Set.copyOf(layers), report);
      Diagnostics.print(messager, type, model, report);
      ok = false;
    }
    Map<String, String> inherited = targets.inheritedNoArgMethods(SEQUENTIAL_MODEL);
    for (ExecutableElement method : layers) {
      String name = method.getSimpleName().toString();
      if (Character.isUpperCase(name.codePointAt(0)) || Character.isTitleCase(name.codePointAt(0))) {
        Diagnostics.error(messager, method, Messages.layerNameCase(name));
        ok = false;
      } else if (inherited.containsKey(name)) {
        Diagnostics.error(messager, method, Messages.layerNameTaken(name, inherited.get(name), "inherits"));
        ok = false;
      }
    }
    return ok;
  }

  /** The layer {@code method} declares, receiving {@code in}; empty after reporting why there is none. */
  private Optional<LayerSpec> layer(ExecutableElement method, int[] in) {
    Messager messager = env.getMessager();
    String name = method.getSimpleName().toString();
    TypeMirror module = env.getElementUtils().getTypeElement(TargetInterfaceValidator.MODULE).asType();
    if (!method.getParameters().isEmpty() || !method.getTypeParameters().isEmpty()
        || !env.getTypeUtils().isSameType(method.getReturnType(), module)) {
      Diagnostics.error(messager, method, Messages.layerSignature(name));
      return Optional.empty();
    }
    List<LayerKind> kinds = new ArrayList<>();
    AnnotationReader annotation = null;
    for (LayerKind kind : LayerKinds.ALL) {
      Optional<AnnotationReader> found = AnnotationReader.of(method, kind.qualifiedAnnotation(), env.getElementUtils());
      if (found.isPresent()) {
        kinds.add(kind);
        annotation = found.get();
      }
    }
    if (kinds.size() != 1) {
      Diagnostics.error(messager, method, Messages.layerCount(name, kinds.size(), LayerKinds.annotations()));
      return Optional.empty();
    }
    if (annotation.hasErroneousValue()) {
      return Optional.empty(); // javac already reports the broken value
    }
    Report report = new Report();
    Optional<LayerSpec> layer = kinds.get(0).infer(name, in, annotation, report);
    if (layer.isEmpty() || !report.isClean()) {
      Diagnostics.print(messager, method, annotation, report);
      return Optional.empty();
    }
    return layer;
  }
}
