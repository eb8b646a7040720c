package dev.kiln.processor.step;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.TypeSpec;
import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.processor.model.ConvSpec;
import dev.kiln.processor.validation.ConvValidator;
import dev.kiln.processor.validation.Messages;
import dev.kiln.processor.validation.Report;
import dev.kiln.processor.writing.ConvKernelWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.AnnotationMirror;
import javax.lang.model.element.AnnotationValue;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.TypeElement;
import javax.lang.model.element.VariableElement;
import javax.lang.model.type.ArrayType;
import javax.lang.model.type.ExecutableType;
import javax.lang.model.type.TypeKind;
import javax.lang.model.type.TypeMirror;
import javax.lang.model.util.ElementFilter;
import javax.lang.model.util.Elements;
import javax.lang.model.util.Types;
import javax.tools.Diagnostic;

/** {@code @Conv2d} on an interface: validate, resolve a {@link ConvSpec}, write {@code FooKernel}. */
public final class Conv2dStep implements Step {
  public static final String ANNOTATION = "dev.kiln.annotation.Conv2d";
  static final String CONV_KERNEL = "dev.kiln.nn.ConvKernel";

  private final ProcessingEnvironment env;

  public Conv2dStep(ProcessingEnvironment env) {
    this.env = env;
  }

  @Override
  public String annotation() {
    return ANNOTATION;
  }

  /** Reads the raw values of a {@code @Conv2d}, with input-shape overrides from a model (may be null). */
  public static ConvValidator.Request request(AnnotationReader r, Integer inChannels, Integer height, Integer width) {
    return new ConvValidator.Request(
        inChannels != null ? inChannels : r.explicitInt("inChannels"),
        r.intValue("outChannels"),
        r.intArray("kernelSize"),
        r.intArray("stride"),
        r.stringValue("padding"),
        r.intArray("dilation"),
        r.intValue("groups"),
        r.booleanValue("bias"),
        r.enumValue("paddingMode", PaddingMode.class),
        height != null ? height : r.explicitInt("height"),
        width != null ? width : r.explicitInt("width"),
        r.enumValue("activation", Activation.class));
  }

  @Override
  public void process(Element element) {
    AnnotationReader reader = AnnotationReader.of(element, ANNOTATION, env.getElementUtils()).orElseThrow();
    if (hasErroneousValue(reader.mirror())) {
      return; // javac already reports the broken value (e.g. an unknown constant)
    }
    if (element.getKind() == ElementKind.METHOD) {
      ModelStep.checkLayerContext(env, element, "Conv2d"); // inside a @Model, ModelStep handles it
      return;
    }
    Report report = new Report();
    if (!Steps.checkLayerInterface(element, "Conv2d", report)
        || !checkImplementable(env, (TypeElement) element, "Conv2d", CONV_KERNEL, report)) {
      Diagnostics.print(env.getMessager(), element, reader, report);
      return;
    }
    Optional<ConvSpec> spec = ConvValidator.validate(request(reader, null, null, null), report);
    if (!report.isClean() || spec.isEmpty()) {
      Diagnostics.print(env.getMessager(), element, reader, report);
      return;
    }
    TypeElement type = (TypeElement) element;
    ClassName generated = Steps.generatedName(type, "Kernel");
    TypeSpec kernel = new ConvKernelWriter(spec.get())
        .write(generated.simpleName(), ClassName.get(type), false,
            "The specialized kernel for {@link " + type.getQualifiedName() + "}.");
    Steps.writeSource(env, type, generated, kernel);
  }

  /**
   * Whether javac left an erroneous value in the annotation (an unresolved constant, say). javac reports
   * those itself; reading them would only add a confusing second error.
   */
  public static boolean hasErroneousValue(AnnotationMirror mirror) {
    for (Map.Entry<? extends ExecutableElement, ? extends AnnotationValue> e : mirror.getElementValues().entrySet()) {
      if (!wellTyped(e.getKey().getReturnType(), e.getValue())) {
        return true;
      }
    }
    return false;
  }

