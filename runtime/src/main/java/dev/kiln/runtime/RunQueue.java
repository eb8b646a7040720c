package dev.kiln.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * How many threads the machine has running or ready to run right now ({@code procs_running} of Linux's
 * {@code /proc/stat}), read without allocating: the file stays open and is read again from its start into
 * the same buffer. Used by the pool to stop spinning while the machine is oversubscribed.
 */
final class RunQueue {
  /** How often the pool asks while the machine is not oversubscribed. */
  static final long SAMPLE_NANOS = 20_000_000L;
  /** How long the pool stays quiet after finding it oversubscribed before it asks again. */
  static final long QUIET_NANOS = 500_000_000L;

  private static final byte[] KEY = "procs_running ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private final FileChannel channel;
  private final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);

  private RunQueue(FileChannel channel) {
    this.channel = channel;
  }

  /** The machine's run queue, or null where the system does not tell it. */
  static RunQueue open() {
    try {
      RunQueue q = new RunQueue(FileChannel.open(Path.of("/proc/stat"), StandardOpenOption.READ));
      return q.runnable() >= 0 ? q : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Threads running or runnable now (this one included), or -1 if it cannot be read. */
  synchronized int runnable() {
    try {
      buffer.clear();
      long position = 0;
      int read;
      while (buffer.hasRemaining() && (read = channel.read(buffer, position)) > 0) {
        position += read;
      }
      return parse(buffer.array(), buffer.position());
    } catch (IOException e) {
      return -1;
    }
  }

  /** The number after {@code procs_running } in the first {@code length} bytes, or -1. */
  static int parse(byte[] text, int length) {
    outer:
    for (int i = 0; i + KEY.length <= length; i++) {
      if (i > 0 && text[i - 1] != '\n') {
        continue;
      }
      for (int k = 0; k < KEY.length; k++) {
        if (text[i + k] != KEY[k]) {
          continue outer;
        }
      }
      int value = 0;
      int j = i + KEY.length;
      if (j >= length || text[j] < '0' || text[j] > '9') {
        return -1;
      }
      while (j < length && text[j] >= '0' && text[j] <= '9') {
        value = value * 10 + (text[j] - '0');
        j++;
      }
      return value;
    }
    return -1;
  }
}
