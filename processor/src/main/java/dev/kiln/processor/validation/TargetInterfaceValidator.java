package dev.kiln.processor.validation;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.NestingKind;
import javax.lang.model.element.TypeElement;
import javax.lang.model.element.VariableElement;
import javax.lang.model.type.DeclaredType;
import javax.lang.model.type.ExecutableType;
import javax.lang.model.type.TypeKind;
import javax.lang.model.type.TypeMirror;
import javax.lang.model.util.ElementFilter;
import javax.lang.model.util.Elements;
import javax.lang.model.util.Types;

/**
 * Checks that a generated class can implement the interface the user annotated: it is an interface that
 * the generated class in the same package can see and implement, and its methods fit the runtime base class
 * the generated class extends. The one validator that reads javac's elements (the base classes and
 * {@code dev.kiln.nn.Module} are read from the class path, never copied).
 */
public final class TargetInterfaceValidator {
  /** The module contract every generated class implements. */
  public static final String MODULE = "dev.kiln.nn.Module";

  private final Elements elements;
  private final Types types;

  public TargetInterfaceValidator(ProcessingEnvironment env) {
    this.elements = env.getElementUtils();
    this.types = env.getTypeUtils();
  }

  /**
   * A standalone layer's interface: {@link #checkTarget}, abstract methods only from
   * {@code dev.kiln.nn.Module}, and implementable by a subclass of each of {@code baseClasses}.
   */
  public boolean checkLayerInterface(Element element, String annotation, Report report, String... baseClasses) {
    if (!checkTarget(element, annotation, report)) {
      return false;
    }
    TypeElement type = (TypeElement) element;
    if (!checkOnlyModuleMethods(type, annotation, report)) {
      return false;
    }
    for (String base : baseClasses) {
      if (!checkImplementable(type, annotation, base, Set.of(), report)) {
        return false;
      }
    }
    return true;
  }

  /**
   * An interface, not private, not local, without type parameters: what a generated top-level class in the
   * same package can implement.
   */
  public boolean checkTarget(Element element, String annotation, Report report) {
    if (element.getKind() != ElementKind.INTERFACE) {
      report.error("", Messages.notAnInterface(annotation));
      return false;
    }
    TypeElement type = (TypeElement) element;
    if (!type.getTypeParameters().isEmpty()) {
      report.error("", Messages.genericTarget(annotation));
      return false;
    }
    for (Element e = type; e != null && e.getKind() != ElementKind.PACKAGE; e = e.getEnclosingElement()) {
      if (e.getModifiers().contains(Modifier.PRIVATE)) {
        report.error("", Messages.privateTarget(annotation, type.getSimpleName().toString()));
        return false;
      }
      if (e instanceof TypeElement t && t.getNestingKind() == NestingKind.LOCAL) {
        report.error("", Messages.localTarget(annotation));
        return false;
      }
    }
    return true;
  }

  /** The abstract methods {@code type} declares are all methods of {@code dev.kiln.nn.Module} (by name and arity). */
  private boolean checkOnlyModuleMethods(TypeElement type, String annotation, Report report) {
    TypeElement module = elements.getTypeElement(MODULE);
    if (module == null) {
      return true; // no runtime on the class path: javac reports the missing types
    }
    List<ExecutableElement> moduleMethods = ElementFilter.methodsIn(elements.getAllMembers(module));
    List<String> foreign = new ArrayList<>();
    for (ExecutableElement m : ElementFilter.methodsIn(type.getEnclosedElements())) {
      if (m.getModifiers().contains(Modifier.ABSTRACT) && moduleMethods.stream().noneMatch(mm ->
          mm.getEnclosingElement().getKind() == ElementKind.INTERFACE
              && mm.getSimpleName().contentEquals(m.getSimpleName())
              && mm.getParameters().size() == m.getParameters().size())) {
        foreign.add(m.getSimpleName().toString());
      }
    }
    if (!foreign.isEmpty()) {
      report.error("", Messages.foreignAbstractMethods(annotation, type.getSimpleName().toString(), foreign));
      return false;
    }
    return true;
  }

  /**
   * Checks that a class extending {@code baseClass} can implement {@code type}: every abstract method of
   * the interface (declared or inherited) is implemented by a public method of the base class with a
   * compatible return type, and no method of the interface clashes with one of the base class (a
   * non-public one, an incompatible return type, or a default the class also inherits from elsewhere).
   * Reports the offending methods and returns false otherwise.
   *
   * @param writtenByGenerator abstract methods the generated class itself implements (a model's layers)
   */
  public boolean checkImplementable(TypeElement type, String annotation, String baseClass,
      Set<ExecutableElement> writtenByGenerator, Report report) {
    List<String> bad = new ArrayList<>();
    for (ExecutableElement m : unimplementable(type, baseClass, writtenByGenerator)) {
      ExecutableType own = (ExecutableType) types.asMemberOf((DeclaredType) type.asType(), m);
      List<String> params = new ArrayList<>();
      own.getParameterTypes().forEach(t -> params.add(t.toString()));
      bad.add(m.getSimpleName() + "(" + String.join(", ", params) + ")");
    }
    if (!bad.isEmpty()) {
      report.error("", Messages.notImplementable(annotation, type.getSimpleName().toString(), baseClass, bad));
      return false;
    }
    return true;
  }

