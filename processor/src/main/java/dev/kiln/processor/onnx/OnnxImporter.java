package dev.kiln.processor.onnx;

import dev.kiln.nn.ConvGeometry;
import dev.kiln.processor.layer.LayerKind;
import dev.kiln.processor.layer.LayerKinds;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a sequential ONNX graph into Kiln layers and their weights.
 *
 * <p>Covered: Conv (strides, pads or auto_pad, dilations, group, with or without bias), BatchNormalization
 * (inference), Relu, Clip(0, 6) right after a Conv (its {@code RELU6} activation), MaxPool, AveragePool,
 * GlobalAveragePool, Flatten and the constant-shape Reshape PyTorch writes for it, Gemm, MatMul (with the Add of a
 * constant bias after it), Dropout, Identity, a zero constant Pad in front of AveragePool or Conv (merged into
 * their padding), Constant nodes and local functions (inlined). A Relu right after a Conv becomes the conv's
 * {@code RELU} activation. Everything else, and any branching, is an {@link UnsupportedGraphException} naming the
 * first node at fault, its op type and why.
 */
public final class OnnxImporter {
  /** Kiln's BatchNorm epsilon; another epsilon is folded into the running variance. */
  private static final double KILN_EPS = 1e-5;
  static final String COVERED = "Conv, BatchNormalization, Relu, Clip(0, 6) after a Conv, MaxPool, AveragePool, "
      + "GlobalAveragePool, Flatten, Reshape (flatten), Gemm, MatMul(+Add), Dropout, Identity, Pad (zeros, before "
      + "AveragePool or Conv), Constant";
  /**
   * The inputs and outputs of each op type read, from the ONNX operator specifications (over the opsets):
   * {fewest inputs, most inputs, most outputs}. Every one has at least one output, and its first is named.
   */
  private static final Map<String, int[]> ARITY = Map.ofEntries(
      Map.entry("Conv", new int[] {2, 3, 1}),
      Map.entry("BatchNormalization", new int[] {5, 5, 5}),
      Map.entry("Relu", new int[] {1, 1, 1}),
      Map.entry("Clip", new int[] {1, 3, 1}),
      Map.entry("MaxPool", new int[] {1, 1, 2}),
      Map.entry("AveragePool", new int[] {1, 1, 1}),
      Map.entry("GlobalAveragePool", new int[] {1, 1, 1}),
      Map.entry("Flatten", new int[] {1, 1, 1}),
      Map.entry("Reshape", new int[] {1, 2, 1}),
      Map.entry("Gemm", new int[] {2, 3, 1}),
      Map.entry("MatMul", new int[] {2, 2, 1}),
      Map.entry("Add", new int[] {2, 2, 1}),
      Map.entry("Dropout", new int[] {1, 3, 2}),
      Map.entry("Identity", new int[] {1, 1, 1}),
      Map.entry("Pad", new int[] {1, 4, 1}),
      Map.entry("Constant", new int[] {0, 0, 1}));

  private final Onnx.Model model;
  private final List<Onnx.Node> nodes;
  private final long opset;
  /** Constant tensors: initializers, Constant outputs, Identity of a constant. */
  private final Map<String, Onnx.Tensor> constants = new HashMap<>();
  /** How many data-path nodes read each tensor. */
  private final Map<String, List<Onnx.Node>> consumers = new HashMap<>();
  private final List<LayerBuilder> layers = new ArrayList<>();
  private final Map<String, Integer> counters = new HashMap<>();
  private String current;
  private int[] shape;
  /** A zero Pad waiting for the AveragePool or Conv it belongs to: {top, left, bottom, right}, or null. */
  private int[] pendingPad;
  private Onnx.Node pendingPadNode;
  /** The Add nodes taken with the MatMul before them as its bias. */
  private final java.util.Set<Onnx.Node> consumedAdds = new java.util.HashSet<>();

  private OnnxImporter(Onnx.Model model, List<Onnx.Node> nodes) {
    this.model = model;
    this.nodes = nodes;
    this.opset = model.opset();
  }

  /** Imports {@code model}. */
  public static ImportedNetwork importModel(Onnx.Model model) throws IOException {
    return new OnnxImporter(model, FunctionInliner.inline(model)).run();
  }

  private ImportedNetwork run() throws IOException {
    Onnx.Graph graph = model.graph();
    if (graph.sparseInitializers() > 0) {
      throw new UnsupportedGraphException("the graph has sparse initializers, which Kiln does not read");
    }
    constants.putAll(graph.initializers());
    Onnx.ValueInfo input = dataInput(graph);
    current = input.name();
    shape = sampleShape(input);
    int[] inputShape = shape.clone();
    for (Onnx.Node node : nodes) {
      checkArity(node);
      if (!isConstantNode(node)) {
        for (String in : node.inputs()) {
          if (!in.isEmpty() && !constants.containsKey(in)) {
            consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(node);
          }
        }
      } else {
        constant(node);
      }
    }
    for (Onnx.Node node : nodes) {
      if (isConstantNode(node) || consumedAdds.contains(node) || isDangling(node)) {
        continue;
      }
      step(node);
    }
    if (pendingPad != null) {
      throw unsupported(pendingPadNode, "a Pad is imported only in front of an AveragePool or a Conv");
    }
    if (graph.outputs().size() != 1 || !graph.outputs().get(0).name().equals(current)) {
      throw new UnsupportedGraphException("the graph's outputs [" + quoted(graph.outputs().stream()
          .map(Onnx.ValueInfo::name).toList()) + "] are not exactly the last layer's output " + quote(current));
    }
    if (layers.isEmpty()) {
      throw new UnsupportedGraphException("the graph has no layers");
    }
    List<ImportedNetwork.Layer> out = new ArrayList<>();
    Map<String, Tensor> weights = new LinkedHashMap<>();
    for (LayerBuilder b : layers) {
      out.add(new ImportedNetwork.Layer(b.kind, b.method, b.attributes, b.nodes));
      b.weights.forEach((k, v) -> weights.put(b.method + "." + k, v));
    }
    String source = (model.producer().isEmpty() ? "an unnamed producer" : model.producer()) + ", opset " + opset;
    return new ImportedNetwork(inputShape, List.copyOf(out), weights, source);
  }

