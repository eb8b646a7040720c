package dev.kiln.processor.onnx;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replaces every call of an ONNX local function by the function's body: the body's inputs and outputs bound to
 * the call's, its inner tensors renamed under the call's name so they cannot collide, and attributes that
 * reference the function's attributes ({@code ref_attr_name}) given the call's values (or dropped, falling back
 * to the operator's default, when the call does not set them). Calls inside bodies are inlined too, up to
 * {@link #MAX_DEPTH} levels; a function that calls itself is an error.
 */
final class FunctionInliner {
  static final int MAX_DEPTH = 16;
  /** The most nodes inlining may produce (a small file can otherwise describe an exponential expansion). */
  static final int MAX_NODES = 100_000;

  private final Map<String, Onnx.Function> functions = new HashMap<>();
  private int produced;

  private FunctionInliner(List<Onnx.Function> list) {
    for (Onnx.Function f : list) {
      functions.put(key(f.domain(), f.name()), f);
    }
  }

  private static String key(String domain, String name) {
    return domain + ":" + name;
  }

  /** The graph's nodes with every local function call inlined, renumbered in order. */
  static List<Onnx.Node> inline(Onnx.Model model) throws IOException {
    List<Onnx.Node> nodes = model.graph().nodes();
    if (model.functions().isEmpty()) {
      return nodes;
    }
    FunctionInliner inliner = new FunctionInliner(model.functions());
    List<Onnx.Node> out = new ArrayList<>();
    for (Onnx.Node node : nodes) {
      inliner.expand(node, "", 0, out);
    }
    List<Onnx.Node> renumbered = new ArrayList<>(out.size());
    for (int i = 0; i < out.size(); i++) {
      Onnx.Node n = out.get(i);
      renumbered.add(new Onnx.Node(i, n.name(), n.opType(), n.domain(), n.inputs(), n.outputs(), n.attributes()));
    }
    return renumbered;
  }

  private void expand(Onnx.Node node, String path, int depth, List<Onnx.Node> out) throws IOException {
    Onnx.Function f = functions.get(key(node.domain(), node.opType()));
    if (f == null) {
      if (++produced > MAX_NODES) {
        throw new UnsupportedGraphException("inlining local functions gives more than " + MAX_NODES + " nodes");
      }
      out.add(node);
      return;
    }
    if (depth >= MAX_DEPTH) {
      throw new UnsupportedGraphException(node.describe() + ": local function " + f.domain() + "." + f.name()
          + " nested more than " + MAX_DEPTH + " deep (does it call itself?)");
    }
    if (node.inputs().size() > f.inputs().size() || node.outputs().size() > f.outputs().size()) {
      throw new UnsupportedGraphException(node.describe() + ": calls local function " + f.name() + " with "
          + node.inputs().size() + " inputs and " + node.outputs().size() + " outputs but it declares "
          + f.inputs().size() + " and " + f.outputs().size());
    }
    // A body node's name already carries its call's path, so only an unnamed call adds the path here.
    String prefix = (node.name().isEmpty() ? path + node.opType() + "_" + node.index() : node.name()) + "/";
    Map<String, String> names = new HashMap<>();
    for (int i = 0; i < f.inputs().size(); i++) {
      names.put(f.inputs().get(i), node.input(i));
    }
    for (int i = 0; i < f.outputs().size(); i++) {
      names.put(f.outputs().get(i), i < node.outputs().size() ? node.outputs().get(i) : "");
    }
    for (Onnx.Node inner : f.nodes()) {
      List<String> inputs = new ArrayList<>();
      for (String in : inner.inputs()) {
        inputs.add(in.isEmpty() ? "" : names.getOrDefault(in, prefix + in));
      }
      List<String> outputs = new ArrayList<>();
      for (String o : inner.outputs()) {
        outputs.add(o.isEmpty() ? "" : names.getOrDefault(o, prefix + o));
      }
      Map<String, Onnx.Attribute> attributes = new LinkedHashMap<>();
      for (Onnx.Attribute a : inner.attributes().values()) {
        if (a.refAttrName().isEmpty()) {
          attributes.put(a.name(), a);
        } else if (node.attributes().containsKey(a.refAttrName())) {
          attributes.put(a.name(), node.attributes().get(a.refAttrName()).renamed(a.name()));
        }
      }
      Onnx.Node bound = new Onnx.Node(inner.index(), prefix + (inner.name().isEmpty() ? inner.opType() + "_"
          + inner.index() : inner.name()), inner.opType(), inner.domain(), List.copyOf(inputs),
          List.copyOf(outputs), attributes);
      expand(bound, prefix, depth + 1, out);
    }
  }
}
