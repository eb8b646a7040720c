package dev.kiln.io;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the header parser accepts (rejections are covered by {@link SafeTensorsMalformedTest}). */
class HeaderJsonTest {
  @Test
  void parsesObjectsArraysStringsAndIntegersKeepingOrder() throws IOException {
    Map<String, Object> m = HeaderJson.parseObject(
        "{\"b\" : [1, -2, 0, 9223372036854775807, -9223372036854775808],\r\n"
            + "\t\"a\":{\"x\":\"y\"}, \"e\":[], \"o\":{}}  \n");
    assertThat(m.keySet()).containsExactly("b", "a", "e", "o").inOrder();
    assertThat(m.get("b")).isEqualTo(List.of(1L, -2L, 0L, Long.MAX_VALUE, Long.MIN_VALUE));
    assertThat(m.get("a")).isEqualTo(Map.of("x", "y"));
    assertThat(m.get("e")).isEqualTo(List.of());
    assertThat(m.get("o")).isEqualTo(Map.of());
  }

  @Test
  void decodesEveryEscape() throws IOException {
    Map<String, Object> m = HeaderJson.parseObject(
        "{\"k\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00e9 \\u6743 "
            + "\\ud83d\\udd25 \\uD83D\\uDE00 raw \u00e9\"}");
    assertThat(m.get("k")).isEqualTo("\" \\ / \b \f \n \r \t A \u00e9 \u6743 \uD83D\uDD25 \uD83D\uDE00 raw \u00e9");
  }

  @Test
  void quoteRoundTripsThroughTheParser() throws IOException {
    String nasty = "q\" b\\ nl\n cr\r tab\t bs\b ff\f nul\u0000 us\u001f del\u007f \u00e9 \uD83D\uDD25 /";
    String json = "{" + HeaderJson.quote(nasty) + ":" + HeaderJson.quote(nasty) + "}";
    assertThat(HeaderJson.parseObject(json)).containsExactly(nasty, nasty);
    assertThat(HeaderJson.quote("\u0001")).isEqualTo("\"\\u0001\"");
  }

  @Test
  void nestingUpToTheLimitIsAcceptedAndOneMoreIsNot() throws IOException {
    int arrays = HeaderJson.MAX_DEPTH - 1; // the outer object is level 1
    String ok = "{\"k\":" + "[".repeat(arrays) + "]".repeat(arrays) + "}";
    assertThat(HeaderJson.parseObject(ok)).containsKey("k");
    String deep = "{\"k\":" + "[".repeat(arrays + 1) + "]".repeat(arrays + 1) + "}";
    IOException e = assertThrows(IOException.class, () -> HeaderJson.parseObject(deep));
    assertThat(e).hasMessageThat().contains("nested deeper than 64 levels");
  }

  @Test
  void errorsNameTheCharacterPosition() {
    IOException e = assertThrows(IOException.class, () -> HeaderJson.parseObject("{\"a\":1,\"a\":2}"));
    assertThat(e).hasMessageThat().isEqualTo("invalid header JSON at character 7: duplicate key \"a\"");
  }
}
