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
 *
 * <p>A small file can describe an exponential expansion (functions whose bodies call the next function many
 * times, even with nothing at the bottom), so inlining is bounded twice: at most {@link #MAX_NODES} nodes made,
 * and at most {@link #MAX_WORK} units of work, counted before the work is done. Time and memory are linear in
 * the units (a few dozen bytes each at most).
 */
final class FunctionInliner {
  static final int MAX_DEPTH = 16;
  /** The most nodes inlining may produce. */
  static final int MAX_NODES = 100_000;
  /**
   * The most units of work inlining may do. A node visited (a call as well as a node of a body) costs one, plus
   * one for each of its inputs, outputs and attributes; a call costs one more for each formal input and output
   * it binds; a name made (a body's inner name under its call's) costs one more per 16 characters.
   */
  static final int MAX_WORK = 1_000_000;
  private static final int CHARACTERS_PER_UNIT = 16;

  private final Map<String, Onnx.Function> functions = new HashMap<>();
  private int produced;
  private long work;

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

  /** Counts {@code units} of work against {@link #MAX_WORK}, before they are done. */
  private void charge(long units) throws UnsupportedGraphException {
    work += units;
    if (work > MAX_WORK) {
      throw new UnsupportedGraphException("inlining local functions takes more than " + MAX_WORK + " units of "
          + "work (nodes, names and attributes bound; the functions' calls expand too far)");
    }
  }

  /** A name made by inlining, {@code prefix + name}, its characters charged first. */
  private String made(String prefix, String name) throws UnsupportedGraphException {
    charge(1 + ((long) prefix.length() + name.length()) / CHARACTERS_PER_UNIT);
    return prefix + name;
  }

  private void expand(Onnx.Node node, String path, int depth, List<Onnx.Node> out) throws IOException {
    charge(1L + node.inputs().size() + node.outputs().size() + node.attributes().size());
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
    charge(f.inputs().size() + f.outputs().size());
    // A body node's name already carries its call's path, so only an unnamed call adds the path here.
    String prefix = node.name().isEmpty() ? made(path, node.opType() + "_" + node.index() + "/")
        : made(node.name(), "/");
    Map<String, String> names = new HashMap<>();
    for (int i = 0; i < f.inputs().size(); i++) {
      names.put(f.inputs().get(i), node.input(i));
    }
    for (int i = 0; i < f.outputs().size(); i++) {
      names.put(f.outputs().get(i), i < node.outputs().size() ? node.outputs().get(i) : "");
    }
    for (Onnx.Node inner : f.nodes()) {
      List<String> inputs = new ArrayList<>(inner.inputs().size());
      for (String in : inner.inputs()) {
        inputs.add(bind(in, names, prefix));
      }
      List<String> outputs = new ArrayList<>(inner.outputs().size());
      for (String o : inner.outputs()) {
        outputs.add(bind(o, names, prefix));
      }
      Map<String, Onnx.Attribute> attributes = new LinkedHashMap<>();
      for (Onnx.Attribute a : inner.attributes().values()) {
        if (a.refAttrName().isEmpty()) {
          attributes.put(a.name(), a);
        } else if (node.attributes().containsKey(a.refAttrName())) {
          attributes.put(a.name(), node.attributes().get(a.refAttrName()).renamed(a.name()));
        }
      }
      String name = made(prefix, inner.name().isEmpty() ? inner.opType() + "_" + inner.index() : inner.name());
      Onnx.Node bound = new Onnx.Node(inner.index(), name, inner.opType(), inner.domain(), List.copyOf(inputs),
          List.copyOf(outputs), attributes.isEmpty() ? Map.of() : attributes);
      expand(bound, prefix, depth + 1, out);
    }
  }

  /** A body's tensor name as the call sees it: a formal input or output bound, an inner one under the prefix. */
  private String bind(String name, Map<String, String> names, String prefix) throws UnsupportedGraphException {
    if (name.isEmpty()) {
      return "";
    }
    String bound = names.get(name);
    return bound != null ? bound : made(prefix, name);
  }
}
