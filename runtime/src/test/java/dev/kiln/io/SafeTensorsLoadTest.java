package dev.kiln.io;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.nn.BatchNorm2d;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Module;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SafeTensors#load}: the same state as {@code loadStateDict(read(...))}, and nothing written on a bad file. */
class SafeTensorsLoadTest {
  @TempDir Path dir;

  private static Module net(long seed) {
    return new Linear(5, 3, true, seed);
  }

  private static Map<String, float[]> snapshot(Module m) {
    Map<String, float[]> out = new LinkedHashMap<>();
    m.stateDict().forEach((k, v) -> out.put(k, v.data().clone()));
    return out;
  }

  @Test
  void loadsWhatLoadStateDictOfReadLoads() throws IOException {
    Path file = dir.resolve("a.safetensors");
    SafeTensors.write(file, net(1).stateDict(), Map.of());
    Module direct = net(2);
    Module viaRead = net(2);
    long before = direct.namedParameters().get("weight").version();

    SafeTensors.load(file, direct);
    viaRead.loadStateDict(SafeTensors.read(file));

    Map<String, float[]> a = snapshot(direct);
    Map<String, float[]> b = snapshot(viaRead);
    assertThat(a.keySet()).containsExactly("weight", "bias").inOrder();
    for (String key : a.keySet()) {
      assertThat(a.get(key)).usingExactEquality().containsExactly(b.get(key)).inOrder();
      assertThat(a.get(key)).usingExactEquality().containsExactly(snapshot(net(1)).get(key)).inOrder();
    }
    assertThat(direct.namedParameters().get("weight").version()).isGreaterThan(before);
  }

  @Test
  void convertsOtherDtypesAsReadDoes() throws IOException {
    Path file = dir.resolve("bn.safetensors");
    BatchNorm2d source = new BatchNorm2d(2);
    source.stateDict().get("num_batches_tracked").data()[0] = 7f;
    source.stateDict().get("running_mean").data()[1] = -0.25f;
    SafeTensors.save(file, source); // the counter as I64, as PyTorch writes it
    BatchNorm2d target = new BatchNorm2d(2);

    SafeTensors.load(file, target);

    assertThat(target.stateDict().get("num_batches_tracked").data()).usingExactEquality().containsExactly(7f);
    assertThat(target.stateDict().get("running_mean").data()).usingExactEquality().containsExactly(0f, -0.25f)
        .inOrder();
  }

  @Test
  void aFileOfAnotherShapeOrNameChangesNothing() throws IOException {
    Path wrongShape = dir.resolve("shape.safetensors");
    Map<String, Tensor> shape = new LinkedHashMap<>(net(1).stateDict());
    shape.put("bias", Tensor.zeros(4));
    SafeTensors.write(wrongShape, shape, Map.of());
    Path extra = dir.resolve("extra.safetensors");
    Map<String, Tensor> more = new LinkedHashMap<>(net(1).stateDict());
    more.put("scale", Tensor.zeros(1));
    SafeTensors.write(extra, more, Map.of());
    Module target = net(3);
    Map<String, float[]> before = snapshot(target);

    IOException shapeError = assertThrows(IOException.class, () -> SafeTensors.load(wrongShape, target));
    IOException extraError = assertThrows(IOException.class, () -> SafeTensors.load(extra, target));

    assertThat(shapeError).hasMessageThat().contains("tensor \"bias\": shape [4] but expected [3]");
    assertThat(extraError).hasMessageThat().contains("unexpected tensor \"scale\"");
    Map<String, float[]> after = snapshot(target);
    for (String key : before.keySet()) {
      assertThat(after.get(key)).usingExactEquality().containsExactly(before.get(key)).inOrder();
    }
  }

  /**
   * A BOOL byte other than 0 or 1 is found only in the data, after the header's checks; the weight before it in the
   * file must not have been written either.
   */
  @Test
  void aBadBoolByteAfterGoodDataChangesNothing() throws IOException {
    String header = "{\"weight\":{\"dtype\":\"F32\",\"shape\":[3,5],\"data_offsets\":[0,60]},"
        + "\"bias\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[60,63]}}";
    byte[] text = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer file = ByteBuffer.allocate(8 + text.length + 63).order(ByteOrder.LITTLE_ENDIAN);
    file.putLong(text.length).put(text);
    for (int i = 0; i < 15; i++) {
      file.putFloat(100f + i);
    }
    file.put((byte) 1).put((byte) 2).put((byte) 0);
    Path path = dir.resolve("bool.safetensors");
    Files.write(path, file.array());
    Module target = net(4);
    Map<String, float[]> before = snapshot(target);

    IOException e = assertThrows(IOException.class, () -> SafeTensors.load(path, target));

    assertThat(e).hasMessageThat().contains("tensor \"bias\": BOOL element 1 is byte 2, not 0 or 1");
    Map<String, float[]> after = snapshot(target);
    assertThat(after.keySet()).containsExactly("weight", "bias").inOrder();
    for (String key : before.keySet()) {
      assertThat(after.get(key)).usingExactEquality().containsExactly(before.get(key)).inOrder();
    }
    // The same file with a valid byte loads, BOOL and all.
    file.put(8 + text.length + 61, (byte) 0);
    Files.write(path, file.array());
    SafeTensors.load(path, target);
    assertThat(target.stateDict().get("weight").data()[14]).isEqualTo(114f);
    assertThat(target.stateDict().get("bias").data()).usingExactEquality().containsExactly(1f, 0f, 0f).inOrder();
  }

  /** A shape of thousands of dimensions is shortened in the mismatch message. */
  @Test
  void aLongShapeIsShortenedInTheMessage() throws IOException {
    int[] shape = new int[10_000];
    java.util.Arrays.fill(shape, 1);
    shape[shape.length - 1] = 3;
    Map<String, Tensor> state = new LinkedHashMap<>(net(1).stateDict());
    state.put("bias", Tensor.zeros(shape));
    Path path = dir.resolve("long-shape.safetensors");
    SafeTensors.write(path, state, Map.of());

    IOException e = assertThrows(IOException.class, () -> SafeTensors.load(path, net(5)));

    assertThat(e).hasMessageThat().contains("tensor \"bias\": shape [1, 1, 1");
    assertThat(e).hasMessageThat().contains("...] but expected [3]");
    assertThat(e.getMessage().length()).isLessThan(400);
  }
}
