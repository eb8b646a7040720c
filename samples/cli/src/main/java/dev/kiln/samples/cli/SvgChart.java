package dev.kiln.samples.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A training chart as a standalone SVG document, written by hand: the training loss (left axis) over the
 * epochs as a line, and per-epoch training and test accuracy (right axis, percent) as lines with markers,
 * with axes, ticks, grid lines, axis labels, a legend and a title.
 */
final class SvgChart {
  private static final int WIDTH = 760;
  private static final int HEIGHT = 440;
  private static final int LEFT = 72;
  private static final int RIGHT = 72;
  private static final int TOP = 76;
  private static final int BOTTOM = 64;
  private static final String LOSS_COLOR = "#1f77b4";
  private static final String TEST_COLOR = "#d62728";
  private static final String TRAIN_COLOR = "#ff7f0e";

  private final String title;
  private final double xMin;
  private final double xMax;
  private final List<double[]> loss;
  private final double[] epochEnds;
  private final double[] trainAccuracy;
  private final double[] testAccuracy;

  /**
   * @param title the chart title
   * @param xMin the epoch the x axis starts at (0, or where a resumed run started)
   * @param xMax the epoch the x axis ends at
   * @param loss points {@code {epoch (fractional), loss}} of the training loss curve
   * @param epochEnds the x position of each accuracy point (1, 2, ... for whole epochs)
   * @param trainAccuracy training accuracy in [0, 1] at each of {@code epochEnds}
   * @param testAccuracy test accuracy in [0, 1] at each of {@code epochEnds}
   */
  SvgChart(String title, double xMin, double xMax, List<double[]> loss, double[] epochEnds, double[] trainAccuracy,
      double[] testAccuracy) {
    if (epochEnds.length != trainAccuracy.length || epochEnds.length != testAccuracy.length) {
      throw new IllegalArgumentException("accuracy series: expected " + epochEnds.length + " points but got "
          + trainAccuracy.length + " and " + testAccuracy.length);
    }
    this.title = title;
    this.xMin = xMin;
    this.xMax = xMax > xMin ? xMax : xMin + 1;
    this.loss = List.copyOf(loss);
    this.epochEnds = epochEnds.clone();
    this.trainAccuracy = trainAccuracy.clone();
    this.testAccuracy = testAccuracy.clone();
  }

