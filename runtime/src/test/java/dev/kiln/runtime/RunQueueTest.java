package dev.kiln.runtime;

import static com.google.common.truth.Truth.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Reading the machine's run queue from {@code /proc/stat}. */
class RunQueueTest {
  private static int parse(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    return RunQueue.parse(bytes, bytes.length);
  }

  @Test
  void findsProcsRunningAtTheStartOfALine() {
    String stat = "cpu  10 0 5 100 0 0 0 0 0 0\ncpu0 5 0 2 50 0 0 0 0 0 0\nintr 123 4 5\nctxt 999\n"
        + "btime 1700000000\nprocesses 4242\nprocs_running 17\nprocs_blocked 0\nsoftirq 1 2 3\n";
    assertThat(parse(stat)).isEqualTo(17);
    assertThat(parse("procs_running 3\n")).isEqualTo(3);
    assertThat(parse("procs_running 12")).isEqualTo(12); // cut at the buffer's end
  }

  @Test
  void missingOrMalformedIsMinusOne() {
    assertThat(parse("")).isEqualTo(-1);
    assertThat(parse("cpu 1 2 3\nprocs_blocked 0\n")).isEqualTo(-1);
    assertThat(parse("xprocs_running 5\n")).isEqualTo(-1); // not at a line start
    assertThat(parse("procs_running x\n")).isEqualTo(-1);
    assertThat(parse("procs_running ")).isEqualTo(-1);
  }

  @Test
  void readsThisMachinesRunQueueWhereTheSystemHasOne() {
    RunQueue queue = RunQueue.open();
    if (!Files.isReadable(Path.of("/proc/stat"))) {
      assertThat(queue).isNull();
      return;
    }
    assertThat(queue).isNotNull();
    for (int i = 0; i < 3; i++) {
      assertThat(queue.runnable()).isAtLeast(1); // this thread runs
    }
  }
}
