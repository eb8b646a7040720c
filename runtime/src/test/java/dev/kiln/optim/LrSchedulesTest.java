package dev.kiln.optim;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.testing.NumericAssertions.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.testing.Golden;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Every factory against the learning rates PyTorch's schedulers give each optimizer step. */
class LrSchedulesTest {
  private static LrSchedule fromGolden(Golden g, String kind, String p) {
    return switch (kind) {
      case "constant" -> LrSchedules.constant(g.scalar(p + "lr"));
      case "step" -> LrSchedules.step(g.scalar(p + "lr"), (long) g.scalar(p + "step_size"), g.scalar(p + "gamma"));
      case "cosine" -> LrSchedules.cosine(g.scalar(p + "lr"), (long) g.scalar(p + "total"), g.scalar(p + "min_lr"));
      case "one_cycle" -> LrSchedules.oneCycle(g.scalar(p + "max_lr"), (long) g.scalar(p + "total"),
          g.scalar(p + "pct_start"), g.scalar(p + "div_factor"), g.scalar(p + "final_div_factor"));
      case "warmup_cosine" -> LrSchedules.linearWarmup(
          LrSchedules.cosine(g.scalar(p + "lr"), (long) (g.scalar(p + "total") - g.scalar(p + "warmup")),
              g.scalar(p + "min_lr")),
          (long) g.scalar(p + "warmup"), g.scalar(p + "start_factor"));
      case "warmup_step" -> LrSchedules.linearWarmup(
          LrSchedules.step(g.scalar(p + "lr"), (long) g.scalar(p + "step_size"), g.scalar(p + "gamma")),
          (long) g.scalar(p + "warmup"), g.scalar(p + "start_factor"));
      case "warmup_constant" -> LrSchedules.linearWarmup(LrSchedules.constant(g.scalar(p + "lr")),
          (long) g.scalar(p + "warmup"), g.scalar(p + "start_factor"));
      default -> throw new AssertionError("unknown schedule kind " + kind);
    };
  }

  @Test
  void matchesPyTorchSchedulers() {
    Golden g = Golden.load("/golden/loss_optim/schedules.safetensors");
    Map<String, Integer> perKind = new TreeMap<>();
    int values = 0;
    for (String key : g.keys()) {
      if (!key.endsWith(".lrs")) {
        continue;
      }
      String p = key.substring(0, key.length() - "lrs".length());
      String kind = p.substring(0, p.indexOf('.'));
      LrSchedule schedule = fromGolden(g, kind, p);
      double[] expected = g.doubles(key);
      assertThat(expected.length).isEqualTo((int) g.scalar(p + "steps"));
      for (int s = 0; s < expected.length; s++) {
        assertClose(key + "[" + s + "] " + schedule, expected[s], schedule.lr(s), 1e-5);
        values++;
      }
      perKind.merge(kind, 1, Integer::sum);
    }
    assertThat(perKind)
        .isEqualTo(Map.of("constant", 1, "step", 2, "cosine", 3, "one_cycle", 3, "warmup_cosine", 2, "warmup_step", 1,
            "warmup_constant", 1));
    assertThat(perKind.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(g.cases());
    assertThat(g.cases()).isEqualTo(13);
    assertThat(values).isEqualTo(100 + 2 * 100 + 100 + 100 + 37 + 100 + 37 + 50 + 100 + 60 + 100 + 20);
  }

  @Test
  void oneCycleDefaultsArePyTorchs() {
    LrSchedule defaults = LrSchedules.oneCycle(0.1, 100);
    LrSchedule explicit = LrSchedules.oneCycle(0.1, 100, 0.3, 25, 1e4);
    for (int s = 0; s < 100; s++) {
      assertThat(defaults.lr(s)).isEqualTo(explicit.lr(s));
    }
    assertClose("start", 0.1 / 25, defaults.lr(0), 1e-12);
    assertClose("peak", 0.1, defaults.lr(29), 1e-12);
    assertClose("end", 0.1 / 25 / 1e4, defaults.lr(99), 1e-12);
  }

  @Test
  void afterTheRunSchedulesHoldTheirFinalRate() {
    assertThat(LrSchedules.cosine(0.1, 10, 0.001).lr(10)).isEqualTo(0.001);
    assertThat(LrSchedules.cosine(0.1, 10, 0.001).lr(1000)).isEqualTo(0.001);
    LrSchedule oneCycle = LrSchedules.oneCycle(0.1, 10);
    assertThat(oneCycle.lr(10)).isEqualTo(oneCycle.lr(9));
    assertThat(oneCycle.lr(1_000_000)).isEqualTo(oneCycle.lr(9));
    assertWithMessage("pctStart * total == 1").that(LrSchedules.oneCycle(0.1, 10, 0.1, 25, 1e4).lr(0))
        .isWithin(1e-15).of(0.1);
  }

  @Test
  void warmupOfZeroStepsIsTheScheduleItself() {
    LrSchedule cosine = LrSchedules.cosine(0.1, 20, 0);
    LrSchedule warm = LrSchedules.linearWarmup(cosine, 0, 0.5);
    for (int s = 0; s < 25; s++) {
      assertThat(warm.lr(s)).isEqualTo(cosine.lr(s));
    }
  }

  @Test
  void rejectsInvalidArguments() {
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> LrSchedules.constant(0.1).lr(-1)))
        .hasMessageThat().isEqualTo("step: expected a value >= 0 but got -1");
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> LrSchedules.step(0.1, 0, 0.5)))
        .hasMessageThat().isEqualTo("stepSize: expected a value >= 1 but got 0");
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> LrSchedules.cosine(0.1, 0, 0)))
        .hasMessageThat().isEqualTo("totalSteps: expected a value >= 1 but got 0");
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> LrSchedules.oneCycle(0.1, 10, 1.5, 25, 1e4)))
        .hasMessageThat().isEqualTo("pctStart: expected a value in [0, 1] but got 1.5");
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> LrSchedules.oneCycle(0.1, 10, 0.3, 0, 1e4)))
        .hasMessageThat().isEqualTo("divFactor: expected a finite value > 0 but got 0.0");
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> LrSchedules.linearWarmup(LrSchedules.constant(1), 5, 0)))
        .hasMessageThat().isEqualTo("startFactor: expected a value in (0, 1] but got 0.0");
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> LrSchedules.constant(Double.NaN)))
        .hasMessageThat().isEqualTo("lr: expected a finite value >= 0 but got NaN");
  }

  @Test
  void toStringNamesTheScheduleAndItsSettings() {
    assertThat(LrSchedules.step(0.1, 30, 0.1).toString()).isEqualTo("Step[lr=0.1, stepSize=30, gamma=0.1]");
    assertThat(LrSchedules.linearWarmup(LrSchedules.constant(0.5), 3, 0.1).toString())
        .isEqualTo("LinearWarmup[after=Constant[lr=0.5], warmupSteps=3, startFactor=0.1]");
  }
}