  /** The SVG document. */
  String render() {
    double maxLoss = 0;
    for (double[] p : loss) {
      if (Double.isFinite(p[1])) {
        maxLoss = Math.max(maxLoss, p[1]);
      }
    }
    double[] lossTicks = ticks(0, maxLoss > 0 ? maxLoss : 1, 5);
    double lossTop = lossTicks[lossTicks.length - 1];
    double minAcc = 1;
    for (double[] series : new double[][] {trainAccuracy, testAccuracy}) {
      for (double a : series) {
        if (Double.isFinite(a)) {
          minAcc = Math.min(minAcc, a);
        }
      }
    }
    double accBottom = Math.max(0, Math.floor((minAcc - 0.02) * 10) / 10);
    double[] accTicks = ticks(accBottom, 1, 5);
    double[] xTicks = ticks(xMin, xMax, 10);

    StringBuilder svg = new StringBuilder();
    svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
        + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
    svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    text(svg, WIDTH / 2.0, 28, "middle", "font-size=\"16\" font-weight=\"bold\"", title);

    double plotRight = WIDTH - RIGHT;
    double plotBottom = HEIGHT - BOTTOM;
    // grid and x ticks
    svg.append("<g stroke=\"#e0e0e0\" stroke-width=\"1\">\n");
    for (double t : lossTicks) {
      double y = yPos(t, 0, lossTop);
      line(svg, LEFT, y, plotRight, y, null);
    }
    for (double t : xTicks) {
      double x = xPos(t);
      line(svg, x, TOP, x, plotBottom, null);
    }
    svg.append("</g>\n");
    // axes
    svg.append("<g stroke=\"black\" stroke-width=\"1\">\n");
    line(svg, LEFT, plotBottom, plotRight, plotBottom, null);
    line(svg, LEFT, TOP, LEFT, plotBottom, null);
    line(svg, plotRight, TOP, plotRight, plotBottom, null);
    for (double t : xTicks) {
      line(svg, xPos(t), plotBottom, xPos(t), plotBottom + 5, null);
    }
    for (double t : lossTicks) {
      double y = yPos(t, 0, lossTop);
      line(svg, LEFT - 5, y, LEFT, y, null);
    }
    for (double t : accTicks) {
      double y = yPos(t, accBottom, 1);
      line(svg, plotRight, y, plotRight + 5, y, null);
    }
    svg.append("</g>\n");
    // tick labels
    for (double t : xTicks) {
      text(svg, xPos(t), plotBottom + 19, "middle", null, label(t));
    }
    for (double t : lossTicks) {
      text(svg, LEFT - 8, yPos(t, 0, lossTop) + 4, "end", null, label(t));
    }
    for (double t : accTicks) {
      text(svg, plotRight + 8, yPos(t, accBottom, 1) + 4, "start", null, label(100 * t) + "%");
    }
    // axis labels
    text(svg, (LEFT + plotRight) / 2.0, HEIGHT - 22, "middle", null, "epoch");
    svg.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"0\" text-anchor=\"middle\" fill=\"%s\" "
        + "transform=\"translate(20,%.1f) rotate(-90)\">training loss</text>%n", LOSS_COLOR, (TOP + plotBottom) / 2.0));
    svg.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"0\" text-anchor=\"middle\" fill=\"%s\" "
        + "transform=\"translate(%.1f,%.1f) rotate(90)\">accuracy</text>%n", TEST_COLOR, WIDTH - 18.0,
        (TOP + plotBottom) / 2.0));
    // series
    List<double[]> lossPts = new ArrayList<>();
    for (double[] p : loss) {
      if (Double.isFinite(p[1])) {
        lossPts.add(new double[] {xPos(p[0]), yPos(p[1], 0, lossTop)});
      }
    }
    polyline(svg, lossPts, LOSS_COLOR, null, "training loss");
    series(svg, trainAccuracy, accBottom, TRAIN_COLOR, "6,4", "training accuracy");
    series(svg, testAccuracy, accBottom, TEST_COLOR, null, "test accuracy");
    // legend: one row between the title and the plot
    double ly = 52;
    double lx = LEFT + 10;
    lx = legend(svg, lx, ly, LOSS_COLOR, null, false, "training loss");
    lx = legend(svg, lx, ly, TRAIN_COLOR, "6,4", true, "training accuracy");
    legend(svg, lx, ly, TEST_COLOR, null, true, "test accuracy");
    svg.append("</svg>\n");
    return svg.toString();
  }

  private void series(StringBuilder svg, double[] accuracy, double accBottom, String color, String dash,
      String name) {
    List<double[]> pts = new ArrayList<>();
    for (int i = 0; i < accuracy.length; i++) {
      if (Double.isFinite(accuracy[i])) {
        pts.add(new double[] {xPos(epochEnds[i]), yPos(accuracy[i], accBottom, 1)});
      }
    }
    polyline(svg, pts, color, dash, name);
    svg.append(String.format(Locale.ROOT, "<g fill=\"%s\">%n", color));
    for (double[] p : pts) {
      svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\"/>%n", p[0], p[1]));
    }
    svg.append("</g>\n");
  }

  private static void polyline(StringBuilder svg, List<double[]> pts, String color, String dash, String name) {
    if (pts.isEmpty()) {
      return;
    }
    svg.append("<polyline fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"2\"");
    if (dash != null) {
      svg.append(" stroke-dasharray=\"").append(dash).append('"');
    }
    svg.append(" points=\"");
    for (int i = 0; i < pts.size(); i++) {
      svg.append(String.format(Locale.ROOT, "%s%.1f,%.1f", i == 0 ? "" : " ", pts.get(i)[0], pts.get(i)[1]));
    }
    svg.append("\"><title>").append(escape(name)).append("</title></polyline>\n");
  }

  /** Draws one legend entry starting at {@code x}; returns where the next entry starts. */
  private static double legend(StringBuilder svg, double x, double y, String color, String dash, boolean marker,
      String name) {
    line(svg, x, y, x + 28, y, "stroke=\"" + color + "\" stroke-width=\"2\""
        + (dash != null ? " stroke-dasharray=\"" + dash + "\"" : ""));
    if (marker) {
      svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>%n", x + 14, y,
          color));
    }
    text(svg, x + 34, y + 4, "start", null, name);
    return x + 34 + 6.6 * name.length() + 22;
  }

  private static void line(StringBuilder svg, double x1, double y1, double x2, double y2, String style) {
    svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"%s/>%n", x1, y1, x2,
        y2, style == null ? "" : " " + style));
  }

  private static void text(StringBuilder svg, double x, double y, String anchor, String style, String content) {
    svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>%s</text>%n", x, y,
        anchor, style == null ? "" : " " + style, escape(content)));
  }

  private double xPos(double epoch) {
    return LEFT + (epoch - xMin) / (xMax - xMin) * (WIDTH - LEFT - RIGHT);
  }

  private static double yPos(double value, double min, double max) {
    return HEIGHT - BOTTOM - (value - min) / (max - min) * (HEIGHT - TOP - BOTTOM);
  }

  /**
   * Tick values covering {@code [min, max]} at a "nice" step (1, 2 or 5 times a power of ten) giving at
   * most about {@code maxTicks} ticks; the last tick is at or above {@code max}.
   */
  static double[] ticks(double min, double max, int maxTicks) {
    if (!(max > min)) {
      max = min + 1;
    }
    double raw = (max - min) / maxTicks;
    double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    double step = magnitude;
    for (double m : new double[] {1, 2, 5, 10}) {
      if (m * magnitude >= raw) {
        step = m * magnitude;
        break;
      }
    }
    double first = Math.ceil(min / step - 1e-9) * step;
    double last = Math.ceil(max / step - 1e-9) * step;
    int n = (int) Math.round((last - first) / step) + 1;
    double[] t = new double[n];
    for (int i = 0; i < n; i++) {
      t[i] = first + i * step;
      if (Math.abs(t[i]) < step * 1e-9) {
        t[i] = 0;
      }
    }
    return t;
  }

  /** A tick label: as few decimals as the value needs, at most three. */
  static String label(double v) {
    for (int decimals = 0; decimals <= 3; decimals++) {
      String s = String.format(Locale.ROOT, "%." + decimals + "f", v);
      if (Math.abs(Double.parseDouble(s) - v) < 1e-9 * Math.max(1, Math.abs(v))) {
        return s;
      }
    }
    return String.format(Locale.ROOT, "%.3f", v);
  }

  /** XML character escaping for text content and attribute values. */
  static String escape(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
