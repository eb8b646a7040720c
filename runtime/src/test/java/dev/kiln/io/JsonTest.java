package dev.kiln.io;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON writer and what the strict reader accepts (header rejections: {@link SafeTensorsMalformedTest}). */
class JsonTest {
  @Test
  void parsesObjectsArraysStringsAndIntegersKeepingOrder() throws IOException {
    Map<String, Object> m = Json.parseObject(
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
    Map<String, Object> m = Json.parseObject(
        "{\"k\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00e9 \\u6743 "
            + "\\ud83d\\udd25 \\uD83D\\uDE00 raw \u00e9\"}");
    assertThat(m.get("k")).isEqualTo("\" \\ / \b \f \n \r \t A \u00e9 \u6743 \uD83D\uDD25 \uD83D\uDE00 raw \u00e9");
  }

  @Test
  void quoteRoundTripsThroughTheParser() throws IOException {
    String nasty = "q\" b\\ nl\n cr\r tab\t bs\b ff\f nul\u0000 us\u001f del\u007f \u00e9 \uD83D\uDD25 /";
    String json = "{" + Json.quote(nasty) + ":" + Json.quote(nasty) + "}";
    assertThat(Json.parseObject(json)).containsExactly(nasty, nasty);
    assertThat(Json.quote("\u0001")).isEqualTo("\"\\u0001\"");
    assertThat(Json.quote("\b\f")).isEqualTo("\"\\b\\f\"");
  }

  @Test
  void nestingUpToTheLimitIsAcceptedAndOneMoreIsNot() throws IOException {
    int arrays = Json.MAX_DEPTH - 1; // the outer object is level 1
    String ok = "{\"k\":" + "[".repeat(arrays) + "]".repeat(arrays) + "}";
    assertThat(Json.parseObject(ok)).containsKey("k");
    String deep = "{\"k\":" + "[".repeat(arrays + 1) + "]".repeat(arrays + 1) + "}";
    IOException e = assertThrows(IOException.class, () -> Json.parseObject(deep));
    assertThat(e).hasMessageThat().contains("nested deeper than 64 levels");
  }

  @Test
  void errorsNameTheCharacterPosition() {
    IOException e = assertThrows(IOException.class, () -> Json.parseObject("{\"a\":1,\"a\":2}"));
    assertThat(e).hasMessageThat().isEqualTo("invalid JSON in the text at character 7: duplicate key \"a\"");
    e = assertThrows(IOException.class, () -> Json.parseObject("{\"a\":{\"b\":1,\"b\":2}}"));
    assertThat(e).hasMessageThat().isEqualTo("invalid JSON in the text at character 12: duplicate key \"b\"");
    String key = "k".repeat(5_000_000);
    e = assertThrows(IOException.class, () -> Json.parseObject("{\"" + key + "\":1,\"" + key + "\":2}"));
    assertThat(e).hasMessageThat().isEqualTo("invalid JSON in the text at character 5000006: duplicate key \""
        + "k".repeat(200) + "...\"");
  }

  /** Cut after 200 characters, never inside a surrogate pair, escaped as {@link Json#quote} escapes. */
  @Test
  void quoteBriefShortensLongStrings() {
    assertThat(Json.quoteBrief("a\"b\n")).isEqualTo("\"a\\\"b\\n\"");
    assertThat(Json.quoteBrief("x".repeat(200))).isEqualTo("\"" + "x".repeat(200) + "\"");
    assertThat(Json.quoteBrief("x".repeat(201))).isEqualTo("\"" + "x".repeat(200) + "...\"");
    String fire = "\uD83D\uDD25";
    // The pair would straddle the cut at 199-200: the cut moves before it.
    assertThat(Json.quoteBrief("x".repeat(199) + fire + "tail")).isEqualTo("\"" + "x".repeat(199) + "...\"");
    assertThat(Json.quoteBrief("x".repeat(198) + fire + "tail")).isEqualTo("\"" + "x".repeat(198) + fire + "...\"");
  }

  @Test
  void writesCompactJsonThatTheReaderReadsBack() throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("s", "a\"b\\c\nd");
    m.put("i", 3);
    m.put("l", -(1L << 40));
    m.put("ints", new int[] {1, -2});
    m.put("longs", new long[] {0, Long.MAX_VALUE});
    m.put("nested", Map.of("x", List.of("y", List.of())));
    m.put("empty", Map.of());
    String text = Json.write(m);
    assertThat(text).isEqualTo("{\"s\":\"a\\\"b\\\\c\\nd\",\"i\":3,\"l\":-1099511627776,\"ints\":[1,-2],"
        + "\"longs\":[0,9223372036854775807],\"nested\":{\"x\":[\"y\",[]]},\"empty\":{}}");
    Map<String, Object> back = Json.parseObject(text);
    assertThat(back.get("s")).isEqualTo("a\"b\\c\nd");
    assertThat(back.get("l")).isEqualTo(-(1L << 40));
    assertThat(back.get("longs")).isEqualTo(List.of(0L, Long.MAX_VALUE));
  }

  @Test
  void writesNumbersBooleansAndNullsAsTheReportNeedsThem() {
    List<Object> values = new ArrayList<>(Arrays.asList(2.0, 0.1, 1.5e-7, 1e15, Double.NaN,
        Double.NEGATIVE_INFINITY, 0.1f, 3f, true, null));
    assertThat(Json.write(values)).isEqualTo("[2,0.1,1.5E-7,1.0E15,null,null,0.1,3,true,null]");
    assertThat(Json.write(new double[] {1, 0.5, Double.NaN})).isEqualTo("[1,0.5,null]");
  }

  @Test
  void indentsObjectsAndNestedArraysButKeepsFlatArraysOnOneLine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("a", 1);
    m.put("points", List.of(new double[] {0.5, 2}, new double[] {1, 3}));
    m.put("flat", List.of(1, "x"));
    m.put("none", List.of());
    m.put("o", Map.of());
    assertThat(Json.writeIndented(m)).isEqualTo("{\n  \"a\": 1,\n  \"points\": [\n    [0.5, 2],\n    [1, 3]\n  ],\n"
        + "  \"flat\": [1, \"x\"],\n  \"none\": [],\n  \"o\": {}\n}\n");
  }

  @Test
  void refusesValuesItCannotWrite() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
    assertThat(e).hasMessageThat().isEqualTo("cannot write java.lang.Object as JSON");
  }
}