  /** Constant and Identity-of-a-constant nodes (and nodes that only compute from constants and feed nothing). */
  private boolean isConstantNode(Onnx.Node node) {
    if (!node.isOnnxOperator()) {
      return false;
    }
    if (node.opType().equals("Constant")) {
      return true;
    }
    return node.opType().equals("Identity") && constants.containsKey(node.input(0));
  }

  /**
   * The node has as many inputs and outputs as its op type takes ({@link #ARITY}), and a name for its first
   * output: checked once for every node, so that nothing after reads a missing one. Op types Kiln does not
   * read are refused later, as such.
   */
  private static void checkArity(Onnx.Node node) throws IOException {
    int[] arity = node.isOnnxOperator() ? ARITY.get(node.opType()) : null;
    if (arity == null) {
      return;
    }
    int in = node.inputs().size();
    if (in < arity[0] || in > arity[1]) {
      throw unsupported(node, "has " + in + (in == 1 ? " input" : " inputs") + ", but " + node.opType() + " takes "
          + (arity[0] == arity[1] ? Integer.toString(arity[0]) : arity[0] + " to " + arity[1]));
    }
    int out = node.outputs().size();
    if (out == 0) {
      throw unsupported(node, "has no output");
    }
    if (out > arity[2]) {
      throw unsupported(node, "has " + out + " outputs, but " + node.opType() + " has at most " + arity[2]);
    }
    if (node.outputs().get(0).isEmpty()) {
      throw unsupported(node, "its first output has no name");
    }
  }

  /** A node none of whose outputs is read or is a graph output, and that reads no data: ignored. */
  private boolean isDangling(Onnx.Node node) {
    for (String in : node.inputs()) {
      if (!in.isEmpty() && !constants.containsKey(in)) {
        return false;
      }
    }
    for (String o : node.outputs()) {
      if (consumers.containsKey(o) || model.graph().outputs().stream().anyMatch(v -> v.name().equals(o))) {
        return false;
      }
    }
    return true;
  }

  private void constant(Onnx.Node node) throws IOException {
    if (node.opType().equals("Identity")) {
      constants.put(node.outputs().get(0), constants.get(node.input(0)));
      return;
    }
    Onnx.Tensor value;
    Map<String, Onnx.Attribute> a = node.attributes();
    if (a.containsKey("value")) {
      value = a.get("value").t();
    } else if (a.containsKey("value_float")) {
      value = new Onnx.Tensor("", Onnx.FLOAT, new long[0], new float[] {a.get("value_float").f()}, null);
    } else if (a.containsKey("value_floats")) {
      float[] v = a.get("value_floats").floats();
      value = new Onnx.Tensor("", Onnx.FLOAT, new long[] {v.length}, v, null);
    } else if (a.containsKey("value_int")) {
      value = new Onnx.Tensor("", Onnx.INT64, new long[0], null, new long[] {a.get("value_int").i()});
    } else if (a.containsKey("value_ints")) {
      long[] v = a.get("value_ints").ints();
      value = new Onnx.Tensor("", Onnx.INT64, new long[] {v.length}, null, v);
    } else {
      throw unsupported(node, "a Constant without a tensor, float or int value ("
          + quoted(a.keySet().stream().sorted().toList()) + ")");
    }
    if (value == null) {
      throw unsupported(node, "a Constant without a value");
    }
    constants.put(node.outputs().get(0), value);
  }

  private Onnx.ValueInfo dataInput(Onnx.Graph graph) throws IOException {
    List<Onnx.ValueInfo> data = graph.inputs().stream().filter(v -> !graph.initializers().containsKey(v.name()))
        .toList();
    if (data.size() != 1) {
      throw new UnsupportedGraphException("the graph has " + data.size() + " data inputs "
          + "[" + quoted(data.stream().map(Onnx.ValueInfo::name).toList()) + "]; Kiln imports networks with exactly "
          + "one");
    }
    return data.get(0);
  }

