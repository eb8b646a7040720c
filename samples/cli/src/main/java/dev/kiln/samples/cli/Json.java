package dev.kiln.samples.cli;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes JSON from maps (objects, in their iteration order), lists and {@code double[]} (arrays), strings,
 * numbers, booleans and null. A non-finite number is written as {@code null}.
 */
final class Json {
  private Json() {}

  /** {@code value} as indented JSON text. */
  static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(out, value, 0);
    return out.append('\n').toString();
  }

  private static void write(StringBuilder out, Object value, int indent) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof String s) {
      quote(out, s);
    } else if (value instanceof Boolean) {
      out.append(value);
    } else if (value instanceof Integer || value instanceof Long) {
      out.append(value);
    } else if (value instanceof Number n) {
      number(out, n.doubleValue());
    } else if (value instanceof double[] a) {
      out.append('[');
      for (int i = 0; i < a.length; i++) {
        out.append(i == 0 ? "" : ", ");
        number(out, a[i]);
      }
      out.append(']');
    } else if (value instanceof List<?> list) {
      boolean flat = list.stream().noneMatch(v -> v instanceof Map || v instanceof List);
      out.append('[');
      for (int i = 0; i < list.size(); i++) {
        out.append(i == 0 ? "" : ",");
        if (flat) {
          out.append(i == 0 ? "" : " ");
        } else {
          newline(out, indent + 1);
        }
        write(out, list.get(i), indent + 1);
      }
      if (!flat && !list.isEmpty()) {
        newline(out, indent);
      }
      out.append(']');
    } else if (value instanceof Map<?, ?> map) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        out.append(first ? "" : ",");
        first = false;
        newline(out, indent + 1);
        quote(out, String.valueOf(e.getKey()));
        out.append(": ");
        write(out, e.getValue(), indent + 1);
      }
      if (!map.isEmpty()) {
        newline(out, indent);
      }
      out.append('}');
    } else {
      throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as JSON");
    }
  }

  private static void newline(StringBuilder out, int indent) {
    out.append('\n').append("  ".repeat(indent));
  }

  private static void number(StringBuilder out, double v) {
    if (!Double.isFinite(v)) {
      out.append("null");
    } else if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      out.append((long) v);
    } else {
      out.append(Double.toString(v));
    }
  }

  private static void quote(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
