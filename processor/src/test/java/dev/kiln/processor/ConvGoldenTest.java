package dev.kiln.processor;

import static com.google.common.truth.Truth.assertThat;
import static dev.kiln.testing.NumericAssertions.assertClose;

import com.google.testing.compile.Compilation;
import dev.kiln.nn.ConvKernel;
import dev.kiln.nn.Module;
import dev.kiln.nn.ReferenceConv2d;
import dev.kiln.processor.testing.ConvCase;
import dev.kiln.processor.testing.InMemoryCompiler;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.Golden;
import dev.kiln.testing.JsonParser;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Golden tests against PyTorch ({@code tools/golden/conv_golden.py}): a covering design over every
 * {@code @Conv2d} attribute value. All cases are compiled in one in-process javac run; each generated
 * kernel and {@link ReferenceConv2d} must reproduce torch's output and all three gradients.
 */
class ConvGoldenTest {
  private static final String PKG = "dev.kiln.golden";
  private static final String OUTER = "GoldenCases";
  /** The number of cases {@code conv_golden.py} writes; a regenerated file with another count must update this. */
  private static final int EXPECTED_CASES = 103;

  private static Golden golden;
  private static List<ConvCase> cases;
  private static ClassLoader loader;

  @BeforeAll
  static void compileAll() throws Exception {
    golden = Golden.load("/golden/conv/conv_golden.safetensors");
    int count = golden.cases();
    cases = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String key = String.format("c%03d", i);
      cases.add(ConvCase.fromJson("C" + key.substring(1), JsonParser.parseObject(golden.metadata(key))));
    }
    Compilation compilation = ConvCase.compile(PKG, OUTER, cases);
    loader = InMemoryCompiler.loader(compilation);
  }

  private static String key(ConvCase c, String tensor) {
    return "c" + c.name().substring(1) + "." + tensor;
  }

  private static Map<String, Tensor> state(ConvCase c) {
    Map<String, Tensor> state = new LinkedHashMap<>();
    state.put("weight", golden.tensor(key(c, "weight")));
    if (c.bias()) {
      state.put("bias", golden.tensor(key(c, "bias")));
    }
    return state;
  }

  /** Forward and backward in training mode, every result compared with torch's. */
  private static void check(String what, ConvCase c, Module module, Tensor weightGrad, Tensor biasGrad) {
    module.loadStateDict(state(c));
    module.train(true);
    module.zeroGrad();
    Tensor y = module.forward(golden.tensor(key(c, "input")));
    assertClose(what + " " + c.label() + " output", golden.tensor(key(c, "output")), y);
    Tensor gx = module.backward(golden.tensor(key(c, "grad_output")));
    assertClose(what + " " + c.label() + " grad_input", golden.tensor(key(c, "grad_input")), gx);
    assertClose(what + " " + c.label() + " grad_weight", golden.tensor(key(c, "grad_weight")), weightGrad);
    if (c.bias()) {
      assertClose(what + " " + c.label() + " grad_bias", golden.tensor(key(c, "grad_bias")), biasGrad);
    } else {
      assertThat(golden.tensors()).doesNotContainKey(key(c, "grad_bias"));
      assertThat(biasGrad).isNull();
    }
  }

  @Test
  void generatedKernelsMatchPyTorch() {
    int checked = 0;
    for (ConvCase c : cases) {
      ConvKernel kernel = c.kernel(loader, PKG, OUTER);
      Tensor out = golden.tensor(key(c, "output"));
      assertThat(kernel.outputShape()).isEqualTo(new int[] {out.dim(1), out.dim(2), out.dim(3)});
      assertThat(kernel.inputShape()).isEqualTo(new int[] {c.inChannels(), c.height(), c.width()});
      check("kernel", c, kernel, kernel.weight().grad(), kernel.bias() == null ? null : kernel.bias().grad());
      checked++;
    }
    assertThat(checked).isEqualTo(EXPECTED_CASES);
  }

  @Test
  void referenceMatchesPyTorch() {
    int checked = 0;
    for (ConvCase c : cases) {
      ReferenceConv2d ref = c.reference();
      check("reference", c, ref, ref.weight().grad(), ref.bias() == null ? null : ref.bias().grad());
      checked++;
    }
    assertThat(checked).isEqualTo(EXPECTED_CASES);
  }

  @Test
  void goldenFileCoversEveryAttributeValue() {
    assertThat(cases).hasSize(EXPECTED_CASES);
    List<String> seen = new ArrayList<>();
    for (ConvCase c : cases) {
      seen.add("k" + java.util.Arrays.toString(c.kernelSize()));
      seen.add("s" + java.util.Arrays.toString(c.stride()));
      seen.add("p" + c.padding());
      seen.add("d" + java.util.Arrays.toString(c.dilation()));
      seen.add(c.groups() == 1 ? "g1" : c.inChannels() == c.outChannels() && c.groups() == c.inChannels()
          ? "depthwise" : c.groups() == c.inChannels() && c.outChannels() == 2 * c.inChannels() ? "multiplier2"
          : "g" + c.groups());
      seen.add("bias" + c.bias());
      seen.add(c.paddingMode().name());
      seen.add(c.activation().name());
      seen.add(c.height() == c.width() ? "square" : "nonsquare");
    }
    assertThat(seen).containsAtLeast("k[1]", "k[2]", "k[3]", "k[5]", "k[3, 5]", "s[1]", "s[2]", "s[2, 1]", "p0", "p1",
        "p1,2", "psame", "pvalid", "d[1]", "d[2]", "g1", "g2", "depthwise", "multiplier2", "biastrue", "biasfalse",
        "ZEROS", "REFLECT", "REPLICATE", "CIRCULAR", "NONE", "RELU", "nonsquare");
  }
}
