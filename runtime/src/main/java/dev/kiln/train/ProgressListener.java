package dev.kiln.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Reports training progress. On a terminal it redraws one status line per epoch (a bar, the running loss,
 * images per second and the time left in the epoch), at most ten times a second; otherwise (a log file, a
 * CI console) it prints a plain line each time another tenth of the epoch is done. Either way every epoch
 * ends with a summary line:
 *
 * <pre>
 * epoch 3/10  loss 0.4123  acc 85.12%  val_loss 0.3921  val_acc 86.30%  12,345 img/s  4.9s
 * </pre>
 */
public final class ProgressListener implements TrainingListener {
  private static final int BAR_WIDTH = 24;
  private static final long REDRAW_NANOS = 100_000_000L;

  private final PrintStream out;
  private final boolean interactive;
  private final LongSupplier clock;
  private int epochs;
  private int epoch;
  private long epochStart;
  private long lastDraw;
  private int nextTenth;
  private double lossSum;
  private long correct;
  private boolean lineOpen;
  private Evaluation validation;

  ProgressListener(PrintStream out, boolean interactive, LongSupplier clock) {
    this.out = Objects.requireNonNull(out, "out");
    this.interactive = interactive;
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Reports to standard error, with a redrawn bar if the JVM is attached to a terminal ({@code System.console() != null}). */
  public static ProgressListener stderr() {
    return new ProgressListener(System.err, System.console() != null, System::nanoTime);
  }

  /** Reports to {@code out}; {@code interactive} chooses the redrawn bar over periodic lines. */
  public static ProgressListener to(PrintStream out, boolean interactive) {
    return new ProgressListener(out, interactive, System::nanoTime);
  }

  @Override
  public void onBegin(TrainingStart start) {
    epochs = start.config().epochs();
    if (start.startEpoch() > 0) {
      out.printf(Locale.ROOT, "resuming at epoch %d/%d (step %d)%n", start.startEpoch() + 1, epochs,
          start.startStep());
    }
  }

  /** Prints the notice on a line of its own. */
  @Override
  public void onNotice(String message) {
    out.println("note: " + message);
  }

  @Override
  public void onEpochStart(int epoch) {
    this.epoch = epoch;
    epochStart = clock.getAsLong();
    lastDraw = Long.MIN_VALUE;
    nextTenth = 1;
    lossSum = 0;
    correct = 0;
    validation = null;
  }

  @Override
  public void onBatchEnd(BatchResult b) {
    lossSum += b.loss() * b.size();
    correct += b.correct();
    long now = clock.getAsLong();
    double seconds = (now - epochStart) / 1e9;
    double rate = seconds > 0 ? b.samplesDone() / seconds : Double.NaN;
    double eta = rate > 0 ? (b.samplesPerEpoch() - b.samplesDone()) / rate : Double.NaN;
    double loss = lossSum / b.samplesDone();
    boolean last = b.samplesDone() >= b.samplesPerEpoch();
    if (interactive) {
      if (last || lastDraw == Long.MIN_VALUE || now - lastDraw >= REDRAW_NANOS) {
        lastDraw = now;
        int filled = (int) ((long) BAR_WIDTH * b.samplesDone() / b.samplesPerEpoch());
        out.print(String.format(Locale.ROOT, "\repoch %d/%d [%s%s] %3d%% %,d/%,d  loss %.4f  %s img/s  ETA %s\u001b[K",
            epoch + 1, epochs, "#".repeat(filled), ".".repeat(BAR_WIDTH - filled),
            (int) (100L * b.samplesDone() / b.samplesPerEpoch()), b.samplesDone(), b.samplesPerEpoch(), loss,
            rate(rate), duration(eta)));
        out.flush();
        lineOpen = true;
      }
    } else {
      int tenth = (int) (10L * b.samplesDone() / b.samplesPerEpoch());
      if (tenth >= nextTenth && !last) {
        nextTenth = tenth + 1;
        out.printf(Locale.ROOT, "epoch %d/%d  %3d%%  %,d/%,d  loss %.4f  acc %.2f%%  %s img/s  ETA %s%n",
            epoch + 1, epochs, tenth * 10, b.samplesDone(), b.samplesPerEpoch(), loss,
            100.0 * correct / b.samplesDone(), rate(rate), duration(eta));
      }
    }
  }

  @Override
  public void onValidation(int epoch, Evaluation validation) {
    this.validation = validation;
  }

  @Override
  public void onEpochEnd(EpochStats s) {
    if (lineOpen) {
      out.print("\r\u001b[K");
      lineOpen = false;
    }
    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "epoch %d/%d  loss %.4f  acc %.2f%%",
        s.epoch() + 1, epochs, s.trainLoss(), 100 * s.trainAccuracy()));
    if (validation != null) {
      line.append(String.format(Locale.ROOT, "  val_loss %.4f  val_acc %.2f%%", s.validationLoss(),
          100 * s.validationAccuracy()));
    }
    line.append(String.format(Locale.ROOT, "  %s img/s  %.1fs", rate(s.imagesPerSecond()), s.seconds()));
    out.println(line);
    out.flush();
  }

  @Override
  public void onEnd(TrainingHistory history) {
    history.last().ifPresent(last -> out.printf(Locale.ROOT, "trained %d epoch%s in %.1fs%n",
        history.epochs().size(), history.epochs().size() == 1 ? "" : "s", history.totalSeconds()));
    out.flush();
  }

  private static String rate(double imagesPerSecond) {
    return Double.isFinite(imagesPerSecond) ? String.format(Locale.ROOT, "%,.0f", imagesPerSecond) : "-";
  }

  private static String duration(double seconds) {
    if (!Double.isFinite(seconds)) {
      return "-:--";
    }
    long s = Math.round(seconds);
    return s >= 3600
        ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }

  @Override
  public String toString() {
    return "ProgressListener{interactive=" + interactive + "}";
  }
}
