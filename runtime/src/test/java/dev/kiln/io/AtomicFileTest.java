package dev.kiln.io;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an atomic write replaces, and what it refuses to. */
class AtomicFileTest {
  @TempDir Path dir;

  @Test
  void replacesARegularFileAndLeavesNoTemporaryFile() throws IOException {
    Path file = Files.writeString(dir.resolve("a.txt"), "old");
    AtomicFile.writeString(file, "new");
    assertThat(Files.readString(file)).isEqualTo("new");
    AtomicFile.writeString(dir.resolve("b.txt"), "created");
    assertThat(Files.readString(dir.resolve("b.txt"))).isEqualTo("created");
    assertThat(names()).containsExactly("a.txt", "b.txt");
  }

  @Test
  void createsMissingParentDirectories() throws IOException {
    Path target = dir.resolve("a/b/c.txt");
    AtomicFile.writeString(target, "deep");
    assertThat(Files.readString(target)).isEqualTo("deep");
    try (Stream<Path> files = Files.list(target.getParent())) {
      assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("c.txt");
    }
  }

  @Test
  void refusesToReplaceADirectoryOrAPipe() throws IOException, InterruptedException {
    Path directory = Files.createDirectories(dir.resolve("out.json"));
    IOException e = assertThrows(IOException.class, () -> AtomicFile.writeString(directory, "x"));
    assertThat(e).hasMessageThat().isEqualTo(directory + ": exists and is not a regular file (a directory); "
        + "refusing to replace it");
    assertThat(Files.isDirectory(directory)).isTrue();

    Path pipe = dir.resolve("pipe");
    assumeTrue(new ProcessBuilder("mkfifo", pipe.toString()).start().waitFor() == 0, "mkfifo unavailable");
    e = assertThrows(IOException.class, () -> AtomicFile.writeString(pipe, "x"));
    assertThat(e).hasMessageThat().contains("exists and is not a regular file (a named pipe)");
    assertThat(AtomicFile.kind(pipe)).isEqualTo("a named pipe");
    assertThat(Files.isRegularFile(pipe)).isFalse();
    assertThat(names()).containsExactly("out.json", "pipe");
  }

  @Test
  void writesThroughSymbolicLinksAndKeepsThem() throws IOException {
    Path target = Files.writeString(dir.resolve("target.txt"), "old");
    Path link = Files.createSymbolicLink(dir.resolve("link.txt"), Path.of("target.txt"));
    Path linkToLink = Files.createSymbolicLink(dir.resolve("link2.txt"), link);
    AtomicFile.writeString(linkToLink, "new");
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.isSymbolicLink(linkToLink)).isTrue();
    assertThat(Files.readString(target)).isEqualTo("new");

    Path dangling = Files.createSymbolicLink(dir.resolve("dangling.txt"), Path.of("created.txt"));
    AtomicFile.writeString(dangling, "made");
    assertThat(Files.readString(dir.resolve("created.txt"))).isEqualTo("made");
    assertThat(Files.isSymbolicLink(dangling)).isTrue();

    Path toDirectory = Files.createSymbolicLink(dir.resolve("dirlink"), Files.createDirectory(dir.resolve("d")));
    IOException e = assertThrows(IOException.class, () -> AtomicFile.writeString(toDirectory, "x"));
    assertThat(e).hasMessageThat().contains("exists and is not a regular file (a directory)");

    Path loop = Files.createSymbolicLink(dir.resolve("loop"), Path.of("loop"));
    e = assertThrows(IOException.class, () -> AtomicFile.writeString(loop, "x"));
    assertThat(e).hasMessageThat().contains("more than 40 symbolic links in a row");
  }

  /** A killed writer's temporary file goes with the next write; nothing that may not be ours does. */
  @Test
  void staleTemporaryFilesOfKilledWritersAreRemovedAndNothingElse() throws IOException {
    Path target = dir.resolve("ckpt.safetensors");
    FileTime hourAgo = FileTime.from(Instant.now().minus(Duration.ofHours(1)));
    String random = "-0123456789abcdef.tmp";
    long dead = Integer.MAX_VALUE; // above Linux's largest pid
    long self = ProcessHandle.current().pid();
    Path stale = old(dir.resolve(".ckpt.safetensors." + dead + random), hourAgo);
    Path staleToo = old(dir.resolve(".ckpt.safetensors." + (dead - 1) + random), hourAgo);
    Path fresh = Files.createFile(dir.resolve(".ckpt.safetensors." + (dead - 2) + random)); // may still be written
    Path alive = old(dir.resolve(".ckpt.safetensors." + self + random), hourAgo);
    Path otherTarget = old(dir.resolve(".other.safetensors." + dead + random), hourAgo);
    Path otherPattern = old(dir.resolve(".ckpt.safetensors.123456789.tmp"), hourAgo);
    Path noDot = old(dir.resolve("ckpt.safetensors." + dead + random), hourAgo);
    Path directory = Files.createDirectory(dir.resolve(".ckpt.safetensors." + (dead - 3) + random));
    Files.setLastModifiedTime(directory, hourAgo);
    Path link = Files.createSymbolicLink(dir.resolve(".ckpt.safetensors." + (dead - 4) + random), otherPattern);

    AtomicFile.writeString(target, "written");

    assertThat(Files.exists(stale)).isFalse();
    assertThat(Files.exists(staleToo)).isFalse();
    for (Path kept : new Path[] {fresh, alive, otherTarget, otherPattern, noDot, directory}) {
      assertWithMessage(kept.toString()).that(Files.exists(kept)).isTrue();
    }
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readString(target)).isEqualTo("written");
    assertThat(names().stream().filter(n -> n.startsWith(".ckpt.safetensors.") && n.endsWith(".tmp")).count())
        .isEqualTo(5); // fresh, alive, otherPattern, directory, link
  }

  private static Path old(Path file, FileTime time) throws IOException {
    Files.writeString(file, "partial");
    Files.setLastModifiedTime(file, time);
    return file;
  }

  private java.util.List<String> names() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
