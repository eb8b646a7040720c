package dev.kiln.processor.validation;

/**
 * An annotation's attribute values by attribute name, as written or defaulted: what the validators read, from
 * the annotation mirror in the processor ({@code AnnotationReader}) or from plain values in tests.
 */
public interface AttributeValues {
  int intValue(String name);

  int[] intArray(String name);

  String stringValue(String name);

  boolean booleanValue(String name);

  /** An enum constant of type {@code type}. */
  <E extends Enum<E>> E enumValue(String name, Class<E> type);
}