  private static int[] sampleShape(Onnx.ValueInfo input) throws IOException {
    long[] d = input.dims();
    if (input.elemType() != Onnx.FLOAT) {
      throw new UnsupportedGraphException("input " + quote(input.name()) + " has element type "
          + input.elemType() + "; Kiln imports float (type 1) inputs");
    }
    if (d.length != 4 && d.length != 2) {
      throw new UnsupportedGraphException("input " + quote(input.name()) + " has shape "
          + dims(d) + "; Kiln imports [N, C, H, W] or [N, F] inputs");
    }
    int[] s = new int[d.length - 1];
    for (int i = 1; i < d.length; i++) {
      if (d[i] <= 0 || d[i] > Integer.MAX_VALUE) {
        throw new UnsupportedGraphException("input " + quote(input.name()) + " has shape "
            + dims(d) + ": every dimension but the batch must be fixed");
      }
      s[i - 1] = (int) d[i];
    }
    long elements = elements(s);
    if (elements > Integer.MAX_VALUE) {
      throw new UnsupportedGraphException("input " + quote(input.name()) + " has shape "
          + dims(d) + ": " + elements + " elements a sample, more than Kiln's tensors hold (2^31 - 1)");
    }
    return s;
  }

  private static String dims(long[] d) {
    StringBuilder s = new StringBuilder("[");
    for (int i = 0; i < d.length; i++) {
      s.append(i == 0 ? "" : ", ").append(d[i] < 0 ? "?" : Long.toString(d[i]));
    }
    return s.append(']').toString();
  }

  /** One node of the data path. */
  private void step(Onnx.Node node) throws IOException {
    checkSequential(node);
    if (pendingPad != null && !node.opType().equals("AveragePool") && !node.opType().equals("Conv")) {
      throw unsupported(pendingPadNode, "a Pad is imported only in front of an AveragePool or a Conv, but "
          + node.describe() + " follows it");
    }
    switch (node.opType()) {
      case "Conv" -> conv(node);
      case "BatchNormalization" -> batchNorm(node);
      case "Relu" -> relu(node, "Relu");
      case "Clip" -> clip(node);
      case "MaxPool", "AveragePool" -> pool(node);
      case "GlobalAveragePool" -> globalAveragePool(node);
      case "Flatten" -> flatten(node);
      case "Reshape" -> reshape(node);
      case "Gemm" -> gemm(node);
      case "MatMul" -> matMul(node);
      case "Dropout" -> dropout(node);
      case "Identity" -> advance(node);
      case "Pad" -> pad(node);
      case "Add" -> throw unsupported(node, "an Add is imported only as the bias Add right after a MatMul");
      default -> throw unsupported(node, "op type not supported; Kiln imports " + COVERED);
    }
  }

  /** The node reads exactly the current tensor, which nothing else reads. */
  private void checkSequential(Onnx.Node node) throws IOException {
    if (!node.isOnnxOperator()) {
      throw unsupported(node, "operator domain " + quote(node.domain())
          + " is neither ONNX's nor a local function's");
    }
    List<String> data = new ArrayList<>();
    for (String in : node.inputs()) {
      if (!in.isEmpty() && !constants.containsKey(in)) {
        data.add(in);
      }
    }
    if (data.size() > 1) {
      throw unsupported(node, "joins two branches (" + quoted(data) + "); Kiln imports sequential graphs only");
    }
    if (data.isEmpty() || !data.get(0).equals(current)) {
      throw unsupported(node, "reads " + (data.isEmpty() ? "no data" : quote(data.get(0)))
          + " instead of the previous layer's output " + quote(current) + " (the graph branches, or is not in "
          + "topological order or has a cycle); Kiln imports sequential graphs only");
    }
    List<Onnx.Node> readers = consumers.getOrDefault(current, List.of());
    boolean isOutput = model.graph().outputs().stream().anyMatch(v -> v.name().equals(current));
    if (readers.size() > 1 || isOutput) {
      List<String> others = readers.stream().filter(n -> n != node).map(Onnx.Node::describe).toList();
      throw unsupported(node, "its input " + quote(current) + " also feeds " + (others.isEmpty()
          ? "the graph's outputs" : some(others)) + ": the graph branches; Kiln imports sequential graphs only");
    }
    for (int i = 1; i < node.outputs().size(); i++) {
      if (consumers.containsKey(node.outputs().get(i))) {
        throw unsupported(node, "its output " + quote(node.outputs().get(i)) + " (output " + i
            + ") is used; Kiln imports only the first output");
      }
    }
  }

  /** The names quoted, each cut short, at most the first eight. */
  private static String quoted(List<String> names) {
    return some(names.stream().map(UnsupportedGraphException::quote).toList());
  }

  /** The first eight of {@code items}, and how many more there are. */
  private static String some(List<String> items) {
    return String.join(", ", items.subList(0, Math.min(8, items.size())))
        + (items.size() > 8 ? " and " + (items.size() - 8) + " more" : "");
  }

  private static String quote(String name) {
    return UnsupportedGraphException.quote(name);
  }

  private void advance(Onnx.Node node) {
    current = node.outputs().get(0);
  }

  private LayerBuilder add(Onnx.Node node, LayerKind kind, String base) {
    int n = counters.merge(base, 1, Integer::sum);
    LayerBuilder b = new LayerBuilder(kind, base + n);
    b.nodes.add(node.describe());
    layers.add(b);
    advance(node);
    return b;
  }

  private LayerBuilder last() {
    return layers.isEmpty() ? null : layers.get(layers.size() - 1);
  }

