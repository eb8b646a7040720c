package dev.kiln.processor.onnx;

import dev.kiln.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * A graph turned into Kiln layers: the input shape of one sample, the layers in order, and their weights under
 * the state-dict keys of the {@code @Model} the layers declare ({@code <method>.<key>}).
 *
 * @param input one sample's input shape, {@code {C, H, W}} or {@code {F}}
 * @param layers the layers in order
 * @param weights the state dict, in layer order
 * @param source where it came from (producer, opset), for the generated Javadoc
 */
public record ImportedNetwork(int[] input, List<Layer> layers, Map<String, Tensor> weights, String source) {

  /**
   * One layer: the simple name of its layer annotation ({@code Conv2d}, {@code Linear}, ...), the method name,
   * the annotation's attributes in order (values are {@code Integer}, {@code int[]}, {@code String},
   * {@code Boolean}, {@code Double} or an {@link Enum}), and the ONNX nodes it was made from.
   */
  public record Layer(String annotation, String method, Map<String, Object> attributes, List<String> nodes) {}
}
