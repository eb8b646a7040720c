package dev.kiln.samples.benchmark;

import dev.kiln.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * Builds a one-node ONNX model ({@code y = Conv(x, weight, bias)}, opset 17, IR version 8) for a
 * {@link ConvShape}, with the weights of a Kiln state dict stored as float {@code raw_data} initializers.
 * Field numbers are those of {@code onnx.proto}.
 */
public final class OnnxConvModel {
  /** The graph input's name. */
  public static final String INPUT = "x";
  /** The graph output's name. */
  public static final String OUTPUT = "y";

  static final int IR_VERSION = 8;
  static final int OPSET = 17;

  // TensorProto.DataType.FLOAT and AttributeProto.AttributeType.{INT, INTS}
  private static final int FLOAT = 1;
  private static final int ATTR_INT = 2;
  private static final int ATTR_INTS = 7;

  private OnnxConvModel() {}

  /**
   * The serialized {@code ModelProto} for {@code shape} with the given {@code weight} (and {@code bias},
   * if present) from a Kiln conv state dict.
   */
  public static byte[] build(ConvShape shape, Map<String, Tensor> state) {
    Tensor weight = state.get("weight");
    if (weight == null || !weight.hasShape(shape.weightShape())) {
      throw new IllegalArgumentException("weight: expected shape " + Tensor.shapeString(shape.weightShape())
          + " but got " + (weight == null ? "none" : Tensor.shapeString(weight.shape())));
    }
    Tensor bias = state.get("bias");
    int k = shape.kernel();
    int s = shape.stride();
    int p = shape.padding();
    ProtoWriter node = new ProtoWriter()
        .string(1, INPUT)
        .string(1, "weight");
    if (bias != null) {
      node.string(1, "bias");
    }
    node.string(2, OUTPUT)
        .string(3, "conv")
        .string(4, "Conv")
        .message(5, ints("kernel_shape", k, k))
        .message(5, ints("strides", s, s))
        .message(5, ints("pads", p, p, p, p))
        .message(5, ints("dilations", 1, 1))
        .message(5, new ProtoWriter().string(1, "group").varint(20, ATTR_INT).varint(3, shape.groups()));

    ProtoWriter graph = new ProtoWriter()
        .message(1, node)
        .string(2, "kiln_conv")
        .message(5, initializer("weight", weight));
    if (bias != null) {
      graph.message(5, initializer("bias", bias));
    }
    graph.message(11, valueInfo(INPUT, shape.inputShape()))
        .message(12, valueInfo(OUTPUT, shape.outputShape()));

    return new ProtoWriter()
        .varint(1, IR_VERSION)
        .string(2, "kiln-benchmark")
        .message(7, graph)
        .message(8, new ProtoWriter().string(1, "").varint(2, OPSET))
        .toByteArray();
  }

  /** {@code AttributeProto} of type INTS. */
  private static ProtoWriter ints(String name, int... values) {
    ProtoWriter a = new ProtoWriter().string(1, name).varint(20, ATTR_INTS);
    for (int v : values) {
      a.varint(8, v);
    }
    return a;
  }

  /** {@code TensorProto}: dims, data_type FLOAT, name, little-endian raw_data. */
  private static ProtoWriter initializer(String name, Tensor t) {
    ProtoWriter tensor = new ProtoWriter();
    for (int d : t.shape()) {
      tensor.varint(1, d);
    }
    float[] data = t.data();
    ByteBuffer raw = ByteBuffer.allocate(data.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(data);
    return tensor.varint(2, FLOAT).string(8, name).bytes(9, raw.array());
  }

  /** {@code ValueInfoProto} of a float tensor with a fixed shape. */
  private static ProtoWriter valueInfo(String name, int[] dims) {
    ProtoWriter shape = new ProtoWriter();
    for (int d : dims) {
      shape.message(1, new ProtoWriter().varint(1, d));
    }
    ProtoWriter tensorType = new ProtoWriter().varint(1, FLOAT).message(2, shape);
    return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
  }
}
