package dev.kiln.processor.element;

import dev.kiln.processor.validation.AttributeValues;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.lang.model.element.AnnotationMirror;
import javax.lang.model.element.AnnotationValue;
import javax.lang.model.element.Element;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.TypeElement;
import javax.lang.model.element.VariableElement;
import javax.lang.model.type.ArrayType;
import javax.lang.model.type.TypeMirror;
import javax.lang.model.util.Elements;

/**
 * Reads one annotation's values through the mirror API (never by loading the annotation class), telling
 * explicit values from defaults and remembering each value's position for diagnostics.
 */
public final class AnnotationReader implements AttributeValues {
  private final AnnotationMirror mirror;
  private final Map<? extends ExecutableElement, ? extends AnnotationValue> explicit;
  private final Map<? extends ExecutableElement, ? extends AnnotationValue> all;

  private AnnotationReader(AnnotationMirror mirror, Elements elements) {
    this.mirror = mirror;
    this.explicit = mirror.getElementValues();
    this.all = elements.getElementValuesWithDefaults(mirror);
  }

  /** The reader for the annotation named {@code qualifiedName} on {@code element}, if present. */
  public static Optional<AnnotationReader> of(Element element, String qualifiedName, Elements elements) {
    for (AnnotationMirror m : element.getAnnotationMirrors()) {
      TypeElement type = (TypeElement) m.getAnnotationType().asElement();
      if (type.getQualifiedName().contentEquals(qualifiedName)) {
        return Optional.of(new AnnotationReader(m, elements));
      }
    }
    return Optional.empty();
  }

  public AnnotationMirror mirror() {
    return mirror;
  }

  /**
   * Whether javac left an erroneous value in the annotation (an unresolved constant, say). javac reports
   * those itself; reading them would only add a confusing second error.
   */
  public boolean hasErroneousValue() {
    for (Map.Entry<? extends ExecutableElement, ? extends AnnotationValue> e : explicit.entrySet()) {
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

  private AnnotationValue find(Map<? extends ExecutableElement, ? extends AnnotationValue> map, String name) {
    for (Map.Entry<? extends ExecutableElement, ? extends AnnotationValue> e : map.entrySet()) {
      if (e.getKey().getSimpleName().contentEquals(name)) {
        return e.getValue();
      }
    }
    return null;
  }

  /** Whether the user wrote {@code name = ...}. */
  public boolean isExplicit(String name) {
    return find(explicit, name) != null;
  }

  /** The value as written, for pointing diagnostics at it; empty when it is a default. */
  public Optional<AnnotationValue> explicitValue(String name) {
    return Optional.ofNullable(find(explicit, name));
  }

  private Object raw(String name) {
    AnnotationValue v = find(all, name);
    if (v == null) {
      throw new IllegalArgumentException("no attribute " + name + " on " + mirror);
    }
    return v.getValue();
  }

  @Override
  public int intValue(String name) {
    return ((Number) raw(name)).intValue();
  }

  /** The value if written explicitly, else {@code null}. */
  public Integer explicitInt(String name) {
    return isExplicit(name) ? intValue(name) : null;
  }

  public double doubleValue(String name) {
    return ((Number) raw(name)).doubleValue();
  }

  @Override
  public boolean booleanValue(String name) {
    return (Boolean) raw(name);
  }

  @Override
  public String stringValue(String name) {
    return (String) raw(name);
  }

  @Override
  public int[] intArray(String name) {
    List<?> values = (List<?>) raw(name);
    int[] out = new int[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ((Number) ((AnnotationValue) values.get(i)).getValue()).intValue();
    }
    return out;
  }

  /** An enum constant of type {@code type} by name. */
  @Override
  public <E extends Enum<E>> E enumValue(String name, Class<E> type) {
    VariableElement constant = (VariableElement) raw(name);
    return Enum.valueOf(type, constant.getSimpleName().toString());
  }
}
