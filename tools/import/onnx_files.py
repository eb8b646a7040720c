"""ONNX files for Kiln's import tests, with PyTorch's outputs for them (the build never runs Python).

Every file is small and committed to processor/src/test/resources/onnx/, each ``NAME.onnx`` with
``NAME.golden.safetensors`` (``input``, a batch of 3 samples, and ``output``, PyTorch's eval-mode result for the
same weights; for the files built with ``onnx.helper``, a PyTorch module holding the same weights):

  digits-deploy.onnx     opset 13, torch export: the CLI's DigitsNet in deploy form (Conv+Relu x4,
                         GlobalAveragePool, Flatten, Gemm)
  repvgg-deploy.onnx     opset 11, torch export: the official RepVGG structure in deploy form (RepVGG-A0's
                         blocks, width 0.0625, 3x32x32), with the Constant + Reshape torch writes for ``view``
  mobile-relu6.onnx      opset 17, torch export, then a Dropout and an Identity node inserted: Conv (+ folded
                         BN) + Relu + Clip(0, 6) (F.relu6), depthwise Conv + Clip(0, 6) with Constant bounds
                         (nn.ReLU6), BatchNormalization fed through Identity nodes, dilated Conv without bias, MaxPool with pads, the zero Pad +
                         AveragePool torch writes for AvgPool2d(padding=1), 1x1 Conv, Relu,
                         GlobalAveragePool, Flatten, Gemm, MatMul + Add
  functions.onnx         opset 15, IR 8, onnx.helper: ONNX local functions (a Conv+Relu function with an
                         attribute reference, called twice), initializers as typed float_data fields, Clip
                         bounds as initializers, Gemm with transB = 0
  external.onnx          opset 12, torch export saved with external data (external.onnx.data), Dropout as
                         an opset-12 node with a ratio input
  unsupported.onnx       opset 14: a Sigmoid after the first Conv (refused)
  branching.onnx         opset 16: a train-form RepVGG block (three branches and Adds; refused)

Run: /usr/bin/python3 tools/import/onnx_files.py
"""
import io
import os
import sys
import warnings
from collections import OrderedDict

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "golden"))
import repvgg  # noqa: E402
import st  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "processor", "src", "test", "resources", "onnx")
warnings.filterwarnings("ignore")


def export(model, shape, opset):
    """The torch export of ``model`` (eval mode, batch 1) as an onnx ModelProto."""
    buf = io.BytesIO()
    torch.onnx.export(model, torch.zeros(1, *shape), buf, opset_version=opset, input_names=["input"],
                      output_names=["output"])
    return onnx.load_from_string(buf.getvalue())


def golden(name, model, shape, generator):
    x = torch.randn(3, *shape, generator=generator)
    with torch.no_grad():
        y = model(x)
    st.save(os.path.join(OUT, name + ".golden.safetensors"), OrderedDict([("input", x), ("output", y)]),
            {"file": name + ".onnx"})


def save(name, proto):
    onnx.checker.check_model(proto)
    onnx.save(proto, os.path.join(OUT, name + ".onnx"))
    print(name, "opset", proto.opset_import[0].version, [n.op_type for n in proto.graph.node])


def randomize_bn(model, generator):
    repvgg.perturb_batch_norms(model, generator, [("weight", "copy_", 0.5, 1.5), ("bias", "copy_", -0.3, 0.3),
                                                  ("running_mean", "copy_", -0.3, 0.3),
                                                  ("running_var", "copy_", 0.5, 2.0)])
    return model.eval()


