package dev.kiln.samples.cli;

import static com.google.common.truth.Truth.assertThat;

import dev.kiln.io.Json;
import dev.kiln.testing.JsonParser;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;

/** The report's JSON (the runtime's writer), the SVG writer and the default checkpoint name. */
class OutputFormatsTest {
  @Test
  void jsonEscapesAndRoundTrips() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("text", "quote \" backslash \\ newline \n tab \t bell \u0007 é");
    m.put("int", 3);
    m.put("long", 1L << 40);
    m.put("double", 0.1);
    m.put("small", 1.5e-7);
    m.put("whole", 2.0);
    m.put("nan", Double.NaN);
    m.put("inf", Double.POSITIVE_INFINITY);
    m.put("null", null);
    m.put("bool", true);
    m.put("array", new double[] {1, 0.5, Double.NaN});
    m.put("list", List.of(Map.of("a", 1), List.of()));
    m.put("empty", Map.of());
    String text = Json.writeIndented(m);
    Map<String, Object> back = JsonParser.parseObject(text);
    assertThat(back.keySet()).containsExactlyElementsIn(m.keySet()).inOrder();
    assertThat(back.get("text")).isEqualTo(m.get("text"));
    assertThat(back.get("int")).isEqualTo(3.0);
    assertThat(back.get("long")).isEqualTo((double) (1L << 40));
    assertThat(back.get("double")).isEqualTo(0.1);
    assertThat(back.get("small")).isEqualTo(1.5e-7);
    assertThat(back.get("whole")).isEqualTo(2.0);
    assertThat(back.get("nan")).isNull();
    assertThat(back.get("inf")).isNull();
    assertThat(back.get("null")).isNull();
    assertThat(back.get("bool")).isEqualTo(true);
    assertThat(back.get("array")).isEqualTo(java.util.Arrays.asList(1.0, 0.5, null));
    assertThat(back.get("list")).isEqualTo(List.of(Map.of("a", 1.0), List.of()));
    assertThat(back.get("empty")).isEqualTo(Map.of());
    assertThat(text).contains("\\u0007");
  }

  @Test
  void ticksAreNiceAndCoverTheRange() {
    assertThat(SvgChart.ticks(0, 2.3, 5)).usingExactEquality().containsExactly(0.0, 0.5, 1.0, 1.5, 2.0, 2.5)
        .inOrder();
    assertThat(SvgChart.ticks(0, 10, 10)).hasLength(11);
    double[] acc = SvgChart.ticks(0.8, 1, 5);
    assertThat(acc[0]).isWithin(1e-12).of(0.8);
    assertThat(acc[acc.length - 1]).isWithin(1e-12).of(1.0);
    assertThat(acc).hasLength(5);
    assertThat(SvgChart.ticks(3, 3, 5).length).isAtLeast(2);
    assertThat(SvgChart.label(0.25)).isEqualTo("0.25");
    assertThat(SvgChart.label(85.00000000001)).isEqualTo("85");
    assertThat(SvgChart.escape("a<b & \"c\">")).isEqualTo("a&lt;b &amp; &quot;c&quot;&gt;");
  }

  @Test
  void chartOfAnyHistoryIsWellFormedXml() throws Exception {
    List<SvgChart> charts = List.of(
        new SvgChart("<&> title", 0, 1, List.of(new double[] {0.5, 2.0}, new double[] {1, Double.NaN}),
            new double[] {1}, new double[] {0.3}, new double[] {Double.NaN}),
        new SvgChart("empty", 3, 3, List.of(), new double[0], new double[0], new double[0]),
        new SvgChart("ten", 0, 10, List.of(new double[] {5, 0.1}), new double[] {1, 2}, new double[] {0.9, 0.95},
            new double[] {0.97, 0.99}));
    int parsed = 0;
    for (SvgChart chart : charts) {
      String svg = chart.render();
      var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
          .parse(new java.io.ByteArrayInputStream(svg.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      assertThat(doc.getDocumentElement().getTagName()).isEqualTo("svg");
      assertThat(svg).doesNotContain("NaN");
      parsed++;
    }
    assertThat(parsed).isEqualTo(3);
  }

  @Test
  void defaultCheckpointSitsNextToTheWeights() {
    assertThat(TrainCommand.defaultCheckpoint(Paths.get("model.safetensors")))
        .isEqualTo(Paths.get("model.ckpt.safetensors"));
    assertThat(TrainCommand.defaultCheckpoint(Paths.get("/tmp/run/w.bin")))
        .isEqualTo(Paths.get("/tmp/run/w.bin.ckpt.safetensors"));
    Path p = Paths.get("a", "b.safetensors");
    assertThat(TrainCommand.defaultCheckpoint(p)).isEqualTo(Paths.get("a", "b.ckpt.safetensors"));
  }
}
