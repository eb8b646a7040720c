package dev.kiln.processor.onnx;

import java.io.IOException;

/**
 * A well-formed ONNX file that Kiln cannot import: an operator it does not cover, an attribute value it cannot
 * express, or a graph that branches. The message names the first such node, its op type and why.
 */
public final class UnsupportedGraphException extends IOException {
  private static final long serialVersionUID = 1L;

  UnsupportedGraphException(String message) {
    super(oneLine(message));
  }

  /** The most characters a message keeps (names in a hostile file can be of any length). */
  static final int MAX_MESSAGE = 600;
  /** The most characters of one name a message quotes. */
  static final int MAX_NAME = 160;

  /**
   * {@code name} (read from a file) in single quotes for a message, cut after {@link #MAX_NAME} characters so
   * that a message is built short whatever the name's length; {@link #oneLine} escapes what is unprintable.
   */
  static String quote(String name) {
    return "'" + shorten(name) + "'";
  }

  /** {@code text} cut after {@link #MAX_NAME} characters ("..." marks the cut), never inside a surrogate pair. */
  static String shorten(String text) {
    if (text.length() <= MAX_NAME) {
      return text;
    }
    int end = Character.isHighSurrogate(text.charAt(MAX_NAME - 1)) ? MAX_NAME - 1 : MAX_NAME;
    return text.substring(0, end) + "...";
  }

  /**
   * {@code message} as one printable line: control and line-separator characters (which names read from a file
   * may contain) escaped as Java unicode escapes, and cut after {@link #MAX_MESSAGE} characters.
   */
  static String oneLine(String message) {
    StringBuilder s = new StringBuilder(Math.min(message.length(), MAX_MESSAGE + 16));
    for (int i = 0; i < message.length() && s.length() < MAX_MESSAGE; i++) {
      char c = message.charAt(i);
      if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 || c == 0x2029) {
        s.append(String.format("\\u%04x", (int) c));
      } else {
        s.append(c);
      }
    }
    if (s.length() >= MAX_MESSAGE && message.length() > MAX_MESSAGE) {
      s.append("...");
    }
    return s.toString();
  }
}
