package dev.kiln.processor.writing;

import com.palantir.javapoet.CodeBlock;

/**
 * A method body written as indented text, with the code-writing methods of JavaPoet's
 * {@code MethodSpec.Builder} ({@code $L} placeholders only). Kernel bodies are long runs of {@code int} and
 * {@code float} arithmetic with no type to import; JavaPoet formats code piece by piece (twice: once to
 * collect imports), which made formatting the largest part of the processor's time in the user's javac.
 * Text renders to the same source at a fraction of the cost. Statements that name a type go through
 * JavaPoet ({@link #addTypedStatement}) so that its imports stay right.
 */
public final class Body {
  /** The indentation unit of the generated files (the bodies are indented text). */
  public static final String INDENT = "  ";

  private final CodeBlock.Builder code = CodeBlock.builder();
  private final StringBuilder text = new StringBuilder();
  private int depth;

  /** {@code format} with each {@code $L} replaced by the next argument. */
  static String format(String format, Object... args) {
    StringBuilder out = new StringBuilder(format.length() + 16 * args.length);
    int next = 0;
    int from = 0;
    for (int at = format.indexOf('$'); at >= 0; at = format.indexOf('$', from)) {
      if (at + 1 >= format.length() || format.charAt(at + 1) != 'L') {
        throw new IllegalArgumentException("only $L is supported: " + format);
      }
      if (next == args.length) {
        throw new IllegalArgumentException("too few arguments for " + format);
      }
      out.append(format, from, at).append(args[next++]);
      from = at + 2;
    }
    if (next != args.length) {
      throw new IllegalArgumentException("too many arguments for " + format);
    }
    return out.append(format, from, format.length()).toString();
  }

  Body addStatement(String format, Object... args) {
    line(format(format, args) + ";");
    return this;
  }

  Body beginControlFlow(String format, Object... args) {
    line(format(format, args) + " {");
    depth++;
    return this;
  }

  Body nextControlFlow(String format, Object... args) {
    depth--;
    line("} " + format(format, args) + " {");
    depth++;
    return this;
  }

  Body endControlFlow() {
    if (depth == 0) {
      throw new IllegalStateException("no control flow to end");
    }
    depth--;
    line("}");
    return this;
  }

  Body addComment(String comment) {
    line("// " + comment);
    return this;
  }

  /** A statement with JavaPoet placeholders, for code that names a type ({@code $T}). */
  Body addTypedStatement(String format, Object... args) {
    flush();
    for (int i = 0; i < depth; i++) {
      code.indent();
    }
    code.addStatement(format, args);
    for (int i = 0; i < depth; i++) {
      code.unindent();
    }
    return this;
  }

  /** The body; every control flow must be closed. */
  CodeBlock build() {
    if (depth != 0) {
      throw new IllegalStateException(depth + " control flows left open");
    }
    flush();
    return code.build();
  }

  /**
   * Appends one line at the current depth; the continuation lines of a multi-line statement get two more
   * levels, as JavaPoet indents them.
   */
  private void line(String s) {
    int from = 0;
    for (int nl = s.indexOf('\n'); ; nl = s.indexOf('\n', from)) {
      int levels = from == 0 ? depth : depth + 2;
      for (int i = 0; i < levels; i++) {
        text.append(INDENT);
      }
      text.append(s, from, nl < 0 ? s.length() : nl).append('\n');
      if (nl < 0) {
        return;
      }
      from = nl + 1;
    }
  }

  private void flush() {
    if (text.length() > 0) {
      code.add("$L", text.toString());
      text.setLength(0);
    }
  }
}
