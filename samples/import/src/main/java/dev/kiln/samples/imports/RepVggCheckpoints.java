package dev.kiln.samples.imports;

import dev.kiln.io.SafeTensors;
import dev.kiln.nn.SequentialModel;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Loads the official-structure RepVGG-A0 from both checkpoint forms and checks that they compute the same:
 * the train-form checkpoint into {@code RepVggA0Model} (then fused by Kiln) and the deploy-form checkpoint
 * straight into {@code RepVggA0Model.Fused}. With a golden file (input and PyTorch's outputs, as
 * {@code tools/import/repvgg_checkpoints.py} writes it) the outputs are also compared with PyTorch's.
 *
 * <pre>
 * java -jar samples/import/target/kiln-import.jar [--tiny] [--train FILE] [--deploy FILE] [--golden FILE]
 * </pre>
 * Defaults: {@code samples/import/checkpoints/a0-{train,deploy,golden}.safetensors} ({@code --tiny}: the
 * reduced network's files in {@code samples/import/src/test/resources/repvgg/}).
 */
public final class RepVggCheckpoints {
  /** One network of the official structure: its two forms. */
  enum Network {
    A0("a0", RepVggA0Model::new, RepVggA0Model.Fused::new, "samples/import/checkpoints"),
    TINY("tiny", TinyRepVggModel::new, TinyRepVggModel.Fused::new, "samples/import/src/test/resources/repvgg");

    final String prefix;
    final Supplier<SequentialModel> trainForm;
    final Supplier<SequentialModel> deployForm;
    final String directory;

    Network(String prefix, Supplier<SequentialModel> trainForm, Supplier<SequentialModel> deployForm,
        String directory) {
      this.prefix = prefix;
      this.trainForm = trainForm;
      this.deployForm = deployForm;
      this.directory = directory;
    }

    Path file(String kind) {
      return Path.of(directory, prefix + "-" + kind + ".safetensors");
    }
  }

  /** The three networks' outputs for one input. */
  record Outputs(Tensor trainForm, Tensor fusedByKiln, Tensor deployForm) {}

  private RepVggCheckpoints() {}

  /**
   * Runs {@code input} through the train-form checkpoint (eval mode), its Kiln fusion, and the deploy-form
   * checkpoint loaded into {@code Fused}. Loading is strict: every official key must be there with its shape.
   */
  static Outputs run(Network network, Map<String, Tensor> train, Map<String, Tensor> deploy, Tensor input)
      throws ReflectiveOperationException {
    SequentialModel model = network.trainForm.get();
    model.loadStateDict(train);
    model.eval();
    SequentialModel fused = (SequentialModel) model.getClass().getMethod("fuse").invoke(model);
    SequentialModel loaded = network.deployForm.get();
    loaded.loadStateDict(deploy);
    return new Outputs(model.forward(input), fused.forward(input), loaded.forward(input));
  }

  static double maxAbsDiff(Tensor a, Tensor b) {
    double max = 0;
    for (int i = 0; i < a.size(); i++) {
      max = Math.max(max, Math.abs(a.data()[i] - b.data()[i]));
    }
    return max;
  }

  /** Runs the check; see the class comment for the arguments. */
  public static void main(String[] args) throws Exception {
    Network network = Network.A0;
    Path train = null;
    Path deploy = null;
    Path golden = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--tiny" -> network = Network.TINY;
        case "--train" -> train = Path.of(args[++i]);
        case "--deploy" -> deploy = Path.of(args[++i]);
        case "--golden" -> golden = Path.of(args[++i]);
        default -> {
          System.err.println("usage: [--tiny] [--train FILE] [--deploy FILE] [--golden FILE]");
          System.exit(2);
        }
      }
    }
    train = train != null ? train : network.file("train");
    deploy = deploy != null ? deploy : network.file("deploy");
    golden = golden != null ? golden : network.file("golden");
    for (Path p : new Path[] {train, deploy}) {
      if (!Files.isRegularFile(p)) {
        System.err.println("error: " + p + " not found (write the RepVGG-A0 files with "
            + "'/usr/bin/python3 tools/import/repvgg_checkpoints.py --full', or pass --tiny)");
        System.exit(2);
      }
    }
    Map<String, Tensor> trainState = SafeTensors.read(train);
    Map<String, Tensor> deployState = SafeTensors.read(deploy);
    Map<String, Tensor> goldens = Files.isRegularFile(golden) ? SafeTensors.read(golden) : null;
    SequentialModel probe = network.trainForm.get();
    int[] in = probe.inputShape();
    Tensor input = goldens != null ? goldens.get("input") : random(in);
    Outputs out = run(network, trainState, deployState, input);
    System.out.printf(Locale.ROOT, "%s: %d train-form tensors (%s), %d deploy-form tensors (%s), input %s%n",
        network, trainState.size(), train, deployState.size(), deploy, java.util.Arrays.toString(input.shape()));
    System.out.printf(Locale.ROOT, "max |train form - fused by Kiln|         = %.3g%n",
        maxAbsDiff(out.trainForm(), out.fusedByKiln()));
    System.out.printf(Locale.ROOT, "max |fused by Kiln - deploy checkpoint|  = %.3g%n",
        maxAbsDiff(out.fusedByKiln(), out.deployForm()));
    if (goldens != null) {
      System.out.printf(Locale.ROOT, "max |train form - PyTorch train form|    = %.3g%n",
          maxAbsDiff(out.trainForm(), goldens.get("train_output")));
      System.out.printf(Locale.ROOT, "max |deploy form - PyTorch deploy form|  = %.3g (largest |logit| %.3g)%n",
          maxAbsDiff(out.deployForm(), goldens.get("deploy_output")), maxAbs(goldens.get("deploy_output")));
    }
  }

  private static double maxAbs(Tensor t) {
    double max = 0;
    for (float v : t.data()) {
      max = Math.max(max, Math.abs(v));
    }
    return max;
  }

  private static Tensor random(int[] sample) throws IOException {
    int[] shape = new int[sample.length + 1];
    shape[0] = 1;
    System.arraycopy(sample, 0, shape, 1, sample.length);
    Tensor x = Tensor.zeros(shape);
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < x.size(); i++) {
      x.data()[i] = (float) r.nextGaussian();
    }
    return x;
  }
}