  private void requireMap(Onnx.Node node) throws IOException {
    if (shape.length != 3) {
      throw unsupported(node, "needs a [N, C, H, W] feature map but a flat " + Arrays.toString(shape)
          + " vector arrives");
    }
  }

  // ---- Conv ----

  private void conv(Onnx.Node node) throws IOException {
    requireMap(node);
    Onnx.Tensor w = constant(node, 1, "weight");
    if (w.dims().length != 4) {
      throw unsupported(node, "weight " + Arrays.toString(w.dims()) + " is not 2-D convolution's [out, in/groups, "
          + "kH, kW]");
    }
    for (int i = 0; i < 4; i++) {
      long limit = i < 2 ? Integer.MAX_VALUE : 1 << 16;
      if (w.dims()[i] < 1 || w.dims()[i] > limit) {
        throw unsupported(node, "weight " + Arrays.toString(w.dims()) + " has " + (i < 2 ? "a channel" : "a kernel")
            + " dimension of " + w.dims()[i] + " (outside [1, " + limit + "])");
      }
    }
    int out = (int) w.dims()[0];
    int kh = (int) w.dims()[2];
    int kw = (int) w.dims()[3];
    long group = intAttr(node, "group", 1);
    if (group < 1 || group > shape[0]) {
      throw unsupported(node, "group " + group + " for " + shape[0] + " input channels");
    }
    int groups = (int) group;
    int[] strides = pair(node, "strides", 1);
    int[] dilations = pair(node, "dilations", 1);
    int[] kernel = pair(node, "kernel_shape", 0);
    if (kernel[0] != 0 && (kernel[0] != kh || kernel[1] != kw)) {
      throw unsupported(node, "kernel_shape " + Arrays.toString(kernel) + " does not match the weight "
          + Arrays.toString(w.dims()));
    }
    if (groups <= 0 || shape[0] % groups != 0 || w.dims()[1] * groups != shape[0]) {
      throw unsupported(node, "weight " + Arrays.toString(w.dims()) + " with group " + groups + " does not fit the "
          + shape[0] + " input channels");
    }
    int[] pads = pads(node, new int[] {kh, kw}, strides, dilations);
    String padding;
    if (pads[0] == pads[2] && pads[1] == pads[3]) {
      padding = pads[0] == pads[1] ? Integer.toString(pads[0]) : pads[0] + "," + pads[1];
    } else if (strides[0] == 1 && strides[1] == 1 && isSame(pads, kh, kw, dilations)) {
      padding = "same";
    } else {
      throw unsupported(node, "asymmetric padding " + Arrays.toString(pads) + " that is not 'same' with stride 1");
    }
    Onnx.Tensor b = optionalConstant(node, 2, "bias");
    Onnx.Node padNode = pendingPadNode;
    pendingPadNode = null;
    LayerBuilder layer = add(node, LayerKinds.CONV2D, "conv");
    if (padNode != null) {
      layer.nodes.add(0, padNode.describe());
    }
    layer.attributes.put("outChannels", out);
    layer.attributes.put("kernelSize", kh == kw ? new int[] {kh} : new int[] {kh, kw});
    putPair(layer, "stride", strides);
    if (!padding.equals("0")) {
      layer.attributes.put("padding", padding);
    }
    putPair(layer, "dilation", dilations);
    if (groups != 1) {
      layer.attributes.put("groups", groups);
    }
    if (b == null) {
      layer.attributes.put("bias", false);
    }
    layer.weights.put("weight", tensor(node, w, out, (int) w.dims()[1], kh, kw));
    if (b != null) {
      layer.weights.put("bias", tensor(node, b, out));
    }
    shape = new int[] {out, ConvGeometry.outSize(shape[1], pads[0], pads[2], kh, strides[0], dilations[0]),
        ConvGeometry.outSize(shape[2], pads[1], pads[3], kw, strides[1], dilations[1])};
    checkOutput(node);
  }

  /** Kiln's "same": total {@code d * (k - 1)}, the odd pixel at the bottom/right. */
  private static boolean isSame(int[] pads, int kh, int kw, int[] d) {
    long th = (long) d[0] * (kh - 1);
    long tw = (long) d[1] * (kw - 1);
    return pads[0] == th / 2 && pads[2] == th - th / 2 && pads[1] == tw / 2 && pads[3] == tw - tw / 2;
  }

  /** {top, left, bottom, right} from auto_pad or pads, with a pending Pad added. */
  private int[] pads(Onnx.Node node, int[] kernel, int[] strides, int[] dilations) throws IOException {
    String auto = stringAttr(node, "auto_pad", "NOTSET");
    int[] pads;
    switch (auto) {
      case "NOTSET" -> {
        long[] p = intsAttr(node, "pads", new long[] {0, 0, 0, 0});
        if (p.length != 4) {
          throw unsupported(node, "pads " + Arrays.toString(p) + " is not {top, left, bottom, right}");
        }
        pads = new int[4];
        for (int i = 0; i < 4; i++) {
          if (p[i] < 0 || p[i] > 1 << 16) {
            throw unsupported(node, "pads " + Arrays.toString(p) + " out of range");
          }
          pads[i] = (int) p[i];
        }
      }
      case "VALID" -> pads = new int[4];
      case "SAME_UPPER", "SAME_LOWER" -> {
        pads = new int[4];
        for (int a = 0; a < 2; a++) {
          long in = shape[a + 1];
          long outSize = (in + strides[a] - 1) / strides[a];
          long total = Math.max((outSize - 1) * strides[a] + (long) (kernel[a] - 1) * dilations[a] + 1 - in, 0);
          if (total > 1 << 17) {
            throw unsupported(node, "auto_pad " + auto + " gives padding " + total + ", out of range");
          }
          int small = (int) total / 2;
          pads[a] = auto.equals("SAME_UPPER") ? small : (int) total - small;
          pads[a + 2] = (int) total - pads[a];
        }
      }
      default -> throw unsupported(node, "auto_pad " + quote(auto)
          + " is not NOTSET, VALID, SAME_UPPER or SAME_LOWER");
    }
    if (pendingPad != null) {
      for (int i = 0; i < 4; i++) {
        pads[i] += pendingPad[i];
      }
      pendingPad = null;
    }
    return pads;
  }