  private static boolean wellTyped(TypeMirror type, AnnotationValue value) {
    Object v = value.getValue();
    switch (type.getKind()) {
      case INT:
        return v instanceof Integer;
      case LONG:
        return v instanceof Long;
      case DOUBLE:
        return v instanceof Double;
      case FLOAT:
        return v instanceof Float;
      case BOOLEAN:
        return v instanceof Boolean;
      case ARRAY:
        if (!(v instanceof List)) {
          return false;
        }
        for (Object item : (List<?>) v) {
          if (!(item instanceof AnnotationValue)
              || !wellTyped(((ArrayType) type).getComponentType(), (AnnotationValue) item)) {
            return false;
          }
        }
        return true;
      case DECLARED:
        // javac's stand-in for a broken value reads as the bare text <error> (a real string prints quoted).
        return !"<error>".equals(value.toString()) && (v instanceof String || v instanceof VariableElement
            || v instanceof TypeMirror || v instanceof AnnotationMirror);
      default:
        return true;
    }
  }

  /**
   * Checks that a class extending {@code baseClass} can implement {@code type}: every abstract method of
   * the interface (declared or inherited) is implemented by a public method of the base class with a
   * compatible return type, and no method of the interface clashes with one of the base class (a
   * non-public one, an incompatible return type, or a default the kernel also inherits from elsewhere).
   * Reports the offending methods and returns false otherwise.
   */
  public static boolean checkImplementable(ProcessingEnvironment env, TypeElement type, String annotation,
      String baseClass, Report report) {
    Elements elements = env.getElementUtils();
    Types types = env.getTypeUtils();
    TypeElement base = elements.getTypeElement(baseClass);
    if (base == null) {
      return true; // no runtime on the class path: javac reports the missing type
    }
    List<ExecutableElement> baseMethods = ElementFilter.methodsIn(elements.getAllMembers(base));
    List<String> bad = new ArrayList<>();
    for (ExecutableElement m : ElementFilter.methodsIn(elements.getAllMembers(type))) {
      Element owner = m.getEnclosingElement();
      if (m.getModifiers().contains(Modifier.STATIC) || m.getModifiers().contains(Modifier.PRIVATE)
          || owner.getKind() == ElementKind.CLASS) {
        continue; // not inherited by the kernel, or a java.lang.Object method
      }
      ExecutableType own = (ExecutableType) types.asMemberOf((javax.lang.model.type.DeclaredType) type.asType(), m);
      ExecutableElement match = null;
      for (ExecutableElement bm : baseMethods) {
        if (bm.getSimpleName().contentEquals(m.getSimpleName()) && !bm.getModifiers().contains(Modifier.STATIC)
            && sameParameters(types, own, bm)) {
          match = bm;
          break;
        }
      }
      boolean ok;
      if (match == null) {
        ok = !m.getModifiers().contains(Modifier.ABSTRACT);
      } else if (match.getEnclosingElement().getKind() != ElementKind.CLASS) {
        // The base class inherits this interface method as it is, or the interface overrides it with a default.
        ok = match.equals(m) || (!m.getModifiers().contains(Modifier.ABSTRACT)
            && types.isSubtype(types.erasure(owner.asType()), types.erasure(match.getEnclosingElement().asType())));
      } else {
        ok = match.getModifiers().contains(Modifier.PUBLIC)
            && !match.getModifiers().contains(Modifier.ABSTRACT)
            && returnSubstitutable(types, match.getReturnType(), own.getReturnType());
      }
      if (!ok) {
        List<String> params = new ArrayList<>();
        own.getParameterTypes().forEach(t -> params.add(t.toString()));
        bad.add(m.getSimpleName() + "(" + String.join(", ", params) + ")");
      }
    }
    if (!bad.isEmpty()) {
      report.error("", Messages.notImplementable(annotation, type.getSimpleName().toString(), baseClass, bad));
      return false;
    }
    return true;
  }

  private static boolean sameParameters(Types types, ExecutableType own, ExecutableElement bm) {
    List<? extends TypeMirror> a = own.getParameterTypes();
    List<? extends VariableElement> b = bm.getParameters();
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!types.isSameType(types.erasure(a.get(i)), types.erasure(b.get(i).asType()))) {
        return false;
      }
    }
    return true;
  }

  private static boolean returnSubstitutable(Types types, TypeMirror actual, TypeMirror declared) {
    if (declared.getKind() == TypeKind.VOID || declared.getKind().isPrimitive()) {
      return actual.getKind() == declared.getKind();
    }
    return types.isSubtype(actual, declared) || types.isSubtype(actual, types.erasure(declared));
  }
}
