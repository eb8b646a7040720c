package dev.kiln.processor.model;

import dev.kiln.nn.ConvGeometry;
import java.util.Arrays;

/**
 * One layer of a {@code @Model} after shape inference: its method name, the shape that arrives (without the
 * batch dimension) and the shape it produces.
 */
public sealed interface LayerSpec {
  /** The interface method that declares the layer; also its state-dict prefix. */
  String name();

  int[] inShape();

  int[] outShape();

  /** {@code [2, 3, 4]}. */
  static String shape(int[] s) {
    return Arrays.toString(s);
  }

  record Conv(String name, ConvSpec conv) implements LayerSpec {
    @Override
    public int[] inShape() {
      return new int[] {conv.inChannels(), conv.inHeight(), conv.inWidth()};
    }

    @Override
    public int[] outShape() {
      return new int[] {conv.outChannels(), conv.outHeight(), conv.outWidth()};
    }
  }

  record RepConv(String name, RepConvSpec block) implements LayerSpec {
    @Override
    public int[] inShape() {
      return new int[] {block.inChannels(), block.inHeight(), block.inWidth()};
    }

    @Override
    public int[] outShape() {
      return new int[] {block.outChannels(), block.outHeight(), block.outWidth()};
    }
  }

  record Linear(String name, int inFeatures, int outFeatures, boolean bias) implements LayerSpec {
    @Override
    public int[] inShape() {
      return new int[] {inFeatures};
    }

    @Override
    public int[] outShape() {
      return new int[] {outFeatures};
    }
  }

  /** Max or average pooling (average counts the zero padding, as PyTorch's default). */
  record Pool(String name, boolean max, int[] inShape, int kernelH, int kernelW, int strideH, int strideW, int padH,
      int padW) implements LayerSpec {
    @Override
    public int[] outShape() {
      return new int[] {inShape[0], ConvGeometry.outSize(inShape[1], padH, padH, kernelH, strideH, 1),
          ConvGeometry.outSize(inShape[2], padW, padW, kernelW, strideW, 1)};
    }
  }

  record GlobalAvgPool(String name, int[] inShape) implements LayerSpec {
    @Override
    public int[] outShape() {
      return new int[] {inShape[0], 1, 1};
    }
  }

  record Flatten(String name, int[] inShape) implements LayerSpec {
    @Override
    public int[] outShape() {
      int n = 1;
      for (int d : inShape) {
        n *= d;
      }
      return new int[] {n};
    }
  }

  record Relu(String name, int[] inShape) implements LayerSpec {
    @Override
    public int[] outShape() {
      return inShape;
    }
  }

  record Dropout(String name, int[] inShape, double p) implements LayerSpec {
    @Override
    public int[] outShape() {
      return inShape;
    }
  }

  record BatchNorm(String name, int[] inShape) implements LayerSpec {
    @Override
    public int[] outShape() {
      return inShape;
    }
  }
}