  /** The node's output {@link #shape} is neither empty nor more than a Kiln tensor holds (2^31 - 1 a sample). */
  private void checkOutput(Onnx.Node node) throws IOException {
    for (int d : shape) {
      if (d <= 0) {
        throw unsupported(node, "gives an empty output " + Arrays.toString(shape));
      }
    }
    long elements = elements(shape);
    if (elements > Integer.MAX_VALUE) {
      throw unsupported(node, "gives an output " + Arrays.toString(shape) + " of " + elements + " elements a sample, "
          + "more than Kiln's tensors hold (2^31 - 1)");
    }
  }

  // ---- activations ----

  private void relu(Onnx.Node node, String what) throws IOException {
    LayerBuilder prev = last();
    if (prev != null && prev.kind == LayerKinds.CONV2D && !prev.attributes.containsKey("activation")) {
      prev.attributes.put("activation", new EnumValue("Activation", "RELU"));
      prev.nodes.add(node.describe());
      advance(node);
    } else if (prev != null && prev.attributes.containsKey("activation")) {
      prev.nodes.add(node.describe() + " (no-op after " + prev.attributes.get("activation") + ")");
      advance(node);
    } else if (what.equals("Relu")) {
      add(node, LayerKinds.RELU, "relu");
    } else {
      throw unsupported(node, "Clip(0, +inf) is imported as a ReLU right after a Conv only");
    }
  }

  private void clip(Onnx.Node node) throws IOException {
    float min;
    float max;
    if (opset < 11) {
      min = node.attributes().containsKey("min") ? node.attributes().get("min").f() : Float.NEGATIVE_INFINITY;
      max = node.attributes().containsKey("max") ? node.attributes().get("max").f() : Float.POSITIVE_INFINITY;
    } else {
      min = scalar(node, 1, "min", Float.NEGATIVE_INFINITY);
      max = scalar(node, 2, "max", Float.POSITIVE_INFINITY);
    }
    if (min == 0f && max == Float.POSITIVE_INFINITY) {
      relu(node, "Clip");
      return;
    }
    if (min != 0f || max != 6f) {
      throw unsupported(node, "Clip(" + min + ", " + max + "): only Clip(0, 6) (ReLU6) and Clip(0, +inf) (ReLU) "
          + "are imported");
    }
    LayerBuilder prev = last();
    if (prev == null || prev.kind != LayerKinds.CONV2D) {
      throw unsupported(node, "Clip(0, 6) is imported as the RELU6 activation of the Conv right before it, but "
          + (prev == null ? "it reads the network's input" : "it follows a " + prev.kind.annotation() + " layer"));
    }
    prev.attributes.put("activation", new EnumValue("Activation", "RELU6"));
    prev.nodes.add(node.describe());
    advance(node);
  }

  /** The one value of the float constant at input {@code index}, {@code absent} when the input is left out. */
  private float scalar(Onnx.Node node, int index, String what, float absent) throws IOException {
    Onnx.Tensor t = optionalConstant(node, index, what);
    if (t == null) {
      return absent;
    }
    if (t.floats() == null || t.floats().length != 1) {
      throw unsupported(node, "its " + what + " (input " + index + ") " + t + " is not one float"
          + (t.floats() == null ? "" : " but " + t.floats().length));
    }
    return t.floats()[0];
  }

  // ---- BatchNorm ----

  private void batchNorm(Onnx.Node node) throws IOException {
    requireMap(node);
    if (intAttr(node, "training_mode", 0) != 0) {
      throw unsupported(node, "training_mode = 1; Kiln imports inference graphs");
    }
    int c = shape[0];
    Tensor gamma = tensor(node, constant(node, 1, "scale"), c);
    Tensor beta = tensor(node, constant(node, 2, "B"), c);
    Tensor mean = tensor(node, constant(node, 3, "input_mean"), c);
    Tensor var = tensor(node, constant(node, 4, "input_var"), c);
    double eps = node.attributes().containsKey("epsilon") ? node.attributes().get("epsilon").f() : 1e-5;
    float[] v = var.data();
    for (int i = 0; i < c; i++) {
      double adjusted = (double) v[i] + eps - KILN_EPS; // var + eps == adjusted + 1e-5
      if (!(adjusted >= 0)) {
        throw unsupported(node, "epsilon " + eps + " with running variance " + v[i] + " cannot be expressed with "
            + "Kiln's epsilon 1e-5");
      }
      v[i] = (float) adjusted;
    }
    LayerBuilder layer = add(node, LayerKinds.BATCH_NORM, "bn");
    layer.weights.put("weight", gamma);
    layer.weights.put("bias", beta);
    layer.weights.put("running_mean", mean);
    layer.weights.put("running_var", var);
    layer.weights.put("num_batches_tracked", Tensor.scalar(0f));
  }

