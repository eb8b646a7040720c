package dev.kiln.processor.model;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.Reduction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A validated {@code @Model}: the input shape, its layers in order with inferred shapes, the optional R-Drop
 * settings, the layers' state-dict key prefixes by method name (from {@code @KeyPrefix}; absent: the method name),
 * and the deploy plan {@link #deployPlan()} that {@code fuse()} follows.
 */
public record ModelSpec(int[] input, List<LayerSpec> layers, Optional<RDropSpec> rDrop,
    Map<String, String> keyPrefixes) {

  /** A model whose layers' state-dict keys are prefixed with their method names. */
  public ModelSpec(int[] input, List<LayerSpec> layers, Optional<RDropSpec> rDrop) {
    this(input, layers, rDrop, Map.of());
  }

  /** The state-dict key prefix of {@code layer}: its {@code @KeyPrefix}, else its method name. */
  public String keyPrefix(LayerSpec layer) {
    return keyPrefixes.getOrDefault(layer.name(), layer.name());
  }

  /** {@code @RDrop} settings. */
  public record RDropSpec(double alpha, Reduction klReduction) {}

  public int[] output() {
    return layers.isEmpty() ? input : layers.get(layers.size() - 1).outShape();
  }

  /** One layer of the deploy network and the training layers it replaces. */
  public sealed interface DeployStep {
    /** The training layers this step stands for, in order. */
    List<LayerSpec> sources();
  }

  /**
   * A convolution with everything foldable folded in: a following BatchNorm (into weight and bias), and a
   * following ReLU (into the epilogue). {@code spec} is the deploy kernel's geometry (always with bias).
   */
  public record FusedConv(LayerSpec.Conv source, LayerSpec.BatchNorm batchNorm, LayerSpec.Relu relu, ConvSpec spec)
      implements DeployStep {
    @Override
    public List<LayerSpec> sources() {
      List<LayerSpec> s = new ArrayList<>();
      s.add(source);
      if (batchNorm != null) {
        s.add(batchNorm);
      }
      if (relu != null) {
        s.add(relu);
      }
      return s;
    }
  }

  /** A RepConv block replaced by its fused kernel (activation included). */
  public record FusedRepConv(LayerSpec.RepConv source) implements DeployStep {
    @Override
    public List<LayerSpec> sources() {
      return List.of(source);
    }
  }

  /** A layer kept as it is (weights copied). */
  public record Keep(LayerSpec layer) implements DeployStep {
    @Override
    public List<LayerSpec> sources() {
      return List.of(layer);
    }
  }

  /**
   * The deploy network: RepConv blocks fused; a Conv followed by BatchNorm folded (when the conv has no
   * activation of its own); a ReLU right after a conv-like layer without activation fused into its epilogue;
   * Dropout removed; everything else kept.
   */
  public List<DeployStep> deployPlan() {
    List<DeployStep> plan = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      LayerSpec layer = layers.get(i);
      if (layer instanceof LayerSpec.Dropout) {
        continue;
      }
      if (layer instanceof LayerSpec.RepConv r) {
        plan.add(new FusedRepConv(r));
        continue;
      }
      if (layer instanceof LayerSpec.Conv c) {
        ConvSpec conv = c.conv();
        LayerSpec.BatchNorm bn = null;
        LayerSpec.Relu relu = null;
        int j = i + 1;
        if (conv.activation() == Activation.NONE && j < layers.size()
            && layers.get(j) instanceof LayerSpec.BatchNorm b) {
          bn = b;
          j++;
        }
        if (conv.activation() == Activation.NONE && j < layers.size() && layers.get(j) instanceof LayerSpec.Relu r) {
          relu = r;
          j++;
        }
        ConvSpec deploy = new ConvSpec(conv.inChannels(), conv.outChannels(), conv.inHeight(), conv.inWidth(),
            conv.kernelH(), conv.kernelW(), conv.strideH(), conv.strideW(), conv.dilationH(), conv.dilationW(),
            conv.padTop(), conv.padBottom(), conv.padLeft(), conv.padRight(), conv.groups(),
            conv.bias() || bn != null, conv.paddingMode(), relu != null ? Activation.RELU : conv.activation());
        plan.add(new FusedConv(c, bn, relu, deploy));
        i = j - 1;
        continue;
      }
      plan.add(new Keep(layer));
    }
    return plan;
  }
}