class DigitsDeploy(nn.Module):
    """kiln-cli's DigitsNet after fusion: 3x3 convs with bias and ReLU (16-32-32-64, strides 1, 1, 1, 2)."""

    def __init__(self):
        super().__init__()
        self.stage0 = nn.Conv2d(1, 16, 3, 1, 1)
        self.stage1 = nn.Conv2d(16, 32, 3, 1, 1)
        self.stage2 = nn.Conv2d(32, 32, 3, 1, 1)
        self.stage3 = nn.Conv2d(32, 64, 3, 2, 1)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        for conv in (self.stage0, self.stage1, self.stage2, self.stage3):
            x = F.relu(conv(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(self.dropout(x))


class Mobile(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, 1, 1, groups=8)
        self.dilated = nn.Conv2d(8, 12, 3, 1, 2, dilation=2, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.act = nn.ReLU6()
        self.pool1 = nn.MaxPool2d(3, 2, 1)
        self.pool2 = nn.AvgPool2d(3, 1, 1)
        self.pw = nn.Conv2d(12, 16, 1)
        self.fc1 = nn.Linear(16, 12)
        self.w2 = nn.Parameter(torch.randn(12, 5) * 0.3)
        self.b2 = nn.Parameter(torch.randn(5) * 0.1)

    def forward(self, x):
        x = F.relu6(self.bn1(self.conv1(x)))
        x = self.bn2(self.act(self.dw(x)))
        x = self.dilated(x)
        x = self.pool2(self.pool1(x))
        x = F.relu(self.pw(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        x = F.relu(self.fc1(x))
        return x @ self.w2 + self.b2


def insert_after(graph, op_type, new_node_factory):
    """Inserts a node after the first ``op_type`` node, rewiring its consumers."""
    for i, node in enumerate(graph.node):
        if node.op_type == op_type:
            old = node.output[0]
            new = old + "_next"
            for later in graph.node[i + 1:]:
                for j, name in enumerate(later.input):
                    if name == old:
                        later.input[j] = new
            extra_nodes, extra_inits = new_node_factory(old, new)
            for k, n in enumerate(extra_nodes):
                graph.node.insert(i + 1 + k, n)
            graph.initializer.extend(extra_inits)
            return
    raise ValueError(op_type)


def mobile(g):
    model = randomize_bn(Mobile(), g)
    proto = export(model, (3, 16, 16), 17)
    insert_after(proto.graph, "Flatten", lambda a, b: (
        [helper.make_node("Dropout", [a, "dropout_ratio"], [b], name="dropout")],
        [numpy_helper.from_array(np.array(0.2, dtype=np.float32), "dropout_ratio")]))
    insert_after(proto.graph, "Relu", lambda a, b: ([helper.make_node("Identity", [a], [b], name="identity")], []))
    # torch writes Identity nodes in front of some initializers (seen for BatchNorm weights): do the same
    for i, node in enumerate(proto.graph.node):
        if node.op_type == "BatchNormalization":
            for j in (1, 2):
                source = node.input[j]
                node.input[j] = source + "_identity"
                proto.graph.node.insert(0, helper.make_node("Identity", [source], [source + "_identity"]))
            break
    save("mobile-relu6", proto)
    golden("mobile-relu6", model, (3, 16, 16), g)


def functions(g):
    """A graph of two calls to a local function ConvRelu(x, w, b) with a ``stride`` attribute reference, then
    Clip(0, 6) with initializer bounds, GlobalAveragePool, Flatten and Gemm(transB = 0)."""
    w1 = (torch.randn(6, 2, 3, 3, generator=g) * 0.4).numpy()
    b1 = (torch.randn(6, generator=g) * 0.1).numpy()
    w2 = (torch.randn(6, 6, 3, 3, generator=g) * 0.2).numpy()
    b2 = (torch.randn(6, generator=g) * 0.1).numpy()
    wl = (torch.randn(6, 4, generator=g) * 0.5).numpy()  # [in, out]: Gemm with transB = 0
    bl = (torch.randn(4, generator=g) * 0.1).numpy()

    def typed(name, array):  # initializers as float_data fields, not raw_data
        return helper.make_tensor(name, TensorProto.FLOAT, array.shape, array.flatten().tolist(), raw=False)

    stride_ref = helper.make_attribute_ref("strides", onnx.AttributeProto.INTS) if hasattr(
        helper, "make_attribute_ref") else None
    conv = helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    if stride_ref is None:
        ref = onnx.AttributeProto()
        ref.name = "strides"
        ref.ref_attr_name = "stride"
        ref.type = onnx.AttributeProto.INTS
        stride_ref = ref
    conv.attribute.append(stride_ref)
    fn = helper.make_function("kiln.test", "ConvRelu", ["x", "w", "b"], ["y"],
                              [conv, helper.make_node("Relu", ["c"], ["y"])],
                              [helper.make_opsetid("", 15)], ["stride"])
    nodes = [
        helper.make_node("ConvRelu", ["input", "w1", "b1"], ["h1"], domain="kiln.test", stride=[1, 1]),
        helper.make_node("ConvRelu", ["h1", "w2", "b2"], ["h2"], domain="kiln.test", stride=[2, 2]),
        helper.make_node("Clip", ["h2", "lo", "hi"], ["h3"]),
        helper.make_node("GlobalAveragePool", ["h3"], ["h4"]),
        helper.make_node("Flatten", ["h4"], ["h5"], axis=1),
        helper.make_node("Gemm", ["h5", "wl", "bl"], ["output"], transB=0),
    ]
    inits = [typed("w1", w1), typed("b1", b1), typed("w2", w2), typed("b2", b2), typed("wl", wl), typed("bl", bl),
             typed("lo", np.array(0.0, dtype=np.float32)), typed("hi", np.array(6.0, dtype=np.float32))]
    graph = helper.make_graph(nodes, "functions", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                                                 [1, 2, 10, 10])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4])], inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15), helper.make_opsetid("kiln.test", 1)],
                              functions=[fn], ir_version=8, producer_name="kiln tools/import/onnx_files.py")
    save("functions", proto)

    class Same(nn.Module):
        def forward(self, x):
            x = F.relu(F.conv2d(x, torch.from_numpy(w1), torch.from_numpy(b1), 1, 1))
            x = F.relu(F.conv2d(x, torch.from_numpy(w2), torch.from_numpy(b2), 2, 1))
            x = torch.clamp(x, 0, 6).mean(dim=(2, 3))
            return x @ torch.from_numpy(wl) + torch.from_numpy(bl)

    golden("functions", Same(), (2, 10, 10), g)


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        self.drop = nn.Dropout(0.25)
        self.fc = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv(x))))
        return self.fc(self.drop(torch.flatten(x, 1)))