  // ---- pooling and reshaping ----

  private void pool(Onnx.Node node) throws IOException {
    requireMap(node);
    boolean max = node.opType().equals("MaxPool");
    int[] kernel = pair(node, "kernel_shape", 0);
    if (kernel[0] <= 0) {
      throw unsupported(node, "no kernel_shape");
    }
    int[] strides = pair(node, "strides", 1);
    int[] dilations = pair(node, "dilations", 1);
    if (dilations[0] != 1 || dilations[1] != 1) {
      throw unsupported(node, "dilations " + Arrays.toString(dilations) + "; Kiln's pools have none");
    }
    if (intAttr(node, "ceil_mode", 0) != 0) {
      throw unsupported(node, "ceil_mode = 1; Kiln's pools round the output size down");
    }
    if (max && intAttr(node, "storage_order", 0) != 0) {
      throw unsupported(node, "storage_order = 1");
    }
    int[] pending = pendingPad;
    if (max && pending != null) {
      throw unsupported(node, "a zero Pad in front of MaxPool is not MaxPool padding (which ignores padded cells)");
    }
    pendingPad = null;
    int[] own = pads(node, kernel, strides, dilations);
    boolean hasOwn = Arrays.stream(own).anyMatch(p -> p != 0);
    if (!max && hasOwn && intAttr(node, "count_include_pad", 0) == 0) {
      throw unsupported(node, "pads with count_include_pad = 0 leave the padding out of the average; Kiln's "
          + "AvgPool2d counts it (PyTorch's default)");
    }
    int[] pads = own;
    if (pending != null) {
      for (int i = 0; i < 4; i++) {
        pads[i] += pending[i];
      }
    }
    if (pads[0] != pads[2] || pads[1] != pads[3]) {
      throw unsupported(node, "asymmetric padding " + Arrays.toString(pads));
    }
    if (pads[0] > kernel[0] / 2 || pads[1] > kernel[1] / 2) {
      throw unsupported(node, "padding " + pads[0] + "," + pads[1] + " larger than half the kernel "
          + kernel[0] + "x" + kernel[1] + " (Kiln's and PyTorch's limit)");
    }
    LayerBuilder layer = add(node, max ? LayerKinds.MAX_POOL : LayerKinds.AVG_POOL, "pool");
    if (pendingPadNode != null && pending != null) {
      layer.nodes.add(0, pendingPadNode.describe());
      pendingPadNode = null;
    }
    layer.attributes.put("kernelSize", kernel[0] == kernel[1] ? new int[] {kernel[0]} : kernel);
    layer.attributes.put("stride", strides[0] == strides[1] ? new int[] {strides[0]} : strides);
    if (pads[0] != 0 || pads[1] != 0) {
      layer.attributes.put("padding", pads[0] == pads[1] ? new int[] {pads[0]} : new int[] {pads[0], pads[1]});
    }
    shape = new int[] {shape[0], ConvGeometry.outSize(shape[1], pads[0], pads[2], kernel[0], strides[0], 1),
        ConvGeometry.outSize(shape[2], pads[1], pads[3], kernel[1], strides[1], 1)};
    checkOutput(node);
  }

  private void pad(Onnx.Node node) throws IOException {
    if (pendingPad != null) {
      throw unsupported(node, "two Pads in a row");
    }
    requireMap(node);
    String mode = stringAttr(node, "mode", "constant");
    if (!mode.equals("constant")) {
      throw unsupported(node, "mode " + quote(mode) + "; only zero (constant) padding is imported");
    }
    long[] p;
    if (opset < 11) {
      p = intsAttr(node, "pads", null);
      if (node.attributes().containsKey("value") && node.attributes().get("value").f() != 0f) {
        throw unsupported(node, "pads with value " + node.attributes().get("value").f() + "; only zeros");
      }
    } else {
      Onnx.Tensor t = constant(node, 1, "pads");
      p = t.longs();
      if (scalar(node, 2, "constant_value", 0f) != 0f) {
        throw unsupported(node, "a constant_value other than 0");
      }
      if (!node.input(3).isEmpty()) {
        throw unsupported(node, "an axes input");
      }
    }
    if (p == null || p.length != 8 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0) {
      throw unsupported(node, "pads " + Arrays.toString(p) + ": only the height and width of [N, C, H, W] may be "
          + "padded");
    }
    for (long v : p) {
      if (v < 0 || v > 1 << 16) {
        throw unsupported(node, "pads " + Arrays.toString(p) + " out of range");
      }
    }
    pendingPad = new int[] {(int) p[2], (int) p[3], (int) p[6], (int) p[7]};
    pendingPadNode = node;
    advance(node);
  }

  private void globalAveragePool(Onnx.Node node) throws IOException {
    requireMap(node);
    add(node, LayerKinds.GLOBAL_AVG_POOL, "gap");
    shape = new int[] {shape[0], 1, 1};
    checkOutput(node);
  }

