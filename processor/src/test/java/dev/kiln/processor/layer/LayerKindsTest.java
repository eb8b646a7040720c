package dev.kiln.processor.layer;

import static com.google.common.truth.Truth.assertThat;

import dev.kiln.annotation.Conv2d;
import dev.kiln.processor.validation.Messages;
import java.io.IOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Target;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The catalogue holds exactly the runtime's layer annotations: those that may be placed on a method, except
 * the ones that qualify a layer method rather than declare a layer.
 */
class LayerKindsTest {
  /** Method annotations that qualify a layer method of a {@code @Model} and are no layer themselves. */
  private static final List<String> LAYER_QUALIFIERS = List.of("KeyPrefix");

  /** The annotation types of {@code dev.kiln.annotation} whose {@code @Target} includes methods. */
  private static List<String> layerAnnotations() throws IOException, URISyntaxException, ClassNotFoundException {
    Path location = Path.of(Conv2d.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    String packagePath = Conv2d.class.getPackageName().replace('.', '/');
    List<String> names = new ArrayList<>();
    try (FileSystem jar = Files.isDirectory(location) ? null : FileSystems.newFileSystem(location);
        Stream<Path> files = Files.list(jar == null ? location.resolve(packagePath) : jar.getPath(packagePath))) {
      for (Path file : files.sorted().toList()) {
        String simple = file.getFileName().toString().replace(".class", "");
        Class<?> type = Class.forName(Conv2d.class.getPackageName() + "." + simple);
        Target target = type.getAnnotation(Target.class);
        if (type.isAnnotation() && target != null && Arrays.asList(target.value()).contains(ElementType.METHOD)) {
          names.add(simple);
        }
      }
    }
    return names;
  }

  @Test
  void everyLayerAnnotationHasOneKind() throws Exception {
    List<String> methodAnnotations = layerAnnotations();
    assertThat(methodAnnotations).containsAtLeastElementsIn(LAYER_QUALIFIERS);
    List<String> annotations = methodAnnotations.stream().filter(a -> !LAYER_QUALIFIERS.contains(a)).toList();
    assertThat(annotations).hasSize(10);
    assertThat(LayerKinds.annotations()).containsExactlyElementsIn(annotations);
    assertThat(LayerKinds.ALL.stream().map(LayerKind::qualifiedAnnotation).distinct().count())
        .isEqualTo(annotations.size());
  }

  @Test
  void theLayerCountMessageNamesEveryKind() {
    String message = Messages.layerCount("act", 2, LayerKinds.annotations());
    assertThat(message).contains("(@Conv2d, @RepConv, @Linear, @ReLU, @MaxPool2d, @AvgPool2d, @GlobalAvgPool2d, "
        + "@Flatten, @Dropout, @BatchNorm2d) but has 2");
  }
}
