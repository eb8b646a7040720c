package dev.kiln.io;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reads files written by numpy and PyTorch ({@code tools/golden/safetensors_fixtures.py}) and compares every
 * tensor bit for bit with the float32 values Python computed ({@code expected.txt}).
 */
class SafeTensorsGoldenTest {
  private static final String DIR = "/safetensors/";

  private record ExpectedTensor(String name, String dtype, int[] shape, int[] bits) {}

  private static final class ExpectedFile {
    int declaredTensors;
    int declaredMetadata;
    final List<ExpectedTensor> tensors = new ArrayList<>();
    final Map<String, String> metadata = new LinkedHashMap<>();
  }

  private static Map<String, ExpectedFile> expected;

  @BeforeAll
  static void loadExpected() throws IOException {
    expected = new LinkedHashMap<>();
    for (String line : Files.readAllLines(resource("expected.txt"), StandardCharsets.UTF_8)) {
      if (line.startsWith("#") || line.isEmpty()) {
        continue;
      }
      String[] f = line.split("\t", -1);
      switch (f[0]) {
        case "file" -> {
          ExpectedFile file = new ExpectedFile();
          file.declaredTensors = Integer.parseInt(f[2]);
          file.declaredMetadata = Integer.parseInt(f[3]);
          expected.put(f[1], file);
        }
        case "tensor" -> expected.get(f[1]).tensors.add(
            new ExpectedTensor(unhex(f[2]), f[3], ints(f[4], ",", 10), ints(f[5], " ", 16)));
        case "meta" -> expected.get(f[1]).metadata.put(unhex(f[2]), unhex(f[3]));
        default -> throw new AssertionError("bad line in expected.txt: " + line);
      }
    }
  }

  @Test
  void everyGoldenFileMatchesPython() throws IOException {
    int files = 0;
    int tensors = 0;
    long elements = 0;
    for (Map.Entry<String, ExpectedFile> e : expected.entrySet()) {
      ExpectedFile want = e.getValue();
      assertWithMessage(e.getKey()).that(want.tensors).hasSize(want.declaredTensors);
      assertWithMessage(e.getKey()).that(want.metadata).hasSize(want.declaredMetadata);

      SafeTensors.Contents got = SafeTensors.readWithMetadata(resource(e.getKey()));
      List<String> wantNames = want.tensors.stream().map(ExpectedTensor::name).toList();
      assertWithMessage(e.getKey() + " names in header order")
          .that(new ArrayList<>(got.tensors().keySet())).containsExactlyElementsIn(wantNames).inOrder();
      assertWithMessage(e.getKey() + " metadata").that(got.metadata()).containsExactlyEntriesIn(want.metadata)
          .inOrder();
      for (ExpectedTensor t : want.tensors) {
        Tensor tensor = got.tensors().get(t.name());
        String where = e.getKey() + " / " + t.name() + " (" + t.dtype() + ")";
        assertWithMessage(where + " shape").that(tensor.shape()).isEqualTo(t.shape());
        assertWithMessage(where + " size").that(tensor.size()).isEqualTo(t.bits().length);
        for (int i = 0; i < t.bits().length; i++) {
          float want1 = Float.intBitsToFloat(t.bits()[i]);
          float got1 = tensor.data()[i];
          boolean same = Float.isNaN(want1) ? Float.isNaN(got1)
              : Float.floatToRawIntBits(got1) == t.bits()[i];
          if (!same) {
            throw new AssertionError(String.format("%s element %d: expected %s (bits %08x) but got %s (bits %08x)",
                where, i, want1, t.bits()[i], got1, Float.floatToRawIntBits(got1)));
          }
          elements++;
        }
        tensors++;
      }
      files++;
    }
    assertThat(files).isEqualTo(7);
    assertThat(tensors).isEqualTo(34);
    assertThat(elements).isGreaterThan(1300L);
  }

