package dev.kiln.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The committed {@code BlockedKernels.java} is what {@link BlockedKernelsGenerator} writes. */
class BlockedKernelsSourceTest {
  @Test
  void committedSourceIsGenerated() throws IOException {
    String expected = BlockedKernelsGenerator.source();
    if (Boolean.getBoolean("kiln.regenerate")) {
      Files.writeString(BlockedKernelsGenerator.target(), expected, StandardCharsets.UTF_8);
    }
    String actual = Files.readString(BlockedKernelsGenerator.target(), StandardCharsets.UTF_8);
    assertEquals(expected, actual, "BlockedKernels.java is stale: regenerate it with -Dkiln.regenerate=true");
  }
}
