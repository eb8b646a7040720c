package dev.kiln.samples.imports;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.nn.SequentialModel;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.Golden;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The reduced official-structure RepVGG (RepVGG-A0's 22 blocks at width 0.0625) from the committed checkpoints of
 * {@code tools/import/repvgg_checkpoints.py}: the train-form checkpoint (official names, written through the
 * {@code .pth} converter) loads into the {@code @KeyPrefix} network, the deploy-form checkpoint loads straight
 * into {@code Fused}, and both give PyTorch's outputs and each other's. Tolerance: 2e-4 * (1 + |expected|), float
 * sums over 22 layers in another order (logits up to ~55).
 */
class RepVggCheckpointsTest {
  private static final Golden TRAIN = Golden.load("/repvgg/tiny-train.safetensors");
  private static final Golden DEPLOY = Golden.load("/repvgg/tiny-deploy.safetensors");
  private static final Golden OUTPUTS = Golden.load("/repvgg/tiny-golden.safetensors");

  private static void assertClose(String what, Tensor expected, Tensor actual) {
    assertThat(actual.shape()).isEqualTo(expected.shape());
    int compared = 0;
    for (int i = 0; i < expected.size(); i++) {
      float e = expected.data()[i];
      assertWithMessage(what + " element " + i).that((double) actual.data()[i]).isWithin(2e-4 * (1 + Math.abs(e)))
          .of(e);
      compared++;
    }
    assertThat(compared).isEqualTo(20);
  }

  @Test
  void bothCheckpointFormsGivePyTorchsOutputs() throws Exception {
    Map<String, Tensor> train = TRAIN.tensors();
    Map<String, Tensor> deploy = DEPLOY.tensors();
    assertThat(train).containsKey("stage3.13.rbr_dense.conv.weight");
    assertThat(train).containsKey("stage1.1.rbr_identity.num_batches_tracked");
    assertThat(deploy.keySet()).contains("stage4.0.rbr_reparam.bias");
    RepVggCheckpoints.Outputs out = RepVggCheckpoints.run(RepVggCheckpoints.Network.TINY, train, deploy,
        OUTPUTS.tensor("input"));
    assertClose("train form vs PyTorch", OUTPUTS.tensor("train_output"), out.trainForm());
    assertClose("fused by Kiln vs PyTorch", OUTPUTS.tensor("train_output"), out.fusedByKiln());
    assertClose("deploy checkpoint vs PyTorch deploy form", OUTPUTS.tensor("deploy_output"), out.deployForm());
    assertClose("deploy checkpoint vs fused by Kiln", out.fusedByKiln(), out.deployForm());
  }

  @Test
  void fusedSavesTheOfficialDeployKeys() throws Exception {
    TinyRepVggModel model = new TinyRepVggModel();
    model.loadStateDict(TRAIN.tensors());
    model.eval();
    SequentialModel fused = model.fuse();
    assertThat(fused.stateDict().keySet()).containsExactlyElementsIn(DEPLOY.keys()).inOrder();
    assertThat(new TinyRepVggModel().stateDict().keySet()).containsExactlyElementsIn(TRAIN.keys()).inOrder();
    // The deploy weights Kiln computes equal the conversion script's, to float rounding.
    for (String key : DEPLOY.keys()) {
      Tensor mine = fused.stateDict().get(key);
      Tensor theirs = DEPLOY.tensor(key);
      assertWithMessage(key).that(RepVggCheckpoints.maxAbsDiff(mine, theirs)).isAtMost(2e-5);
    }
  }
}
