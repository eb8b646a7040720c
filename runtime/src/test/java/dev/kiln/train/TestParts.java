package dev.kiln.train;

import dev.kiln.loss.Objective;
import dev.kiln.nn.AbstractModule;
import dev.kiln.nn.Init;
import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.Reseedable;
import dev.kiln.optim.Optimizer;
import dev.kiln.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Test-only model, optimizer and objective, so the trainer tests do not depend on the real layers. */
final class TestParts {
  private TestParts() {}

  /**
   * Softmax regression with inverted dropout on its input: {@code z = dropout(flatten(x)) W^T + b}. The dropout
   * generator is reset by {@link #reseed(long)}; {@code evalForwards} counts eval-mode forward calls.
   */
  static class SoftmaxRegression extends AbstractModule implements Reseedable {
    final int in;
    final int out;
    final double dropP;
    final Parameter weight;
    final Parameter bias;
    SplittableRandom random = new SplittableRandom(0);
    int evalForwards;
    int trainForwards;
    private float[] droppedInput;
    private float[] mask;
    private int batch;

    SoftmaxRegression(int in, int out, double dropP, long initSeed) {
      this.in = in;
      this.out = out;
      this.dropP = dropP;
      SplittableRandom init = new SplittableRandom(initSeed);
      Tensor w = Tensor.zeros(out, in);
      Init.uniformFanIn(w.data(), in, init);
      Tensor b = Tensor.zeros(out);
      Init.uniformFanIn(b.data(), in, init);
      weight = registerParameter("weight", w);
      bias = registerParameter("bias", b);
    }

    @Override
    public void reseed(long seed) {
      random = new SplittableRandom(seed);
    }

    @Override
    public Tensor forward(Tensor input) {
      batch = input.dim(0);
      if (input.size() != batch * in) {
        throw new IllegalArgumentException("input " + Tensor.shapeString(input.shape()));
      }
      float[] x = input.data().clone();
      mask = new float[x.length];
      if (isTraining()) {
        trainForwards++;
        float scale = (float) (1.0 / (1.0 - dropP));
        for (int i = 0; i < x.length; i++) {
          mask[i] = dropP > 0 && random.nextDouble() < dropP ? 0f : scale;
          x[i] *= mask[i];
        }
      } else {
        evalForwards++;
      }
      droppedInput = x;
      float[] w = weight.data().data();
      float[] b = bias.data().data();
      float[] z = new float[batch * out];
      for (int n = 0; n < batch; n++) {
        for (int o = 0; o < out; o++) {
          float s = b[o];
          for (int i = 0; i < in; i++) {
            s += w[o * in + i] * x[n * in + i];
          }
          z[n * out + o] = s;
        }
      }
      return Tensor.of(z, batch, out);
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
      Tensor.checkShape("gradOutput", gradOutput, batch, out);
      float[] g = gradOutput.data();
      float[] w = weight.data().data();
      float[] gw = weight.grad().data();
      float[] gb = bias.grad().data();
      float[] gx = new float[batch * in];
      for (int n = 0; n < batch; n++) {
        for (int o = 0; o < out; o++) {
          float go = g[n * out + o];
          gb[o] += go;
          for (int i = 0; i < in; i++) {
            gw[o * in + i] += go * droppedInput[n * in + i];
            gx[n * in + i] += go * w[o * in + i];
          }
        }
      }
      for (int i = 0; i < gx.length; i++) {
        gx[i] *= mask[i];
      }
      return Tensor.of(gx, batch, in);
    }
  }

  /**
   * SGD with momentum as torch.optim.SGD (dampening 0): {@code buf = m * buf + g; p -= lr * buf}, buffers
   * starting at zero (equal to PyTorch's first-step {@code buf = g}). Records the call sequence in {@code log}.
   */
  static final class MomentumSgd implements Optimizer {
    final Map<String, Parameter> params;
    final Map<String, Tensor> buffers = new LinkedHashMap<>();
    final double momentum;
    final List<String> log = new ArrayList<>();
    double lr;

    MomentumSgd(Module model, double momentum) {
      this.params = model.namedParameters();
      this.momentum = momentum;
      params.forEach((k, p) -> buffers.put("momentum_buffer." + k, Tensor.zeros(p.data().shape())));
    }

    @Override
    public void step() {
      log.add("step");
      for (Map.Entry<String, Parameter> e : params.entrySet()) {
        float[] p = e.getValue().data().data();
        float[] g = e.getValue().grad().data();
        float[] b = buffers.get("momentum_buffer." + e.getKey()).data();
        for (int i = 0; i < p.length; i++) {
          b[i] = (float) (momentum * b[i]) + g[i];
          p[i] -= (float) (lr * b[i]);
        }
        e.getValue().markChanged();
      }
    }

    @Override
    public void zeroGrad() {
      log.add("zeroGrad");
      params.values().forEach(Parameter::zeroGrad);
    }

    @Override
    public double learningRate() {
      return lr;
    }

    @Override
    public void setLearningRate(double lr) {
      log.add("lr=" + lr);
      this.lr = lr;
    }

    @Override
    public Map<String, Tensor> state() {
      return buffers;
    }

    @Override
    public void loadState(Map<String, Tensor> state) {
      AbstractModule.loadStrict(buffers, state);
    }
  }

  /** Mean cross-entropy, as torch.nn.CrossEntropyLoss: backward with {@code (softmax(z) - onehot) / N}. */
  static final class CrossEntropy implements Objective {
    final List<String> log;

    CrossEntropy(List<String> log) {
      this.log = log;
    }

    @Override
    public StepResult step(Module model, Tensor input, int[] targets) {
      log.add("objective");
      Tensor z = model.forward(input);
      int n = z.dim(0);
      int c = z.dim(1);
      float[] g = new float[n * c];
      double loss = 0;
      for (int i = 0; i < n; i++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < c; k++) {
          max = Math.max(max, z.data()[i * c + k]);
        }
        double sum = 0;
        for (int k = 0; k < c; k++) {
          sum += Math.exp(z.data()[i * c + k] - max);
        }
        loss += max + Math.log(sum) - z.data()[i * c + targets[i]];
        for (int k = 0; k < c; k++) {
          double p = Math.exp(z.data()[i * c + k] - max) / sum;
          g[i * c + k] = (float) ((p - (k == targets[i] ? 1 : 0)) / n);
        }
      }
      model.backward(Tensor.of(g, n, c));
      return new StepResult(loss / n, z);
    }
  }
}
