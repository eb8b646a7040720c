package dev.kiln.io;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The small, strict JSON subset a safetensors header uses: objects (keys unique, order kept), arrays, strings
 * (all JSON escapes, {@code \}{@code uXXXX} with paired surrogates) and integers that fit a {@code long}. Anything
 * else (fractions, exponents, {@code true}/{@code false}/{@code null}, leading zeros, raw control characters,
 * unpaired surrogates, nesting deeper than {@link #MAX_DEPTH}) is an {@link IOException} naming the character
 * position. Values are returned as {@code Map<String, Object>} (a {@link LinkedHashMap}), {@code List<Object>},
 * {@code String} and {@code Long}.
 */
final class HeaderJson {
  /** Deepest allowed nesting of objects and arrays; a safetensors header needs 3. */
  static final int MAX_DEPTH = 64;

  private final String text;
  private int pos;

  private HeaderJson(String text) {
    this.text = text;
  }

  /**
   * Parses {@code text}, which must start with {@code '{'} (no leading whitespace, as the reference reader
   * requires) and hold exactly one JSON object followed by nothing but JSON whitespace.
   */
  static Map<String, Object> parseObject(String text) throws IOException {
    HeaderJson parser = new HeaderJson(text);
    if (text.isEmpty() || text.charAt(0) != '{') {
      throw parser.error("the header must be a JSON object starting with '{'");
    }
    Map<String, Object> result = parser.object(1);
    parser.skipWhitespace();
    if (parser.pos != text.length()) {
      throw parser.error("trailing characters after the JSON object");
    }
    return result;
  }

  /** {@code s} as a JSON string literal: quotes, backslashes and control characters escaped, the rest as is. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  private Object value(int depth) throws IOException {
    skipWhitespace();
    if (pos >= text.length()) {
      throw expected("a value");
    }
    char c = text.charAt(pos);
    if (c == '{') {
      return object(depth + 1);
    } else if (c == '[') {
      return array(depth + 1);
    } else if (c == '"') {
      return string();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      return integer();
    } else if (c == 't' || c == 'f' || c == 'n') {
      throw error("unsupported JSON literal (only objects, arrays, strings and integers are allowed)");
    }
    throw expected("a value");
  }

  private Map<String, Object> object(int depth) throws IOException {
    checkDepth(depth);
    pos++; // '{'
    Map<String, Object> map = new LinkedHashMap<>();
    skipWhitespace();
    if (peek() == '}') {
      pos++;
      return map;
    }
    while (true) {
      skipWhitespace();
      if (peek() != '"') {
        throw expected("a string key");
      }
      int keyPos = pos;
      String key = string();
      if (map.containsKey(key)) {
        pos = keyPos;
        throw error("duplicate key " + quote(key));
      }
      skipWhitespace();
      expect(':');
      map.put(key, value(depth));
      skipWhitespace();
      if (peek() == ',') {
        pos++;
      } else if (peek() == '}') {
        pos++;
        return map;
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
    pos++; // opening quote
    StringBuilder sb = new StringBuilder();
    while (true) {
      if (pos >= text.length()) {
        pos = start;
        throw error("unterminated string");
      }
      char c = text.charAt(pos);
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
    if (pos + 1 >= text.length()) {
      throw error("unterminated escape sequence");
    }
    char e = text.charAt(pos + 1);
    switch (e) {
      case '"', '\\', '/' -> sb.append(e);
      case 'b' -> sb.append('\b');
      case 'f' -> sb.append('\f');
      case 'n' -> sb.append('\n');
      case 'r' -> sb.append('\r');
      case 't' -> sb.append('\t');
      case 'u' -> {
        char c = hex4(pos + 2);
        if (Character.isLowSurrogate(c)) {
          throw error("unpaired surrogate \\u" + hex(c) + " (a low surrogate without a high one)");
        }
        if (Character.isHighSurrogate(c)) {
          int next = pos + 6;
          boolean paired = next + 1 < text.length() && text.charAt(next) == '\\' && text.charAt(next + 1) == 'u'
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
        return;
      }
      default -> throw error("invalid escape sequence \\" + (e < 0x20 ? describe(e) : String.valueOf(e)));
    }
    pos += 2;
  }

  private char hex4(int at) throws IOException {
    if (at + 4 > text.length()) {
      throw error("truncated \\u escape (needs 4 hex digits)");
    }
    int v = 0;
    for (int i = at; i < at + 4; i++) {
      int d = Character.digit(text.charAt(i), 16);
      if (d < 0 || text.charAt(i) > 'f') {
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
    while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
      pos++;
    }
    if (pos == digitsStart) {
      pos = start;
      throw error("'-' must be followed by digits");
    }
    if (text.charAt(digitsStart) == '0' && pos - digitsStart > 1) {
      pos = start;
      throw error("leading zeros are not allowed in numbers");
    }
    char next = peek();
    if (next == '.' || next == 'e' || next == 'E') {
      pos = start;
      throw error("only integers are allowed (no fractions or exponents)");
    }
    try {
      return Long.parseLong(text.substring(start, pos));
    } catch (NumberFormatException e) {
      pos = start;
      throw error("integer " + text.substring(start, Math.min(start + 40, text.length())) + " does not fit in 64 bits");
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
    return pos < text.length() ? text.charAt(pos) : '\0';
  }

  private void skipWhitespace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private IOException error(String message) {
    return new IOException("invalid header JSON at character " + pos + ": " + message);
  }

  /** An error for a missing token: "unexpected end of header" at the end, else what was found instead. */
  private IOException expected(String what) {
    return pos >= text.length()
        ? error("unexpected end of header, expected " + what)
        : error("expected " + what + ", found " + describe(text.charAt(pos)));
  }

  private static String describe(char c) {
    return c >= 0x20 && c < 0x7f ? "'" + c + "'" : "U+" + hex(c).toUpperCase(java.util.Locale.ROOT);
  }

  private static String hex(char c) {
    return String.format("%04x", (int) c);
  }
}
