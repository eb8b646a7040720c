package dev.kiln;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.nn.Module;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The runtime's packages depend on each other without cycles, read from the compiled classes (every
 * class a class file refers to is named in its constant pool): the layers ({@code dev.kiln.nn}) know
 * nothing of losses or training, which build on them.
 */
class PackageDependencyTest {
  private static final Pattern REFERENCE = Pattern.compile("dev/kiln/([a-z]+)/");

  /** Package -> the other {@code dev.kiln} packages its classes refer to. */
  private static Map<String, Set<String>> dependencies() throws IOException, URISyntaxException {
    Path classes = Path.of(Module.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Path root = classes.resolve("dev/kiln");
    Map<String, Set<String>> graph = new TreeMap<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
        String pkg = root.relativize(file).getName(0).toString();
        Set<String> deps = graph.computeIfAbsent(pkg, p -> new TreeSet<>());
        Matcher m = REFERENCE.matcher(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1));
        while (m.find()) {
          if (!m.group(1).equals(pkg)) {
            deps.add(m.group(1));
          }
        }
      }
    }
    return graph;
  }

  @Test
  void layersDoNotDependOnLossesOrTraining() throws Exception {
    Map<String, Set<String>> graph = dependencies();
    assertThat(graph).containsKey("nn");
    assertThat(graph.get("loss")).contains("nn"); // the scan sees references
    assertThat(graph.get("nn")).containsNoneOf("loss", "train", "optim", "data", "io");
  }

  @Test
  void packagesHaveNoCycle() throws Exception {
    Map<String, Set<String>> graph = dependencies();
    assertThat(graph.keySet()).containsAtLeast("annotation", "loss", "nn", "optim", "runtime", "tensor", "train");
    for (String start : graph.keySet()) {
      List<String> path = new ArrayList<>();
      assertWithMessage("cycle through %s: %s", start, path).that(reaches(graph, start, start, new TreeSet<>(), path))
          .isFalse();
    }
  }

  /** Whether {@code target} is reachable from {@code from} in one or more steps; {@code path} records the way. */
  private static boolean reaches(Map<String, Set<String>> graph, String from, String target, Set<String> seen,
      List<String> path) {
    for (String next : graph.getOrDefault(from, Set.of())) {
      path.add(next);
      if (next.equals(target) || (seen.add(next) && reaches(graph, next, target, seen, path))) {
        return true;
      }
      path.remove(path.size() - 1);
    }
    return false;
  }
}