  @Test
  void goldenFilesCoverEverySupportedDtype() {
    Set<DType> covered = EnumSet.noneOf(DType.class);
    for (ExpectedFile f : expected.values()) {
      for (ExpectedTensor t : f.tensors) {
        covered.add(DType.valueOf(t.dtype()));
      }
    }
    assertThat(covered).containsExactlyElementsIn(EnumSet.allOf(DType.class));
  }

  @Test
  void goldenFilesCoverScalarsEmptyTensorsAndSpecialValues() {
    Set<String> seen = new HashSet<>();
    for (ExpectedFile f : expected.values()) {
      for (ExpectedTensor t : f.tensors) {
        if (t.shape().length == 0) {
          seen.add("scalar " + t.dtype());
        }
        if (t.bits().length == 0) {
          seen.add("empty");
        }
        for (int b : t.bits()) {
          float v = Float.intBitsToFloat(b);
          if (Float.isNaN(v)) {
            seen.add("nan " + t.dtype());
          } else if (Float.isInfinite(v)) {
            seen.add("inf " + t.dtype());
          } else if (v != 0 && Math.abs(v) < (t.dtype().equals("F16") ? 0x1p-14f : Float.MIN_NORMAL)) {
            seen.add("subnormal " + t.dtype());
          } else if (b == 0x80000000) {
            seen.add("-0 " + t.dtype());
          }
        }
      }
    }
    assertThat(seen).containsAtLeast("scalar I64", "scalar BF16", "empty", "nan F16", "inf F16", "inf F64",
        "inf BF16", "inf F32", "subnormal F16", "subnormal BF16", "subnormal F32", "subnormal F64", "-0 F16",
        "-0 BF16", "-0 F32");
  }

  @Test
  void batchNormStateDictFromPyTorchLoadsWithScalarNumBatchesTracked() throws IOException {
    Map<String, Tensor> state = SafeTensors.read(resource("torch_batchnorm.safetensors"));
    assertThat(state.keySet()).containsExactly("weight", "bias", "running_mean", "running_var",
        "num_batches_tracked").inOrder();
    Tensor tracked = state.get("num_batches_tracked");
    assertThat(tracked.shape()).isEmpty();
    assertThat(tracked.data()).usingExactEquality().containsExactly(3f);
  }

  @Test
  void writerOutputIsByteIdenticalToTheNumpyWriter() throws IOException {
    // torch_batchnorm.safetensors was written by tools/golden/st.py: F32 tensors, an I64 scalar and metadata,
    // compact JSON with the header padded by spaces. Writing the same state with Kiln must give the same bytes.
    Path reference = resource("torch_batchnorm.safetensors");
    SafeTensors.Contents contents = SafeTensors.readWithMetadata(reference);
    Path out = Files.createTempDirectory("kiln-st").resolve("bn.safetensors");
    SafeTensors.write(out, contents.tensors(), contents.metadata(), Set.of("num_batches_tracked"));
    byte[] want = Files.readAllBytes(reference);
    byte[] got = Files.readAllBytes(out);
    assertWithMessage("written:\n%s\nreference:\n%s", printable(got), printable(want))
        .that(Arrays.equals(got, want)).isTrue();
  }

  private static String printable(byte[] file) {
    int headerEnd = (int) Math.min(file.length, 8 + (file[0] & 0xff) + 256L * (file[1] & 0xff));
    return new String(file, 8, Math.max(0, headerEnd - 8), StandardCharsets.UTF_8);
  }

  static Path resource(String name) {
    try {
      return Path.of(SafeTensorsGoldenTest.class.getResource(DIR + name).toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new AssertionError("missing test resource " + DIR + name, e);
    }
  }

  private static String unhex(String hex) {
    return new String(HexFormat.of().parseHex(hex), StandardCharsets.UTF_8);
  }

  private static int[] ints(String s, String separator, int radix) {
    if (s.isEmpty()) {
      return new int[0];
    }
    return Arrays.stream(s.split(separator)).mapToInt(x -> Integer.parseUnsignedInt(x, radix)).toArray();
  }
}