  /**
   * The methods of {@code type} (declared or inherited) that a class extending {@code baseClass} cannot
   * implement or that clash with it (see {@link #checkImplementable}), but {@code writtenByGenerator}.
   */
  public List<ExecutableElement> unimplementable(TypeElement type, String baseClass,
      Set<ExecutableElement> writtenByGenerator) {
    TypeElement base = elements.getTypeElement(baseClass);
    if (base == null) {
      return List.of(); // no runtime on the class path: javac reports the missing type
    }
    List<ExecutableElement> baseMethods = ElementFilter.methodsIn(elements.getAllMembers(base));
    List<ExecutableElement> bad = new ArrayList<>();
    for (ExecutableElement m : ElementFilter.methodsIn(elements.getAllMembers(type))) {
      Element owner = m.getEnclosingElement();
      if (m.getModifiers().contains(Modifier.STATIC) || m.getModifiers().contains(Modifier.PRIVATE)
          || owner.getKind() == ElementKind.CLASS || writtenByGenerator.contains(m)) {
        continue; // not inherited by the generated class, a java.lang.Object method, or written by Kiln
      }
      ExecutableType own = (ExecutableType) types.asMemberOf((DeclaredType) type.asType(), m);
      if (!fits(m, own, owner, baseMethods)) {
        bad.add(m);
      }
    }
    return bad;
  }

  /**
   * The methods of {@code type} (declared or inherited from its interfaces, not static) that a class
   * declaring {@code written} (signatures as {@code name(erasedType,...)}) would override or clash with,
   * but {@code writtenByGenerator}: the generated class must not take over a method the user wrote.
   */
  public List<ExecutableElement> takenOver(TypeElement type, Set<String> written,
      Set<ExecutableElement> writtenByGenerator) {
    List<ExecutableElement> taken = new ArrayList<>();
    for (ExecutableElement m : ElementFilter.methodsIn(elements.getAllMembers(type))) {
      if (m.getModifiers().contains(Modifier.STATIC) || !m.getEnclosingElement().getKind().isInterface()
          || writtenByGenerator.contains(m)) {
        continue;
      }
      List<String> params = new ArrayList<>();
      m.getParameters().forEach(p -> params.add(types.erasure(p.asType()).toString()));
      if (written.contains(m.getSimpleName() + "(" + String.join(",", params) + ")")) {
        taken.add(m);
      }
    }
    return taken;
  }

  /**
   * The methods without parameters that a subclass of {@code baseClass} inherits (from the class, its
   * superclasses and interfaces, {@code java.lang.Object} included), by name, each as
   * {@code declaringType.name()}: the names a method the subclass declares must not take.
   */
  public Map<String, String> inheritedNoArgMethods(String baseClass) {
    TypeElement base = elements.getTypeElement(baseClass);
    Map<String, String> names = new TreeMap<>();
    if (base != null) {
      for (ExecutableElement m : ElementFilter.methodsIn(elements.getAllMembers(base))) {
        if (m.getParameters().isEmpty() && !m.getModifiers().contains(Modifier.PRIVATE)) {
          names.putIfAbsent(m.getSimpleName().toString(),
              ((TypeElement) m.getEnclosingElement()).getQualifiedName() + "." + m.getSimpleName() + "()");
        }
      }
    }
    return names;
  }

  /** Whether the interface method {@code m} ({@code own} as a member of the interface) fits the base class. */
  private boolean fits(ExecutableElement m, ExecutableType own, Element owner, List<ExecutableElement> baseMethods) {
    ExecutableElement match = null;
    for (ExecutableElement bm : baseMethods) {
      if (!bm.getSimpleName().contentEquals(m.getSimpleName()) || !sameParameters(own, bm)) {
        continue;
      }
      Set<Modifier> mods = bm.getModifiers();
      if (!mods.contains(Modifier.STATIC)) {
        match = bm;
        break;
      }
      if (mods.contains(Modifier.PUBLIC) || mods.contains(Modifier.PROTECTED)) {
        // The generated class inherits the base class's static method, which javac will not let stand beside
        // (or implement) an interface's instance method of the same signature.
        return false;
      }
    }
    if (match == null) {
      return !m.getModifiers().contains(Modifier.ABSTRACT);
    }
    if (match.getEnclosingElement().getKind() != ElementKind.CLASS) {
      // The base class inherits this interface method as it is, or the interface overrides it with a default.
      return match.equals(m) || (!m.getModifiers().contains(Modifier.ABSTRACT)
          && types.isSubtype(types.erasure(owner.asType()), types.erasure(match.getEnclosingElement().asType())));
    }
    return match.getModifiers().contains(Modifier.PUBLIC)
        && !match.getModifiers().contains(Modifier.ABSTRACT)
        && returnSubstitutable(match.getReturnType(), own.getReturnType());
  }

  private boolean sameParameters(ExecutableType own, ExecutableElement bm) {
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

  private boolean returnSubstitutable(TypeMirror actual, TypeMirror declared) {
    if (declared.getKind() == TypeKind.VOID || declared.getKind().isPrimitive()) {
      return actual.getKind() == declared.getKind();
    }
    return types.isSubtype(actual, declared) || types.isSubtype(actual, types.erasure(declared));
  }
}