  private void flatten(Onnx.Node node) throws IOException {
    long axis = intAttr(node, "axis", 1);
    if (axis != 1) {
      throw unsupported(node, "axis " + axis + "; Kiln's Flatten keeps the batch dimension (axis 1)");
    }
    flattenLayer(node);
  }

  private void flattenLayer(Onnx.Node node) throws IOException {
    if (shape.length == 1) {
      LayerBuilder prev = last();
      if (prev != null) {
        prev.nodes.add(node.describe() + " (no-op on a flat vector)");
      }
      advance(node);
      return;
    }
    long features = elements(shape);
    if (features > Integer.MAX_VALUE) {
      throw unsupported(node, "flattens " + Arrays.toString(shape) + " into " + features + " features, more than "
          + "Kiln's tensors hold (2^31 - 1)");
    }
    add(node, LayerKinds.FLATTEN, "flatten");
    shape = new int[] {(int) features};
  }

  /**
   * The product of {@code dims}, exact for the shapes it is given: a sample's (at most three dimensions below
   * 2^31) and the shape {@link #tensor} expects of a constant (one dimension, or a convolution weight's own four,
   * whose product the reader caps at {@link OnnxReader#MAX_ELEMENTS}).
   */
  private static long elements(int[] dims) {
    long n = 1;
    for (int d : dims) {
      n *= d;
    }
    return n;
  }

  private void reshape(Onnx.Node node) throws IOException {
    Onnx.Tensor target = constant(node, 1, "shape");
    long[] t = target.longs();
    long features = elements(shape);
    boolean flat = t != null && t.length == 2 && (t[0] == -1 ? t[1] == features
        : (t[0] == 0 || t[0] == 1) && (t[1] == -1 || t[1] == features));
    if (!flat || (intAttr(node, "allowzero", 0) != 0 && t[0] == 0)) {
      throw unsupported(node, "shape " + (t == null ? "(not integers)" : Arrays.toString(t)) + " of "
          + Arrays.toString(shape) + " samples; only the Reshape to [N, " + features + "] that flattens is imported");
    }
    flattenLayer(node);
  }

  // ---- linear layers ----

  private void gemm(Onnx.Node node) throws IOException {
    if (intAttr(node, "transA", 0) != 0) {
      throw unsupported(node, "transA = 1");
    }
    boolean transB = intAttr(node, "transB", 0) != 0;
    float alpha = floatAttr(node, "alpha", 1f);
    float beta = floatAttr(node, "beta", 1f);
    linear(node, constant(node, 1, "B"), transB, alpha, optionalConstant(node, 2, "C"), beta);
  }

  private void matMul(Onnx.Node node) throws IOException {
    Onnx.Tensor b = constant(node, 1, "B");
    Onnx.Tensor bias = null;
    Onnx.Node biasAdd = null;
    String out = node.outputs().get(0);
    List<Onnx.Node> readers = consumers.getOrDefault(out, List.of());
    if (readers.size() == 1 && readers.get(0).opType().equals("Add") && readers.get(0).isOnnxOperator()) {
      Onnx.Node add = readers.get(0);
      String other = add.input(0).equals(out) ? add.input(1) : add.input(0);
      if (constants.containsKey(other)) {
        bias = constants.get(other);
        biasAdd = add;
      }
    }
    linear(node, b, false, 1f, bias, 1f);
    if (biasAdd != null) {
      consumedAdds.add(biasAdd);
      last().nodes.add(biasAdd.describe());
      current = biasAdd.outputs().get(0);
    }
  }

