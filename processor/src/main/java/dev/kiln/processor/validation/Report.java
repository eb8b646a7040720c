package dev.kiln.processor.validation;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The errors found while validating one annotation, each tied to the attribute it is about. */
public final class Report {
  /** One error: {@code attribute} is the annotation attribute to point at, or empty for the whole annotation. */
  public record Item(String attribute, String message) {}

  private final List<Item> items = new ArrayList<>();

  /** Adds an error about {@code attribute} (empty string: the annotation as a whole). */
  public void error(String attribute, String message) {
    items.add(new Item(attribute, message));
  }

  public boolean isClean() {
    return items.isEmpty();
  }

  public List<Item> items() {
    return Collections.unmodifiableList(items);
  }

  @Override
  public String toString() {
    return "Report" + items;
  }
}
