package dev.kiln.processor.onnx;

import java.io.IOException;

/**
 * A well-formed ONNX file that Kiln cannot import: an operator it does not cover, an attribute value it cannot
 * express, or a graph that branches. The message names the first such node, its op type and why.
 */
public final class UnsupportedGraphException extends IOException {
  private static final long serialVersionUID = 1L;

  UnsupportedGraphException(String message) {
    super(message);
  }
}
