package dev.kiln.io;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The one small JSON writer and reader of Kiln: safetensors headers, checkpoint metadata and the command
 * line's report all go through it, so a string is escaped the same way everywhere.
 *
 * <p><b>Writing</b> takes {@link Map}s (objects, in iteration order, keys by {@code String.valueOf}),
 * {@link Collection}s and {@code double[]}/{@code int[]}/{@code long[]} (arrays), {@link String}s,
 * {@link Boolean}s, {@link Number}s and {@code null}. Integral numbers are written as they are; a
 * {@code float} or {@code double} that is whole and below 10^15 in magnitude is written without a fraction,
 * other finite values in Java's shortest round-trip form, and NaN and the infinities as {@code null}.
 *
 * <p><b>Reading</b> is strict and accepts a subset: objects (keys unique, order kept), arrays, strings (all
 * JSON escapes, {@code \}{@code uXXXX} with paired surrogates) and integers that fit a {@code long}.
 * Anything else (fractions, exponents, {@code true}/{@code false}/{@code null}, leading zeros, raw control
 * characters, unpaired surrogates, nesting deeper than {@link #MAX_DEPTH}) is an {@link IOException} naming
 * the character position. Values are returned as {@code Map<String, Object>} (a {@link LinkedHashMap}),
 * {@code List<Object>}, {@code String} and {@code Long}.
 */
public final class Json {
  /** Deepest allowed nesting of objects and arrays when reading; a safetensors header needs 3. */
  public static final int MAX_DEPTH = 64;

  /**
   * The characters with a two-character escape in a JSON string, and at the same index the letter that follows
   * the backslash: {@code \"}, {@code \\}, {@code \/}, {@code \b}, {@code \f}, {@code \n}, {@code \r},
   * {@code \t}. Reading accepts each; writing uses each but {@code \/}.
   */
  private static final String ESCAPED = "\"\\/\b\f\n\r\t";
  private static final String ESCAPE_LETTERS = "\"\\/bfnrt";

  private Json() {}

  /** {@code s} as a JSON string literal: quotes, backslashes and control characters escaped, the rest as is. */
  public static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2);
    quote(sb, s);
    return sb.toString();
  }

  /** The most characters of a string that {@link #quoteBrief} keeps. */
  public static final int BRIEF_CHARS = 200;

  /**
   * {@code s} as {@link #quote} gives it, but cut after its first {@value #BRIEF_CHARS} characters (not inside a
   * surrogate pair) and marked {@code ...} inside the quotes: for error messages that name a key or value read
   * from a file, which a hostile file can make as long as it likes.
   */
  public static String quoteBrief(String s) {
    if (s.length() <= BRIEF_CHARS) {
      return quote(s);
    }
    int end = Character.isHighSurrogate(s.charAt(BRIEF_CHARS - 1)) ? BRIEF_CHARS - 1 : BRIEF_CHARS;
    return quote(s.substring(0, end) + "...");
  }

  /** {@code value} as compact JSON text (no whitespace). */
  public static String write(Object value) {
    StringBuilder out = new StringBuilder();
    new Writer(out, false).value(value, 0);
    return out.toString();
  }

  /**
   * {@code value} as JSON text indented by two spaces per level and ending with a newline; arrays of
   * numbers and strings stay on one line.
   */
  public static String writeIndented(Object value) {
    StringBuilder out = new StringBuilder();
    new Writer(out, true).value(value, 0);
    return out.append('\n').toString();
  }

  /**
   * Parses {@code text}, which must start with {@code '{'} (no leading whitespace) and hold exactly one JSON
   * object followed by nothing but JSON whitespace.
   *
   * @throws IOException if the text is not such an object of the accepted subset
   */
  public static Map<String, Object> parseObject(String text) throws IOException {
    return parseObject(text, "text");
  }

  /** As {@link #parseObject(String)}; {@code what} names the text in messages ("the header"). */
  static Map<String, Object> parseObject(String text, String what) throws IOException {
    Map<String, Object> result = new LinkedHashMap<>();
    parseMembers(text, what, new MemberConsumer() {
      @Override
      public void accept(String key, Object value) {
        result.put(key, value);
      }
    });
    return result;
  }

  /** Text that is not JSON of the accepted subset (as opposed to a failure of a {@link MemberConsumer}). */
  static final class SyntaxException extends IOException {
    private static final long serialVersionUID = 1L;

    SyntaxException(String message) {
      super(message);
    }
  }

  /** Parsed values that would take more memory than allowed. */
  static final class BudgetException extends IOException {
    private static final long serialVersionUID = 1L;

    BudgetException(String message) {
      super(message);
    }
  }

  /** Receives the members of the top-level object one by one. */
  @FunctionalInterface
  interface MemberConsumer {
    void accept(String key, Object value) throws IOException;
  }

  /**
   * Parses {@code text} as {@link #parseObject(String, String)} does, but hands each top-level member to
   * {@code consumer} as soon as it is read instead of collecting them, so the caller can check and
   * convert each one and let the parsed form go.
   */
  static void parseMembers(String text, String what, MemberConsumer consumer) throws IOException {
    parseMembers(text, what, Long.MAX_VALUE, consumer);
  }

  /**
   * As {@link #parseMembers(String, String, MemberConsumer)}, counting an estimate of the bytes the parsed
   * values take (objects, arrays, strings and integers as a 64-bit JVM with compressed references lays them
   * out, rounded up); a text whose values would take more than {@code budget} bytes is a
   * {@link BudgetException}, raised before the value that exceeds it is built.
   */
  static void parseMembers(String text, String what, long budget, MemberConsumer consumer) throws IOException {
    parseMembers(text.toCharArray(), text.length(), what, budget, consumer);
  }

  /**
   * As {@link #parseMembers(String, String, long, MemberConsumer)}, over the first {@code length} characters of
   * {@code text}. The parser reads characters from an array: a safetensors header is parsed in the interpreter on
   * the way to a network's first result, where each {@code String.charAt} is three interpreted calls.
   */
  static void parseMembers(char[] text, int length, String what, long budget, MemberConsumer consumer)
      throws IOException {
    Parser parser = new Parser(text, length, what, budget);
    if (length == 0 || text[0] != '{') {
      throw parser.error("the " + what + " must be a JSON object starting with '{'");
    }
    parser.topLevel(consumer);
    parser.skipWhitespace();
    if (parser.pos != length) {
      throw parser.error("trailing characters after the JSON object");
    }
  }

  private static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      int escape = c == '/' ? -1 : ESCAPED.indexOf(c);
      if (escape >= 0) {
        sb.append('\\').append(ESCAPE_LETTERS.charAt(escape));
      } else if (c < 0x20) {
        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    sb.append('"');
  }

  /** Writes one value, compact or indented. */
  private static final class Writer {
    private final StringBuilder out;
    private final boolean indented;

    Writer(StringBuilder out, boolean indented) {
      this.out = out;
      this.indented = indented;
    }

    void value(Object value, int depth) {
      if (value == null) {
        out.append("null");
      } else if (value instanceof String s) {
        quote(out, s);
      } else if (value instanceof Boolean) {
        out.append(value);
      } else if (value instanceof Double || value instanceof Float) {
        number(((Number) value).doubleValue(), value instanceof Float);
      } else if (value instanceof Number) {
        out.append(value);
      } else if (value instanceof Map<?, ?> map) {
        object(map, depth);
      } else if (value instanceof Collection<?> list) {
        array(new ArrayList<>(list), depth);
      } else if (value instanceof double[] a) {
        List<Object> list = new ArrayList<>(a.length);
        for (double v : a) {
          list.add(v);
        }
        array(list, depth);
      } else if (value instanceof int[] a) {
        array(java.util.Arrays.stream(a).boxed().toList(), depth);
      } else if (value instanceof long[] a) {
        array(java.util.Arrays.stream(a).boxed().toList(), depth);
      } else {
        throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as JSON");
      }
    }

    private void object(Map<?, ?> map, int depth) {
      out.append('{');
      String separator = "";
      for (Map.Entry<?, ?> e : map.entrySet()) {
        out.append(separator);
        separator = ",";
        newline(depth + 1);
        quote(out, String.valueOf(e.getKey()));
        out.append(indented ? ": " : ":");
        value(e.getValue(), depth + 1);
      }
      if (!map.isEmpty()) {
        newline(depth);
      }
      out.append('}');
    }

    private void array(List<?> list, int depth) {
      boolean flat = list.stream().noneMatch(v -> v instanceof Map || v instanceof Collection
          || (v != null && v.getClass().isArray()));
      out.append('[');
      for (int i = 0; i < list.size(); i++) {
        if (i > 0) {
          out.append(indented && flat ? ", " : ",");
        }
        if (!flat) {
          newline(depth + 1);
        }
        value(list.get(i), depth + 1);
      }
      if (!flat && !list.isEmpty()) {
        newline(depth);
      }
      out.append(']');
    }

    private void newline(int depth) {
      if (indented) {
        out.append('\n').append("  ".repeat(depth));
      }
    }

    private void number(double v, boolean isFloat) {
      if (!Double.isFinite(v)) {
        out.append("null");
      } else if (v == Math.rint(v) && Math.abs(v) < 1e15) {
        out.append((long) v);
      } else {
        out.append(isFloat ? Float.toString((float) v) : Double.toString(v));
      }
    }
  }

  /** The strict reader of the accepted subset. */
  private static final class Parser {
    /** A {@code LinkedHashMap} with its first table. */
    private static final int OBJECT_BYTES = 144;
    /** One map entry, and its share of a grown table. */
    private static final int MEMBER_BYTES = 48;
    /** An {@code ArrayList} with its first array. */
    private static final int ARRAY_BYTES = 80;
    /** One list slot, grown by half. */
    private static final int ELEMENT_BYTES = 8;
    /** A {@code String} and its array header (plus 2 bytes per character). */
    private static final int STRING_BYTES = 48;
    /** A {@code Long}. */
    private static final int INTEGER_BYTES = 16;

    /** The text: its first {@link #length} characters. */
    private final char[] text;
    private final int length;
    private final String what;
    private final long budget;
    private long charged;
    private int pos;

    Parser(char[] text, int length, String what, long budget) {
      if (length < 0 || length > text.length) {
        throw new IllegalArgumentException("length " + length + " outside a text of " + text.length + " characters");
      }
      this.text = text;
      this.length = length;
      this.what = what;
      this.budget = budget;
    }

    /** Counts {@code bytes} of parsed values against the budget. */
    private void charge(long bytes) throws BudgetException {
      charged += bytes;
      if (charged > budget) {
        throw new BudgetException("the parsed " + what + " would take more than the " + budget
            + " bytes its length allows (at character " + pos + ")");
      }
    }

    /** The top-level object at {@code pos}, its members handed to {@code consumer}. */
    void topLevel(MemberConsumer consumer) throws IOException {
      members(1, new HashSet<>(), consumer, null);
    }

    private Object value(int depth) throws IOException {
      skipWhitespace();
      if (pos >= length) {
        throw expected("a value");
      }
      char c = text[pos];
      if (c == '{') {
        charge(OBJECT_BYTES);
        Map<String, Object> map = new LinkedHashMap<>();
        members(depth + 1, null, null, map);
        return map;
      } else if (c == '[') {
        charge(ARRAY_BYTES);
        return array(depth + 1);
      } else if (c == '"') {
        String s = string();
        charge(STRING_BYTES + 2L * s.length());
        return s;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        charge(INTEGER_BYTES);
        return integer();
      } else if (c == 't' || c == 'f' || c == 'n') {
        throw error("unsupported JSON literal (only objects, arrays, strings and integers are allowed)");
      }
      throw expected("a value");
    }

    /**
     * The object at {@code pos}: each member's key checked for duplicates, then its value put {@code into} a map
     * (charged to the budget) or, without one, handed to {@code consumer} with the keys seen kept in {@code keys}.
     * (No lambdas here: each is a class generated at run time, on the way to a network's first result.)
     */
    private void members(int depth, Set<String> keys, MemberConsumer consumer, Map<String, Object> into)
        throws IOException {
      checkDepth(depth);
      pos++; // '{'
      skipWhitespace();
      if (peek() == '}') {
        pos++;
        return;
      }
      while (true) {
        skipWhitespace();
        if (peek() != '"') {
          throw expected("a string key");
        }
        int keyPos = pos;
        String key = string();
        charge(STRING_BYTES + 2L * key.length());
        if (into != null ? into.containsKey(key) : !keys.add(key)) {
          pos = keyPos;
          throw error("duplicate key " + quoteBrief(key));
        }
        skipWhitespace();
        expect(':');
        Object value = value(depth);
        if (into != null) {
          charge(MEMBER_BYTES);
          into.put(key, value);
        } else {
          consumer.accept(key, value);
        }
        skipWhitespace();
        if (peek() == ',') {
          pos++;
        } else if (peek() == '}') {
          pos++;
          return;
        } else {
          throw expected("',' or '}'");
        }
      }
    }

    private List<Object> array(int depth) throws IOException {
      checkDepth(depth);
      pos++; // '['
      List<Object> list = new ArrayList<>();
      skipWhitespace();
      if (peek() == ']') {
        pos++;
        return list;
      }
      while (true) {
        list.add(value(depth));
        charge(ELEMENT_BYTES);
        skipWhitespace();
        if (peek() == ',') {
          pos++;
        } else if (peek() == ']') {
          pos++;
          return list;
        } else {
          throw expected("',' or ']'");
        }
      }
    }

    private String string() throws IOException {
      int start = pos;
      // A string without escapes or control characters (every name and value of a safetensors header) is taken
      // in one piece: a header is parsed in the interpreter on the way to a first result, where the per-character
      // appends below cost more than the scan (RepVGG-A0's 34 KB header, parsed a second time in a fresh JVM,
      // 5.4 ms against 13.1; the first parse, mostly first-time costs, 17 against 21; AMD EPYC Zen 3).
      int n = length;
      for (int end = start + 1; end < n; end++) {
        char c = text[end];
        if (c == '"') {
          pos = end + 1;
          return new String(text, start + 1, end - start - 1);
        }
        if (c == '\\' || c < 0x20) {
          break;
        }
      }
      // Otherwise character by character from the start, with the escapes and the errors.
      pos++; // opening quote
      StringBuilder sb = new StringBuilder();
      while (true) {
        if (pos >= length) {
          pos = start;
          throw error("unterminated string");
        }
        char c = text[pos];
        if (c == '"') {
          pos++;
          return sb.toString();
        } else if (c == '\\') {
          escape(sb);
        } else if (c < 0x20) {
          throw error("raw control character " + describe(c) + " in a string (must be escaped)");
        } else {
          sb.append(c);
          pos++;
        }
      }
    }

    /** Appends the escape at {@code pos} (a backslash) and moves past it. */
    private void escape(StringBuilder sb) throws IOException {
      if (pos + 1 >= length) {
        throw error("unterminated escape sequence");
      }
      char e = text[pos + 1];
      int escape = ESCAPE_LETTERS.indexOf(e);
      if (escape >= 0) {
        sb.append(ESCAPED.charAt(escape));
      } else if (e == 'u') {
        unicodeEscape(sb);
        return;
      } else {
        throw error("invalid escape sequence \\" + (e < 0x20 ? describe(e) : String.valueOf(e)));
      }
      pos += 2;
    }

    private void unicodeEscape(StringBuilder sb) throws IOException {
      char c = hex4(pos + 2);
      if (Character.isLowSurrogate(c)) {
        throw error("unpaired surrogate \\u" + hex(c) + " (a low surrogate without a high one)");
      }
      if (Character.isHighSurrogate(c)) {
        int next = pos + 6;
        boolean paired = next + 1 < length && text[next] == '\\' && text[next + 1] == 'u'
            && Character.isLowSurrogate(hex4(next + 2));
        if (!paired) {
          throw error("unpaired surrogate \\u" + hex(c) + " (a high surrogate not followed by a low one)");
        }
        sb.append(c).append(hex4(next + 2));
        pos += 12;
        return;
      }
      sb.append(c);
      pos += 6;
    }

    private char hex4(int at) throws IOException {
      if (at + 4 > length) {
        throw error("truncated \\u escape (needs 4 hex digits)");
      }
      int v = 0;
      for (int i = at; i < at + 4; i++) {
        int d = Character.digit(text[i], 16);
        if (d < 0 || text[i] > 'f') {
          throw error("invalid \\u escape (needs 4 hex digits)");
        }
        v = v * 16 + d;
      }
      return (char) v;
    }

    private Long integer() throws IOException {
      int start = pos;
      if (peek() == '-') {
        pos++;
      }
      int digitsStart = pos;
      while (pos < length && text[pos] >= '0' && text[pos] <= '9') {
        pos++;
      }
      if (pos == digitsStart) {
        pos = start;
        throw error("'-' must be followed by digits");
      }
      if (text[digitsStart] == '0' && pos - digitsStart > 1) {
        pos = start;
        throw error("leading zeros are not allowed in numbers");
      }
      char next = peek();
      if (next == '.' || next == 'e' || next == 'E') {
        pos = start;
        throw error("only integers are allowed (no fractions or exponents)");
      }
      if (pos - digitsStart <= 18) {
        // At most 18 digits always fit; summed here, without Long.parseLong's per-character calls.
        long v = 0;
        for (int i = digitsStart; i < pos; i++) {
          v = v * 10 + (text[i] - '0');
        }
        return digitsStart > start ? -v : v;
      }
      try {
        return Long.parseLong(new String(text, start, pos - start));
      } catch (NumberFormatException e) {
        String digits = new String(text, start, Math.min(pos, start + 40) - start);
        pos = start;
        throw error("integer " + digits + (digits.length() < 40 ? "" : "...") + " does not fit in 64 bits");
      }
    }

    private void checkDepth(int depth) throws IOException {
      if (depth > MAX_DEPTH) {
        throw error("JSON nested deeper than " + MAX_DEPTH + " levels");
      }
    }

    private void expect(char c) throws IOException {
      if (peek() != c) {
        throw expected("'" + c + "'");
      }
      pos++;
    }

    /** The character at {@code pos}, or {@code '\0'} at the end (never a valid token start after the checks). */
    private char peek() {
      return pos < length ? text[pos] : '\0';
    }

    void skipWhitespace() {
      while (pos < length) {
        char c = text[pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
          return;
        }
        pos++;
      }
    }

    SyntaxException error(String message) {
      return new SyntaxException("invalid JSON in the " + what + " at character " + pos + ": " + message);
    }

    /** An error for a missing token: "unexpected end of ..." at the end, else what was found instead. */
    private SyntaxException expected(String token) {
      return pos >= length
          ? error("unexpected end of the " + what + ", expected " + token)
          : error("expected " + token + ", found " + describe(text[pos]));
    }

    private static String describe(char c) {
      return c >= 0x20 && c < 0x7f ? "'" + c + "'" : "U+" + hex(c).toUpperCase(Locale.ROOT);
    }

    private static String hex(char c) {
      return String.format(Locale.ROOT, "%04x", (int) c);
    }
  }
}
