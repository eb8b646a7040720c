package dev.kiln.simd;

import dev.kiln.annotation.Activation;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Parameter;

/**
 * The forward of a convolution layer used on its own (NCHW in and out) by one of the network engine's mechanisms
 * instead of the direct engine's: its blocked tiles ({@link LoneBlockedConv}) or Winograd's form
 * ({@link LoneWinograd}). It packs or transforms its own weights by their versions, and splits all of a sample's
 * output channels over the pool itself.
 */
interface LoneForward {
  /** The engine name's part for this forward: {@code "blocked"} or {@code "winograd"}. */
  String kind();

  /**
   * Output channels {@code [ocStart, ocEnd)} of one sample: {@code x[xOff..]} NCHW in, {@code y[yOff..]} NCHW out,
   * the activation applied, nothing outside the range written.
   */
  void forward(Parameter weight, Parameter bias, float[] x, int xOff, float[] y, int yOff, int ocStart, int ocEnd);

  /**
   * What a lone forward queues for warming after its first call, besides its layer's own tiles: the priming of the
   * layers' driver loop ({@link TileWarmer#requestDriverPriming}) and, where {@code in} or {@code out} fit them, the
   * conversions' transposes ({@link BlockTranspose}). Until then the layer runs the shared first code.
   */
  static void requestAfterFirstCall(BlockedLayout in, BlockedLayout out) {
    TileWarmer.requestDriverPriming();
    BlockTranspose.request(in, out);
  }

  /**
   * The form a layer of {@code geometry} used alone takes: Winograd's where it applies, else the blocked tiles
   * where they are faster here, else null (the direct engine).
   */
  static LoneForward forLayer(ConvGeometry geometry, Activation activation) {
    LoneForward w = LoneWinograd.forLayer(geometry, activation);
    return w != null ? w : LoneBlockedConv.forLayer(geometry, activation);
  }
}
