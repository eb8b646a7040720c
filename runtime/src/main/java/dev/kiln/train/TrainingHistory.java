package dev.kiln.train;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** The epochs one {@code fit} or {@code resume} call trained, in order. */
public final class TrainingHistory {
  private final List<EpochStats> epochs;

  private TrainingHistory(List<EpochStats> epochs) {
    this.epochs = List.copyOf(epochs);
  }

  /** A history of {@code epochs}. */
  public static TrainingHistory of(List<EpochStats> epochs) {
    return new TrainingHistory(Objects.requireNonNull(epochs, "epochs"));
  }

  /** Every epoch's summary. */
  public List<EpochStats> epochs() {
    return epochs;
  }

  /** The last epoch's summary, if any epoch ran. */
  public Optional<EpochStats> last() {
    return epochs.isEmpty() ? Optional.empty() : Optional.of(epochs.get(epochs.size() - 1));
  }

  /** Per-epoch training loss. */
  public double[] trainLoss() {
    return epochs.stream().mapToDouble(EpochStats::trainLoss).toArray();
  }

  /** Per-epoch training accuracy. */
  public double[] trainAccuracy() {
    return epochs.stream().mapToDouble(EpochStats::trainAccuracy).toArray();
  }

  /** Per-epoch validation loss ({@code NaN} without validation). */
  public double[] validationLoss() {
    return epochs.stream().mapToDouble(EpochStats::validationLoss).toArray();
  }

  /** Per-epoch validation accuracy ({@code NaN} without validation). */
  public double[] validationAccuracy() {
    return epochs.stream().mapToDouble(EpochStats::validationAccuracy).toArray();
  }

  /** Per-epoch training throughput. */
  public double[] imagesPerSecond() {
    return epochs.stream().mapToDouble(EpochStats::imagesPerSecond).toArray();
  }

  /** Per-epoch wall-clock seconds. */
  public double[] seconds() {
    return epochs.stream().mapToDouble(EpochStats::seconds).toArray();
  }

  /** Total wall-clock seconds over all epochs. */
  public double totalSeconds() {
    return epochs.stream().mapToDouble(EpochStats::seconds).sum();
  }

  @Override
  public String toString() {
    return "TrainingHistory" + epochs;
  }
}
