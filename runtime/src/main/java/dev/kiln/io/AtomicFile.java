package dev.kiln.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Writes a file so that a reader sees either its previous content or the complete new one, never a part:
 * the content goes into a new temporary file in the target's directory, is forced to disk once, and is then
 * renamed over the target (atomically where the file system supports it). If anything fails, the target
 * keeps its previous content and the temporary file is removed.
 *
 * <p>The temporary file is named {@code .<target name>.<process id>-<16 hex digits>.tmp}. A process killed
 * while writing leaves its temporary file behind; after each successful write, the temporary files of the
 * same target whose process no longer runs and that have not been modified for a minute are removed (only
 * regular files with exactly that name pattern: nothing else is touched).
 *
 * <p>Only regular files are replaced: a target that exists and is anything else (a directory, a device, a
 * pipe, a socket) is refused with an {@link IOException}, so that writing to {@code /dev/null} or a
 * directory never replaces it. A symbolic link is followed: the file it points to is replaced (it need not
 * exist yet) and the link stays a link.
 */
public final class AtomicFile {
  /** How long a temporary file of a process that no longer runs must have been untouched to be removed. */
  static final Duration STALE_AFTER = Duration.ofMinutes(1);
  /** What follows {@code .<target name>.} in a temporary file's name. */
  private static final Pattern TEMP_SUFFIX = Pattern.compile("[0-9]{1,19}-[0-9a-f]{16}\\.tmp");

  /** Symbolic links followed in a row before giving up (as Linux's {@code MAXSYMLINKS}). */
  private static final int MAX_LINKS = 40;

  private AtomicFile() {}

  /** Writes a file's content to a channel. */
  @FunctionalInterface
  public interface Content {
    /** Writes the whole content to {@code out} (which the caller closes). */
    void writeTo(WritableByteChannel out) throws IOException;
  }

  /**
   * Replaces {@code target} with what {@code content} writes, creating its missing parent directories.
   *
   * @throws IOException if writing fails; {@code target} is then left as it was
   */
  public static void write(Path target, Content content) throws IOException {
    Objects.requireNonNull(content, "content");
    Path absolute = writableTarget(target);
    Files.createDirectories(absolute.getParent());
    Path temp = createTemp(absolute);
    boolean moved = false;
    try {
      try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        content.writeTo(out);
        out.force(true);
      }
      try {
        Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
      }
      moved = true;
    } finally {
      if (!moved) {
        Files.deleteIfExists(temp);
      }
    }
    removeStaleTemps(absolute);
  }

  /** Replaces {@code target} with {@code text} in UTF-8, as {@link #write(Path, Content)} does. */
  public static void writeString(Path target, String text) throws IOException {
    ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    write(target, out -> writeFully(out, bytes));
  }

  /**
   * Removes temporary files that earlier writes to {@code target} left behind when their process was killed:
   * regular files named {@code .<name>.<pid>-<16 hex digits>.tmp} whose process is not running and that were
   * last modified more than {@link #STALE_AFTER} ago. Failures are ignored (the write itself succeeded).
   */
  static void removeStaleTemps(Path target) {
    Path dir = target.getParent();
    String prefix = "." + target.getFileName() + ".";
    long now = System.currentTimeMillis();
    try (DirectoryStream<Path> temps = Files.newDirectoryStream(dir, entry -> {
      String name = entry.getFileName().toString();
      return name.startsWith(prefix) && TEMP_SUFFIX.matcher(name.substring(prefix.length())).matches();
    })) {
      for (Path temp : temps) {
        removeIfStale(temp, temp.getFileName().toString().substring(prefix.length()), now);
      }
    } catch (IOException | RuntimeException e) {
      // best effort: the write itself succeeded; what cannot be listed stays
    }
  }

  private static void removeIfStale(Path temp, String suffix, long now) {
    try {
      long pid = Long.parseLong(suffix.substring(0, suffix.indexOf('-')));
      BasicFileAttributes attributes = Files.readAttributes(temp, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      boolean stale = attributes.isRegularFile() && ProcessHandle.of(pid).isEmpty()
          && now - attributes.lastModifiedTime().toMillis() > STALE_AFTER.toMillis();
      if (stale) {
        Files.deleteIfExists(temp);
      }
    } catch (IOException | RuntimeException e) {
      // best effort: a temporary file that cannot be checked or removed stays
    }
  }

  /** Writes all of {@code buf} to {@code out}. */
  public static void writeFully(WritableByteChannel out, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      out.write(buf);
    }
  }

  /**
   * {@code target} as an absolute path, symbolic links followed to the file they point to, which must be a
   * regular file or not exist.
   *
   * @throws IOException if it exists and is not a regular file, or the links form a loop
   */
  public static Path writableTarget(Path target) throws IOException {
    Path path = target.toAbsolutePath();
    for (int hops = 0; Files.isSymbolicLink(path); hops++) {
      if (hops == MAX_LINKS) {
        throw new FileSystemException(target.toString(), null, "more than " + MAX_LINKS
            + " symbolic links in a row (a loop?)");
      }
      Path parent = path.getParent();
      path = parent.resolve(Files.readSymbolicLink(path)).normalize();
    }
    if (Files.exists(path) && !Files.isRegularFile(path)) {
      throw new FileSystemException(target.toString(), null, "exists and is not a regular file ("
          + kind(path) + "); refusing to replace it");
    }
    return path;
  }

  /** What a path that exists and is not a regular file is, for messages. */
  public static String kind(Path path) {
    if (Files.isDirectory(path)) {
      return "a directory";
    }
    try {
      Object type = Files.readAttributes(path, "unix:mode").get("mode");
      if (type instanceof Integer mode) {
        switch (mode & 0xf000) {
          case 0x2000:
            return "a character device";
          case 0x6000:
            return "a block device";
          case 0x1000:
            return "a named pipe";
          case 0xc000:
            return "a socket";
          default:
            break;
        }
      }
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      // not a Unix file system: fall through
    }
    return "of another kind";
  }

  /** A new empty file next to the target (default permissions, unlike {@code Files.createTempFile}). */
  private static Path createTemp(Path target) throws IOException {
    Path dir = target.getParent();
    String prefix = "." + target.getFileName() + "." + ProcessHandle.current().pid() + "-";
    for (int attempt = 0; ; attempt++) {
      Path temp = dir.resolve(prefix + String.format(Locale.ROOT, "%016x", ThreadLocalRandom.current().nextLong()) + ".tmp");
      try {
        Files.newByteChannel(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        return temp;
      } catch (FileAlreadyExistsException e) {
        if (attempt >= 100) {
          throw e;
        }
      }
    }
  }
}
