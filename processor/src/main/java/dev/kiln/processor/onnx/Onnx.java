package dev.kiln.processor.onnx;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The parts of an ONNX model ({@code onnx.proto}) that import reads, as immutable values. Fields Kiln never
 * needs (doc strings, metadata, training info, value infos of inner tensors) are not kept.
 */
public final class Onnx {
  /** {@code TensorProto.DataType} values Kiln decodes. */
  static final int FLOAT = 1;
  static final int INT32 = 6;
  static final int INT64 = 7;
  static final int BOOL = 9;
  static final int DOUBLE = 11;

  private Onnx() {}

  /** A model: IR version, producer, operator-set versions by domain ({@code ""} is the ONNX domain). */
  public record Model(long irVersion, String producer, Map<String, Long> opsets, Graph graph,
      List<Function> functions) {
    /** The ONNX operator set version (domains {@code ""} and {@code "ai.onnx"}), 0 if none is declared. */
    public long opset() {
      Long v = opsets.get("");
      return v != null ? v : opsets.getOrDefault("ai.onnx", 0L);
    }
  }

  /** The main graph: nodes in file order, initializers by name, the graph's inputs and outputs. */
  public record Graph(String name, List<Node> nodes, Map<String, Tensor> initializers, List<ValueInfo> inputs,
      List<ValueInfo> outputs, int sparseInitializers) {}

  /** One node; {@code index} is its position in the graph (or function body) it was read from. */
  public record Node(int index, String name, String opType, String domain, List<String> inputs,
      List<String> outputs, Map<String, Attribute> attributes) {
    /** {@code node 3 '/stage0/Conv' (Conv)}, how errors name a node (long names cut short). */
    public String describe() {
      return "node " + index + " " + UnsupportedGraphException.quote(name) + " (" + (isOnnxOperator() ? ""
          : UnsupportedGraphException.shorten(domain) + ".") + UnsupportedGraphException.shorten(opType) + ")";
    }

    /** Whether the op type is one of ONNX's own (domain {@code ""} or {@code "ai.onnx"}), not a custom one. */
    public boolean isOnnxOperator() {
      return domain.isEmpty() || domain.equals("ai.onnx");
    }

    /** The input at {@code i}, or {@code ""} when absent (ONNX writes {@code ""} for a skipped optional input). */
    public String input(int i) {
      return i < inputs.size() ? inputs.get(i) : "";
    }
  }

  /**
   * An attribute: its {@code AttributeProto.type} and the value of that type; {@code refAttrName} is set inside
   * a function body for an attribute that takes the calling node's attribute of that name.
   */
  public record Attribute(String name, int type, float f, long i, String s, Tensor t, float[] floats, long[] ints,
      String refAttrName) {
    static final int FLOAT = 1;
    static final int INT = 2;
    static final int STRING = 3;
    static final int TENSOR = 4;
    static final int GRAPH = 5;
    static final int FLOATS = 6;
    static final int INTS = 7;

    /** The same value under another name (a function's formal attribute bound to the caller's). */
    Attribute renamed(String newName) {
      return new Attribute(newName, type, f, i, s, t, floats, ints, "");
    }

    @Override
    public String toString() {
      return name + "=" + switch (type) {
        case FLOAT -> Float.toString(f);
        case INT -> Long.toString(i);
        case STRING -> s;
        case FLOATS -> Arrays.toString(floats);
        case INTS -> Arrays.toString(ints);
        default -> "(type " + type + ")";
      };
    }
  }

  /**
   * A tensor's name, data type and dimensions with its values decoded: {@code floats} for FLOAT and DOUBLE,
   * {@code longs} for INT32, INT64 and BOOL; both {@code null} for a data type Kiln does not read.
   */
  public record Tensor(String name, int dataType, long[] dims, float[] floats, long[] longs) {
    /** The dimensions as ints (all are checked to fit when the tensor is read). */
    public int[] shape() {
      int[] s = new int[dims.length];
      for (int k = 0; k < dims.length; k++) {
        s[k] = (int) dims[k];
      }
      return s;
    }

    @Override
    public String toString() {
      return "tensor " + UnsupportedGraphException.quote(name) + " " + Arrays.toString(dims);
    }
  }

  /** A graph input or output: element type and dimensions ({@code -1} for a symbolic or unknown one). */
  public record ValueInfo(String name, int elemType, long[] dims) {}

  /** An ONNX local function: formal inputs, outputs and attribute names, and its body. */
  public record Function(String domain, String name, List<String> inputs, List<String> outputs,
      List<String> attributes, List<Node> nodes) {}
}