  /** A Linear from {@code B} ({@code [in, out]}, or {@code [out, in]} when {@code transB}) and a bias. */
  private void linear(Onnx.Node node, Onnx.Tensor b, boolean transB, float alpha, Onnx.Tensor c, float beta)
      throws IOException {
    if (shape.length != 1) {
      throw unsupported(node, "needs a flat [N, F] input but " + Arrays.toString(shape)
          + " samples arrive (a Flatten is missing)");
    }
    if (b.dims().length != 2) {
      throw unsupported(node, "weight " + Arrays.toString(b.dims()) + " is not a matrix");
    }
    int in = (int) b.dims()[transB ? 1 : 0];
    int out = (int) b.dims()[transB ? 0 : 1];
    if (out < 1) {
      throw unsupported(node, "weight " + Arrays.toString(b.dims()) + (transB ? " (transposed)" : "")
          + " has no outputs");
    }
    if (in != shape[0]) {
      throw unsupported(node, "weight " + Arrays.toString(b.dims()) + (transB ? " (transposed)" : "")
          + " does not take the " + shape[0] + " features that arrive");
    }
    float[] src = floats(node, b);
    float[] w = new float[out * in];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        w[o * in + i] = alpha * (transB ? src[o * in + i] : src[i * out + o]);
      }
    }
    float[] bias = null;
    if (c != null) {
      float[] cv = floats(node, c);
      if (cv.length != out && cv.length != 1) {
        throw unsupported(node, "bias " + Arrays.toString(c.dims()) + " does not fit " + out + " outputs");
      }
      bias = new float[out];
      for (int o = 0; o < out; o++) {
        bias[o] = beta * (cv.length == 1 ? cv[0] : cv[o]);
      }
    }
    LayerBuilder layer = add(node, LayerKinds.LINEAR, "fc");
    layer.attributes.put("outFeatures", out);
    if (bias == null) {
      layer.attributes.put("bias", false);
    }
    layer.weights.put("weight", Tensor.of(w, out, in));
    if (bias != null) {
      layer.weights.put("bias", Tensor.of(bias, out));
    }
    shape = new int[] {out};
  }

  private void dropout(Onnx.Node node) throws IOException {
    double p;
    if (opset < 12) {
      p = floatAttr(node, "ratio", 0.5f);
    } else {
      p = scalar(node, 1, "ratio", 0.5f);
      Onnx.Tensor training = optionalConstant(node, 2, "training_mode");
      if (training != null) {
        if (training.longs() == null || training.longs().length != 1) {
          throw unsupported(node, "its training_mode (input 2) " + training + " is not one boolean");
        }
        if (training.longs()[0] != 0) {
          throw unsupported(node, "training_mode = true; Kiln imports inference graphs");
        }
      }
    }
    if (!(p >= 0 && p < 1)) {
      throw unsupported(node, "ratio " + p + " outside [0, 1)");
    }
    LayerBuilder layer = add(node, LayerKinds.DROPOUT, "dropout");
    layer.attributes.put("p", Double.parseDouble(Float.toString((float) p)));
  }

  // ---- helpers ----

  private Onnx.Tensor constant(Onnx.Node node, int index, String what) throws IOException {
    Onnx.Tensor t = optionalConstant(node, index, what);
    if (t == null) {
      throw unsupported(node, "has no " + what + " (input " + index + ")");
    }
    return t;
  }

  private Onnx.Tensor optionalConstant(Onnx.Node node, int index, String what) throws IOException {
    String name = node.input(index);
    if (name.isEmpty()) {
      return null;
    }
    Onnx.Tensor t = constants.get(name);
    if (t == null) {
      throw unsupported(node, "its " + what + " " + quote(name) + " is computed, not a constant");
    }
    return t;
  }

  private float[] floats(Onnx.Node node, Onnx.Tensor t) throws IOException {
    if (t.floats() == null) {
      throw unsupported(node, t + " has data type " + t.dataType() + ", not float");
    }
    return t.floats();
  }

  /** A Kiln tensor of the given shape from a float constant with as many elements. */
  private Tensor tensor(Onnx.Node node, Onnx.Tensor t, int... shapeOut) throws IOException {
    float[] v = floats(node, t);
    if (v.length != elements(shapeOut)) {
      throw unsupported(node, t + " has " + v.length + " values; " + Arrays.toString(shapeOut) + " expected");
    }
    return Tensor.of(v.clone(), shapeOut);
  }

  /** A two-element attribute ({@code fallback} for both when absent); values 1 to 65536 (0 only as a fallback). */
  private int[] pair(Onnx.Node node, String name, int fallback) throws IOException {
    long[] v = intsAttr(node, name, new long[] {fallback, fallback});
    if (v.length != 2) {
      throw unsupported(node, name + " " + Arrays.toString(v) + " is not two sizes (Kiln imports 2-D layers)");
    }
    int min = fallback == 0 && !node.attributes().containsKey(name) ? 0 : 1;
    if (v[0] < min || v[1] < min || v[0] > 1 << 16 || v[1] > 1 << 16) {
      throw unsupported(node, name + " " + Arrays.toString(v) + " outside [1, 65536]");
    }
    return new int[] {(int) v[0], (int) v[1]};
  }

  private static void putPair(LayerBuilder layer, String attribute, int[] v) {
    if (v[0] != 1 || v[1] != 1) {
      layer.attributes.put(attribute, v[0] == v[1] ? new int[] {v[0]} : v);
    }
  }

  private long intAttr(Onnx.Node node, String name, long fallback) {
    Onnx.Attribute a = node.attributes().get(name);
    return a == null ? fallback : a.i();
  }

  private float floatAttr(Onnx.Node node, String name, float fallback) {
    Onnx.Attribute a = node.attributes().get(name);
    return a == null ? fallback : a.f();
  }

  private String stringAttr(Onnx.Node node, String name, String fallback) {
    Onnx.Attribute a = node.attributes().get(name);
    return a == null ? fallback : a.s();
  }

  private long[] intsAttr(Onnx.Node node, String name, long[] fallback) {
    Onnx.Attribute a = node.attributes().get(name);
    return a == null ? fallback : a.ints();
  }

  private static UnsupportedGraphException unsupported(Onnx.Node node, String why) {
    return new UnsupportedGraphException(node.describe() + ": " + why);
  }

  /** An enum constant written as {@code Type.NAME} (the processor's annotation types are not on hand here). */
  public record EnumValue(String type, String name) {
    @Override
    public String toString() {
      return type + "." + name;
    }
  }

  /** A layer under construction. */
  private static final class LayerBuilder {
    final LayerKind kind;
    final String method;
    final Map<String, Object> attributes = new LinkedHashMap<>();
    final Map<String, Tensor> weights = new LinkedHashMap<>();
    final List<String> nodes = new ArrayList<>();

    LayerBuilder(LayerKind kind, String method) {
      this.kind = kind;
      this.method = method;
    }
  }
}