def external(g):
    model = Small().eval()
    proto = export(model, (2, 6, 6), 12)
    insert_after(proto.graph, "Flatten", lambda a, b: (
        [helper.make_node("Dropout", [a, "ratio"], [b], name="drop")],
        [numpy_helper.from_array(np.array(0.25, dtype=np.float32), "ratio")]))
    onnx.checker.check_model(proto)
    data = "external.onnx.data"
    if os.path.exists(os.path.join(OUT, data)):
        os.remove(os.path.join(OUT, data))
    onnx.save_model(proto, os.path.join(OUT, "external.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location=data, size_threshold=0)
    print("external opset 12", [n.op_type for n in proto.graph.node])
    golden("external", model, (2, 6, 6), g)


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)

    def forward(self, x):
        return torch.sigmoid(self.conv(x)).flatten(1)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(20)
    torch.manual_seed(20)

    digits = DigitsDeploy().eval()
    save("digits-deploy", export(digits, (1, 8, 8), 13))
    golden("digits-deploy", digits, (1, 8, 8), g)

    rep = repvgg.RepVGG(repvgg.A0_BLOCKS, (0.0625,) * 4, 10, deploy=True).eval()
    save("repvgg-deploy", export(rep, (3, 32, 32), 11))
    golden("repvgg-deploy", rep, (3, 32, 32), g)

    mobile(g)
    functions(g)
    external(g)
    save("unsupported", export(Unsupported().eval(), (1, 5, 5), 14))
    save("branching", export(randomize_bn(nn.Sequential(repvgg.Block(2, 2)), g), (2, 4, 4), 16))


if __name__ == "__main__":
    main()
