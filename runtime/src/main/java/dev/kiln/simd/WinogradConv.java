package dev.kiln.simd;

import static dev.kiln.simd.AlignedFloats.FIRST;
import static dev.kiln.simd.VectorShape.LANES;

import dev.kiln.annotation.Activation;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.WinogradKernels;
import dev.kiln.runtime.Parallel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A 3x3 convolution of stride 1 and padding 1 in the blocked layout by Winograd's minimal filtering F(2x2, 3x3)
 * (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): each 2x2 block of output pixels is
 * {@code A^T [(G g G^T) . (B^T d B)] A} for the 4x4 input patch {@code d} around it, so the reduction over input
 * channels becomes 16 products of matrices, one per position of the 4x4 transformed patch, of 2.25 times fewer
 * multiply-adds than the 3x3 sums. Three steps:
 * <ol>
 *   <li>the input transform: every patch's {@code B^T d B}, one vector of a channel block at a time (additions
 *       only), into 16 blocked maps of the tiles ({@link #tiles}: {@code inChannels x outHeight/2 x outWidth/2});
 *   <li>16 pointwise convolutions, one per position, each a {@link BlockedConv} with its own transformed weights
 *       {@code G g G^T}: the blocked engine's pointwise tiles, chunks, first tiles and warm-up as for any 1x1
 *       layer;
 *   <li>the output transform: {@code A^T m A} of every tile's 16 products, plus the bias, clamped by the
 *       activation, into the output layout's interior.
 * </ol>
 * Over threads, each thread takes a share of the products' output-channel chunks, after the whole input transform
 * of its own ({@link #runChunks}); a layer of fewer chunks than threads splits each step on its own. Until their
 * vector code is compiled the transforms run in plain Java, the same additions per lane ({@link #inputRowPlain}).
 * Each output is the same operations in the same order whatever thread or tile computes it, so results do not
 * depend on the thread count or on which code is compiled yet; they differ from the 3x3 sums by rounding (within
 * 1e-5 of the largest output against the reference convolution, {@code WinogradConvTest}).
 */
final class WinogradConv {
  private static final VectorSpecies<Float> S = VectorShape.SPECIES;
  /** Positions of a transformed 4x4 patch: one pointwise convolution each. */
  static final int POSITIONS = WinogradKernels.POSITIONS;

  /**
   * The fewest input channels a layer in a network needs to run this way ({@code kiln.blocked.winogradMinChannels},
   * default {@link WinogradKernels#MIN_CHANNELS}); layers of fewer than 32 were not measured in a network.
   */
  static final int MIN_CHANNELS = Integer.getInteger("kiln.blocked.winogradMinChannels", WinogradKernels.MIN_CHANNELS);

  final ConvGeometry geometry;
  final BlockedLayout in;
  final BlockedLayout out;
  /** One sample's transformed input at one position: {@code inChannels x tilesH x tilesW}, no halo. */
  final BlockedLayout tiles;
  /** One sample's products at one position: {@code outChannels x tilesH x tilesW}, no halo. */
  final BlockedLayout products;
  private final float lo;
  private final float hi;
  /**
   * The products' pointwise convolution, one for all 16 positions: they share its geometry, layouts, chunks and
   * tiles and differ only in their weights, which {@link BlockedConv#run(BlockedConv.Packed, float[], int, float[],
   * int, int, int, int, int)} takes per call. (Sixteen built apart, RepVGG-A0's network took 39-70 ms to build at
   * the start of its first forward instead of 32-36, on an AMD EPYC Zen 3.)
   */
  private final BlockedConv pointwise;
  /** The first output block of each of the products' chunks, and the block count last. */
  private final int[] firstBlocks;
  private volatile Transformed transformed;
  /** Where the transformed weights go, as {@link BlockedConv}'s packed ones (guarded by this). */
  private AlignedFloats.Share home;
  /** The transforms' compiled code ({@link TileWarmer}), shared by every Winograd layer. */
  private static final TileWarmer.Tile INPUT = TileWarmer.winogradInput(false);
  private static final TileWarmer.Tile OUTPUT = TileWarmer.winogradOutput(false);
  private static final TileWarmer.Tile WEIGHTS = TileWarmer.winogradWeights();

  /**
   * The transformed weights {@code G g G^T} of one weight version, packed for the positions' pointwise
   * convolutions in one array (large enough that the collector allocates it in place and never copies it).
   */
  private record Transformed(Parameter weight, long version, BlockedConv.Packed[] packed) {
    /** Whether these are the transformed values of {@code weight} at {@code version}. */
    boolean isFor(Parameter weight, long version) {
      return this.weight == weight && this.version == version;
    }
  }

  /**
   * Whether a layer runs this way: its shape fits the form ({@link WinogradKernels#fits}: 3x3, stride 1, padding 1,
   * even output sides), over a blocked input of at least {@link #MIN_CHANNELS} channels;
   * {@code kiln.blocked.winograd=false} turns it off.
   */
  static boolean supports(ConvGeometry g, boolean blockedInput) {
    return supports(g, blockedInput, MIN_CHANNELS);
  }

  /** {@link #supports(ConvGeometry, boolean)} with at least {@code minChannels} input channels instead. */
  static boolean supports(ConvGeometry g, boolean blockedInput, int minChannels) {
    return blockedInput && !"false".equals(System.getProperty("kiln.blocked.winograd")) && WinogradKernels.fits(g)
        && g.inChannels() >= Math.max(1, minChannels) && BlockedConv.supports(g, true);
  }

  WinogradConv(ConvGeometry geometry, Activation activation, BlockedLayout in, BlockedLayout out) {
    if (!supports(geometry, in.blocked, 1)) {
      throw new IllegalArgumentException("no Winograd convolution for " + geometry + " with " + in);
    }
    if (in.channels != geometry.inChannels() || in.height != geometry.inHeight() || in.width != geometry.inWidth()
        || in.top < 1 || in.bottom < 1 || in.left < 1 || in.right < 1) {
      throw new IllegalArgumentException(in + " does not fit " + geometry);
    }
    if (!out.blocked || out.channels != geometry.outChannels() || out.height != geometry.outHeight()
        || out.width != geometry.outWidth()) {
      throw new IllegalArgumentException(out + " does not fit " + geometry);
    }
    this.geometry = geometry;
    this.in = in;
    this.out = out;
    float[] c = BlockedConv.clamp(activation);
    this.lo = c[0];
    this.hi = c[1];
    int th = geometry.outHeight() / 2;
    int tw = geometry.outWidth() / 2;
    this.tiles = BlockedLayout.blocked(geometry.inChannels(), th, tw, 0, 0, 0, 0);
    this.products = BlockedLayout.blocked(geometry.outChannels(), th, tw, 0, 0, 0, 0);
    ConvGeometry pointwise = ConvGeometry.builder().inChannels(geometry.inChannels())
        .outChannels(geometry.outChannels()).inputSize(th, tw).kernel(1, 1).build();
    this.pointwise = new BlockedConv(pointwise, Activation.NONE, tiles, products);
    int[] blocks = this.pointwise.chunkBlocks();
    this.firstBlocks = new int[blocks.length + 1];
    for (int k = 0; k < blocks.length; k++) {
      firstBlocks[k + 1] = firstBlocks[k] + blocks[k];
    }
  }

  /** Whether only the first forward's code runs (tests; {@link #useFirstCodeOnly}). */
  private boolean firstCodeOnly;

  /** Tests: the first forward's code only (plain-Java transforms, one-block first tiles), or not. */
  void useFirstCodeOnly(boolean on) {
    firstCodeOnly = on;
    pointwise.firstTilesOnly = on;
  }

  /**
   * The floats of the transformed input (and, separately, of the products) of a batch of {@code n}: from
   * {@link #FIRST} on, where the arrays' vectors start cache lines if the JVM puts them on a line's boundary
   * ({@link AlignedFloats}).
   */
  int tileFloats(int n) {
    return Math.addExact(FIRST, Math.multiplyExact(POSITIONS * n, tiles.sampleSize));
  }

  int productFloats(int n) {
    return Math.addExact(FIRST, Math.multiplyExact(POSITIONS * n, products.sampleSize));
  }

  /** An array for {@link #tileFloats} or {@link #productFloats} {@code floats} ({@link AlignedFloats#lined}). */
  static float[] scratch(int floats) {
    return AlignedFloats.lined(floats - FIRST);
  }

  /** The kernels this layer runs: the transforms and the products' tiles (for tests). */
  List<TileWarmer.Tile> tileKernels() {
    List<TileWarmer.Tile> all = new ArrayList<>(List.of(INPUT, OUTPUT, WEIGHTS, TileWarmer.winogradInput(true),
        TileWarmer.winogradOutput(true)));
    all.addAll(pointwise.tiles());
    return all;
  }

  /**
   * The compiled code a layer of this geometry runs in a network's first forward: the weight transform, the
   * plain-Java transforms ({@link #inputRowPlain}) and the products' one-block first tile ({@link
   * BlockedConv#firstCode} of their pointwise geometry).
   */
  static List<TileWarmer.Tile> firstCode(ConvGeometry geometry) {
    List<TileWarmer.Tile> all = new ArrayList<>(List.of(TileWarmer.winogradWeights(), TileWarmer.winogradInput(true),
        TileWarmer.winogradOutput(true)));
    all.add(TileWarmer.conv(1, Math.min(geometry.outWidth() / 2, BlockedConv.FIRST_PIXELS), 0));
    return all;
  }

  /** Requests the products' one-block pointwise tiles ({@link BlockedConv#requestFirstPointwise}). */
  void requestFirstPointwise() {
    pointwise.requestFirstPointwise();
  }

  /** The multiply-adds per sample the products' one-block pointwise tiles would run (all positions'), 0 if none. */
  long firstPointwiseMacs() {
    return POSITIONS * pointwise.firstPointwiseMacs();
  }

  /**
   * Queues the vector transforms and the products' own tiles ({@link BlockedConv#requestFasterTiles}), weighed by
   * the work they take over.
   */
  void requestFasterTiles() {
    long transforms = (long) geometry.outHeight() * geometry.outWidth() * (in.blocks + out.blocks) * LANES * 4;
    TileWarmer.request(INPUT, false, transforms);
    TileWarmer.request(OUTPUT, false, transforms);
    pointwise.requestFasterTiles();
  }

  /** Work items of the input transform for a batch of {@code n}: (sample, channel block, tile row). */
  int inputItems(int n) {
    return n * in.blocks * tiles.height;
  }

  /** Work items of the products (those of each position's pointwise convolution, all positions per item). */
  int productItems(int n) {
    return pointwise.items(n);
  }

  /** Work items of the output transform for a batch of {@code n}: (sample, channel block, tile row). */
  int outputItems(int n) {
    return n * out.blocks * tiles.height;
  }

  /**
   * A batch of {@code n} samples through the three steps one after another, each split over the pool by its own
   * items (input rows, rows of the products, output rows) into the transformed input {@code v} and the products
   * {@code m} that all threads share: for a layer with fewer output-channel chunks than threads ({@link #runChunks}
   * splits by chunks). {@code steps} is the caller's, reused from call to call (no allocation).
   */
  void runBySteps(Steps steps, Parameter weight, Parameter bias, float[] x, int xOff, float[] v, float[] m, float[] y,
      int yOff, int n) {
    steps.set(this, weight, bias, x, xOff, v, m, y, yOff, n);
    try {
      steps.step = 0;
      Parallel.forChunks(inputItems(n), steps);
      steps.step = 1;
      Parallel.forChunks(productItems(n), steps);
      steps.step = 2;
      Parallel.forChunks(outputItems(n), steps);
    } finally {
      steps.set(null, null, null, null, 0, null, null, null, 0, 0);
    }
  }

  /** The work of {@link #runBySteps} handed to the pool; one per calling thread, reused. */
  static final class Steps implements Parallel.ChunkBody {
    private WinogradConv conv;
    private Parameter weight;
    private Parameter bias;
    private float[] x;
    private int xOff;
    private float[] v;
    private float[] m;
    private float[] y;
    private int yOff;
    private int n;
    /** 0: input transform, 1: products, 2: output transform. */
    private int step;

    private void set(WinogradConv conv, Parameter weight, Parameter bias, float[] x, int xOff, float[] v, float[] m,
        float[] y, int yOff, int n) {
      this.conv = conv;
      this.weight = weight;
      this.bias = bias;
      this.x = x;
      this.xOff = xOff;
      this.v = v;
      this.m = m;
      this.y = y;
      this.yOff = yOff;
      this.n = n;
    }

    @Override
    public void run(int chunk, int start, int end) {
      if (step == 0) {
        conv.inputTransform(x, xOff, v, n, start, end);
      } else if (step == 1) {
        conv.products(weight, v, m, n, start, end);
      } else {
        conv.outputTransform(m, bias, y, yOff, n, start, end);
      }
    }
  }

  /** The products' output-channel chunks (see {@link #runChunks}). */
  int chunks() {
    return firstBlocks.length - 1;
  }

  /** The chunk that computes output block {@code block}. */
  int chunkOf(int block) {
    int c = 0;
    while (firstBlocks[c + 1] <= block) {
      c++;
    }
    return c;
  }

  /**
   * Piece {@code j} of a layer split into {@code pieces} even shares of its chunks, one per thread: {@link #runChunks}
   * of that share, with the transformed input {@code v} of the piece's own. A network's layer and a lone one split
   * this way where there are at least as many chunks as threads (else {@link #runBySteps}).
   */
  void runPiece(Parameter weight, Parameter bias, float[] x, int xOff, float[] v, float[] m, float[] y, int yOff,
      int n, int j, int pieces) {
    int chunks = chunks();
    runChunks(weight, bias, x, xOff, v, m, y, yOff, n, chunks * j / pieces, chunks * (j + 1) / pieces);
  }

  /**
   * Chunks {@code [c0, c1)} of the whole convolution of a batch of {@code n}, self-contained, a group of samples at
   * a time ({@link #groupSamples}; {@code v} and {@code m} hold one group): the group's whole input transform into
   * {@code v} (this caller's own), those chunks' products and their output blocks' transform. Split
   * this way over threads, a layer is one section with no step waiting for another thread's, and each thread
   * reads only what it wrote within the layer; the input transform, a few percent of the layer, is done by every
   * thread. With three sections per layer instead, RepVGG-A0 at N=1 on two threads ran at 0.86-0.95x of ONNX
   * Runtime's speed against 1.02-1.52x this way (AMD EPYC Zen 4, alternating in one process, in phases where the
   * two processors shared no level-3 cache).
   */
  void runChunks(Parameter weight, Parameter bias, float[] x, int xOff, float[] v, float[] m, float[] y, int yOff,
      int n, int c0, int c1) {
    int g = groupSamples(n);
    for (int s = 0; s < n; s += g) {
      int count = Math.min(g, n - s);
      runChunksOfGroup(weight, bias, x, xOff + s * in.sampleSize, v, m, y, yOff + s * out.sampleSize, count, c0, c1);
    }
  }

  /** {@link #runChunks} for one group of {@code n} samples ({@link #groupSamples}). */
  private void runChunksOfGroup(Parameter weight, Parameter bias, float[] x, int xOff, float[] v, float[] m,
      float[] y, int yOff, int n, int c0, int c1) {
    inputTransform(x, xOff, v, n, 0, inputItems(n));
    int perChunk = n * tiles.height;
    products(weight, v, m, n, c0 * perChunk, c1 * perChunk);
    int th = tiles.height;
    for (int s = 0; s < n; s++) {
      int first = s * out.blocks;
      outputTransform(m, bias, y, yOff, n, (first + firstBlocks[c0]) * th, (first + firstBlocks[c1]) * th);
    }
  }

  /** The whole convolution of a batch of {@code n} on the calling thread: {@link #runChunks} of all the chunks. */
  void run(Parameter weight, Parameter bias, float[] x, int xOff, float[] v, float[] m, float[] y, int yOff, int n) {
    runChunks(weight, bias, x, xOff, v, m, y, yOff, n, 0, chunks());
  }

  /**
   * The most floats of transformed input and products together that one group of a batch's samples takes
   * ({@code kiln.blocked.winogradGroupFloats}, default 2 Mi floats, 8 MB): a batch goes through a layer's three
   * steps a group at a time ({@link #groupSamples}), so the scratch is one group's. Whole, RepVGG-A0's 48->48 56x56
   * layer at N=8 took 38 MB of scratch, which its first forward spent 23 ms allocating (fresh memory), and each
   * step read the last one's output back from main memory. Read once; tests set the field. Same bits whatever the
   * grouping.
   */
  static volatile long groupFloats = Math.max(1, Long.getLong("kiln.blocked.winogradGroupFloats", 2L << 20));

  /** Samples per group of a batch of {@code n}: as many as fit in {@link #groupFloats}, at least one. */
  int groupSamples(int n) {
    return (int) Math.max(1, Math.min(n, groupFloats / scratchPerSample()));
  }

  /** The floats of one sample's transformed input and products. */
  long scratchPerSample() {
    return (long) POSITIONS * (tiles.sampleSize + products.sampleSize);
  }

  /**
   * Items {@code [from, to)} of the input transform: {@code B^T d B} of each 4x4 patch (rows {@code 2i-1..2i+2},
   * columns {@code 2j-1..2j+2} of the input, the halo being the zero padding) into {@code v}: position
   * {@code p}'s maps at {@code v[FIRST + p * n * tiles.sampleSize..]}.
   */
  void inputTransform(float[] x, int xOff, float[] v, int n, int from, int to) {
    boolean vector = !firstCodeOnly && INPUT.hot();
    int th = tiles.height;
    int tw = tiles.width;
    int region = n * tiles.sampleSize;
    for (int item = from; item < to; item++) {
      int ty = item % th;
      int rest = item / th;
      int cb = rest % in.blocks;
      int s = rest / in.blocks;
      int p = xOff + s * in.sampleSize + cb * in.blockStride + in.pixel(2 * ty - 1, -1);
      int q = FIRST + s * tiles.sampleSize + cb * tiles.blockStride + tiles.pixel(ty, 0);
      if (vector) {
        inputRow(x, p, in.rowStride, in.pixelStride, v, q, region, tw);
      } else {
        inputRowPlain(x, p, in.rowStride, in.pixelStride, v, q, region, tw);
      }
    }
  }

  /**
   * {@code B^T d B} of {@code count} patches of one channel block, side by side: the first one's top-left input
   * vector at {@code x[p]} (rows {@code rs}, pixels {@code ps} floats apart), its 16 transformed vectors at
   * {@code v[q + k * region]} for positions {@code k}, the next patch two pixels and one vector on.
   *
   * <p>In two methods, each over the whole row of patches ({@link #inputRowUpper}: positions 0-11 from input rows
   * 0-2; {@link #inputRowLower}: positions 12-15 from rows 1 and 3, row 1 loaded again), each small enough that
   * JDK 17's C2 compiles all of its vector operations to vector instructions. As one method (16 stores, about 60
   * vector operations) it did in some JVMs and not in others: after a direct-engine 16->32 14x14 layer had run
   * first, C2's inlining log showed the last vector operations dispatched through type profiles and the last four
   * stores "failed to inline (intrinsic)", so they ran the Vector API's Java fallback (`perf`: its store lambdas
   * under this method), and a lone 48->48 56x56 layer ran at 0.67-0.77x ONNX Runtime's speed for the whole
   * `LayerSuite` case against 1.10-1.18x in a JVM that ran it first. The same additions in the same order (the same
   * bits).
   */
  static void inputRow(float[] x, int p, int rs, int ps, float[] v, int q, int region, int count) {
    inputRowUpper(x, p, rs, ps, v, q, region, count);
    inputRowLower(x, p, rs, ps, v, q, region, count);
  }

  /**
   * Positions 0-11 of {@link #inputRow}: rows first, r_i = d_i B (d_i0 - d_i2, d_i1 + d_i2, d_i2 - d_i1, d_i1 -
   * d_i3) for input rows 0-2, then B^T's first three rows (r_0 - r_2, r_1 + r_2, r_2 - r_1).
   */
  static void inputRowUpper(float[] x, int p, int rs, int ps, float[] v, int q, int region, int count) {
    for (int t = 0; t < count; t++, p += 2 * ps, q += LANES) {
      int o = p;
      FloatVector a = FloatVector.fromArray(S, x, o);
      FloatVector b = FloatVector.fromArray(S, x, o + ps);
      FloatVector c = FloatVector.fromArray(S, x, o + 2 * ps);
      FloatVector d = FloatVector.fromArray(S, x, o + 3 * ps);
      FloatVector r00 = a.sub(c);
      FloatVector r01 = b.add(c);
      FloatVector r02 = c.sub(b);
      FloatVector r03 = b.sub(d);
      o += rs;
      a = FloatVector.fromArray(S, x, o);
      b = FloatVector.fromArray(S, x, o + ps);
      c = FloatVector.fromArray(S, x, o + 2 * ps);
      d = FloatVector.fromArray(S, x, o + 3 * ps);
      FloatVector r10 = a.sub(c);
      FloatVector r11 = b.add(c);
      FloatVector r12 = c.sub(b);
      FloatVector r13 = b.sub(d);
      o += rs;
      a = FloatVector.fromArray(S, x, o);
      b = FloatVector.fromArray(S, x, o + ps);
      c = FloatVector.fromArray(S, x, o + 2 * ps);
      d = FloatVector.fromArray(S, x, o + 3 * ps);
      FloatVector r20 = a.sub(c);
      FloatVector r21 = b.add(c);
      FloatVector r22 = c.sub(b);
      FloatVector r23 = b.sub(d);
      r00.sub(r20).intoArray(v, q);
      r01.sub(r21).intoArray(v, q + region);
      r02.sub(r22).intoArray(v, q + 2 * region);
      r03.sub(r23).intoArray(v, q + 3 * region);
      r10.add(r20).intoArray(v, q + 4 * region);
      r11.add(r21).intoArray(v, q + 5 * region);
      r12.add(r22).intoArray(v, q + 6 * region);
      r13.add(r23).intoArray(v, q + 7 * region);
      r20.sub(r10).intoArray(v, q + 8 * region);
      r21.sub(r11).intoArray(v, q + 9 * region);
      r22.sub(r12).intoArray(v, q + 10 * region);
      r23.sub(r13).intoArray(v, q + 11 * region);
    }
  }

  /** Positions 12-15 of {@link #inputRow}: B^T's last row, r_1 - r_3, for input rows 1 and 3. */
  static void inputRowLower(float[] x, int p, int rs, int ps, float[] v, int q, int region, int count) {
    for (int t = 0; t < count; t++, p += 2 * ps, q += LANES) {
      int o = p + rs;
      FloatVector a = FloatVector.fromArray(S, x, o);
      FloatVector b = FloatVector.fromArray(S, x, o + ps);
      FloatVector c = FloatVector.fromArray(S, x, o + 2 * ps);
      FloatVector d = FloatVector.fromArray(S, x, o + 3 * ps);
      FloatVector r10 = a.sub(c);
      FloatVector r11 = b.add(c);
      FloatVector r12 = c.sub(b);
      FloatVector r13 = b.sub(d);
      o += 2 * rs;
      a = FloatVector.fromArray(S, x, o);
      b = FloatVector.fromArray(S, x, o + ps);
      c = FloatVector.fromArray(S, x, o + 2 * ps);
      d = FloatVector.fromArray(S, x, o + 3 * ps);
      r10.sub(a.sub(c)).intoArray(v, q + 12 * region);
      r11.sub(b.add(c)).intoArray(v, q + 13 * region);
      r12.sub(c.sub(b)).intoArray(v, q + 14 * region);
      r13.sub(b.sub(d)).intoArray(v, q + 15 * region);
    }
  }

  /**
   * {@link #inputRow} in plain Java, lane by lane: the same additions in the same order, so the same bits. A
   * network's first forward runs it until the vector code is compiled (a Vector API method runs a hundred times
   * slower before that; plain Java, compiled early by {@link TileWarmer}, a few times).
   */
  static void inputRowPlain(float[] x, int p, int rs, int ps, float[] v, int q, int region, int count) {
    for (int t = 0; t < count; t++, p += 2 * ps, q += LANES) {
      for (int l = 0; l < LANES; l++) {
        int o = p + l;
        float a = x[o];
        float b = x[o + ps];
        float c = x[o + 2 * ps];
        float d = x[o + 3 * ps];
        float r00 = a - c;
        float r01 = b + c;
        float r02 = c - b;
        float r03 = b - d;
        o += rs;
        a = x[o];
        b = x[o + ps];
        c = x[o + 2 * ps];
        d = x[o + 3 * ps];
        float r10 = a - c;
        float r11 = b + c;
        float r12 = c - b;
        float r13 = b - d;
        o += rs;
        a = x[o];
        b = x[o + ps];
        c = x[o + 2 * ps];
        d = x[o + 3 * ps];
        float r20 = a - c;
        float r21 = b + c;
        float r22 = c - b;
        float r23 = b - d;
        int u = q + l;
        v[u] = r00 - r20;
        v[u + region] = r01 - r21;
        v[u + 2 * region] = r02 - r22;
        v[u + 3 * region] = r03 - r23;
        v[u + 4 * region] = r10 + r20;
        v[u + 5 * region] = r11 + r21;
        v[u + 6 * region] = r12 + r22;
        v[u + 7 * region] = r13 + r23;
        v[u + 8 * region] = r20 - r10;
        v[u + 9 * region] = r21 - r11;
        v[u + 10 * region] = r22 - r12;
        v[u + 11 * region] = r23 - r13;
        o += rs;
        a = x[o];
        b = x[o + ps];
        c = x[o + 2 * ps];
        d = x[o + 3 * ps];
        v[u + 12 * region] = r10 - (a - c);
        v[u + 13 * region] = r11 - (b + c);
        v[u + 14 * region] = r12 - (c - b);
        v[u + 15 * region] = r13 - (b - d);
      }
    }
  }

  /** {@link #outputRow} in plain Java, lane by lane: the same operations in the same order (see {@link #inputRowPlain}). */
  static void outputRowPlain(float[] m, int q, int region, float[] b, int bo, int channels, float lo, float hi,
      float[] y, int o, int rs, int ps, int count) {
    for (int t = 0; t < count; t++, q += LANES, o += 2 * ps) {
      for (int l = 0; l < LANES; l++) {
        float bias = b != null && bo + l < channels ? b[bo + l] : 0f;
        int u = q + l;
        float m4 = m[u + 4 * region];
        float m5 = m[u + 5 * region];
        float m6 = m[u + 6 * region];
        float m7 = m[u + 7 * region];
        float m8 = m[u + 8 * region];
        float m9 = m[u + 9 * region];
        float m10 = m[u + 10 * region];
        float m11 = m[u + 11 * region];
        float s00 = m[u] + m4 + m8;
        float s01 = m[u + region] + m5 + m9;
        float s02 = m[u + 2 * region] + m6 + m10;
        float s03 = m[u + 3 * region] + m7 + m11;
        float s10 = m4 - m8 - m[u + 12 * region];
        float s11 = m5 - m9 - m[u + 13 * region];
        float s12 = m6 - m10 - m[u + 14 * region];
        float s13 = m7 - m11 - m[u + 15 * region];
        int e = o + l;
        y[e] = Math.min(Math.max(s00 + s01 + s02 + bias, lo), hi);
        y[e + ps] = Math.min(Math.max(s01 - s02 - s03 + bias, lo), hi);
        y[e + rs] = Math.min(Math.max(s10 + s11 + s12 + bias, lo), hi);
        y[e + rs + ps] = Math.min(Math.max(s11 - s12 - s13 + bias, lo), hi);
      }
    }
  }

  /**
   * Items {@code [from, to)} of every position's pointwise convolution ({@link BlockedConv#items}, chunk-major):
   * {@code m} at position {@code p} = the transformed weights at {@code p} times {@code v} at {@code p}.
   */
  void products(Parameter weight, float[] v, float[] m, int n, int from, int to) {
    BlockedConv.Packed[] packed = transformed(weight).packed;
    int vr = n * tiles.sampleSize;
    int mr = n * products.sampleSize;
    for (int p = 0; p < POSITIONS; p++) {
      pointwise.run(packed[p], v, FIRST + p * vr, m, FIRST + p * mr, n, 1, from, to);
    }
  }

  /**
   * Items {@code [from, to)} of the output transform: each tile's 2x2 outputs {@code A^T m A} plus the bias,
   * clamped, into the interior of the output layout at {@code y[yOff..]}.
   */
  void outputTransform(float[] m, Parameter bias, float[] y, int yOff, int n, int from, int to) {
    boolean vector = !firstCodeOnly && OUTPUT.hot();
    float[] b = bias == null ? null : bias.data().data();
    int th = tiles.height;
    int tw = tiles.width;
    int region = n * products.sampleSize;
    int oc = geometry.outChannels();
    for (int item = from; item < to; item++) {
      int ty = item % th;
      int rest = item / th;
      int cb = rest % out.blocks;
      int s = rest / out.blocks;
      int q = FIRST + s * products.sampleSize + cb * products.blockStride + products.pixel(ty, 0);
      int o = yOff + s * out.sampleSize + cb * out.blockStride + out.pixel(2 * ty, 0);
      if (vector) {
        outputRow(m, q, region, b, cb * LANES, oc, lo, hi, y, o, out.rowStride, out.pixelStride, tw);
      } else {
        outputRowPlain(m, q, region, b, cb * LANES, oc, lo, hi, y, o, out.rowStride, out.pixelStride, tw);
      }
    }
  }

  /**
   * {@code A^T m A} of {@code count} tiles of one channel block, side by side: the first one's 16 products at
   * {@code m[q + k * region]}, plus the bias {@code b[bo..]} (its first {@code channels - bo} lanes; none if
   * {@code b} is null), clamped to {@code [lo, hi]}, its 2x2 outputs at {@code y[o]} (rows {@code rs}, pixels
   * {@code ps} floats apart), the next tile one vector and two pixels on. In two methods, one per output row, each
   * over the whole row of tiles, for the reason {@link #inputRow} gives (products 4-11 loaded by both).
   */
  static void outputRow(float[] m, int q, int region, float[] b, int bo, int channels, float lo, float hi, float[] y,
      int o, int rs, int ps, int count) {
    if (count <= 0) {
      return;
    }
    outputRowUpper(m, q, region, b, bo, channels, lo, hi, y, o, ps, count);
    outputRowLower(m, q, region, b, bo, channels, lo, hi, y, o + rs, ps, count);
  }

  /** The bias vector of {@link #outputRow}: {@code b[bo..]}'s first {@code channels - bo} lanes, zero if null. */
  private static FloatVector bias(float[] b, int bo, int channels) {
    return b == null ? FloatVector.zero(S) : FloatVector.fromArray(S, b, bo, S.indexInRange(bo, channels));
  }

  /**
   * Output row 0 of {@link #outputRow}: s_0 = m_0 + m_1 + m_2 over each position row (products 0-11), then
   * s_00 + s_01 + s_02 and s_01 - s_02 - s_03.
   */
  static void outputRowUpper(float[] m, int q, int region, float[] b, int bo, int channels, float lo, float hi,
      float[] y, int o, int ps, int count) {
    FloatVector bias = bias(b, bo, channels);
    for (int t = 0; t < count; t++, q += LANES, o += 2 * ps) {
      FloatVector m0 = FloatVector.fromArray(S, m, q);
      FloatVector m1 = FloatVector.fromArray(S, m, q + region);
      FloatVector m2 = FloatVector.fromArray(S, m, q + 2 * region);
      FloatVector m3 = FloatVector.fromArray(S, m, q + 3 * region);
      FloatVector m4 = FloatVector.fromArray(S, m, q + 4 * region);
      FloatVector m5 = FloatVector.fromArray(S, m, q + 5 * region);
      FloatVector m6 = FloatVector.fromArray(S, m, q + 6 * region);
      FloatVector m7 = FloatVector.fromArray(S, m, q + 7 * region);
      FloatVector m8 = FloatVector.fromArray(S, m, q + 8 * region);
      FloatVector m9 = FloatVector.fromArray(S, m, q + 9 * region);
      FloatVector m10 = FloatVector.fromArray(S, m, q + 10 * region);
      FloatVector m11 = FloatVector.fromArray(S, m, q + 11 * region);
      FloatVector s00 = m0.add(m4).add(m8);
      FloatVector s01 = m1.add(m5).add(m9);
      FloatVector s02 = m2.add(m6).add(m10);
      FloatVector s03 = m3.add(m7).add(m11);
      s00.add(s01).add(s02).add(bias).max(lo).min(hi).intoArray(y, o);
      s01.sub(s02).sub(s03).add(bias).max(lo).min(hi).intoArray(y, o + ps);
    }
  }

  /**
   * Output row 1 of {@link #outputRow}: s_1 = m_1 - m_2 - m_3 over each position row (products 4-15), then
   * s_10 + s_11 + s_12 and s_11 - s_12 - s_13.
   */
  static void outputRowLower(float[] m, int q, int region, float[] b, int bo, int channels, float lo, float hi,
      float[] y, int o, int ps, int count) {
    FloatVector bias = bias(b, bo, channels);
    for (int t = 0; t < count; t++, q += LANES, o += 2 * ps) {
      FloatVector m4 = FloatVector.fromArray(S, m, q + 4 * region);
      FloatVector m5 = FloatVector.fromArray(S, m, q + 5 * region);
      FloatVector m6 = FloatVector.fromArray(S, m, q + 6 * region);
      FloatVector m7 = FloatVector.fromArray(S, m, q + 7 * region);
      FloatVector m8 = FloatVector.fromArray(S, m, q + 8 * region);
      FloatVector m9 = FloatVector.fromArray(S, m, q + 9 * region);
      FloatVector m10 = FloatVector.fromArray(S, m, q + 10 * region);
      FloatVector m11 = FloatVector.fromArray(S, m, q + 11 * region);
      FloatVector m12 = FloatVector.fromArray(S, m, q + 12 * region);
      FloatVector m13 = FloatVector.fromArray(S, m, q + 13 * region);
      FloatVector m14 = FloatVector.fromArray(S, m, q + 14 * region);
      FloatVector m15 = FloatVector.fromArray(S, m, q + 15 * region);
      FloatVector s10 = m4.sub(m8).sub(m12);
      FloatVector s11 = m5.sub(m9).sub(m13);
      FloatVector s12 = m6.sub(m10).sub(m14);
      FloatVector s13 = m7.sub(m11).sub(m15);
      s10.add(s11).add(s12).add(bias).max(lo).min(hi).intoArray(y, o);
      s11.sub(s12).sub(s13).add(bias).max(lo).min(hi).intoArray(y, o + ps);
    }
  }

  /**
   * Computes the transformed weights of {@code weight}'s current values ahead of the layer's run, if the
   * transform's compiled code is hot (otherwise the run transforms them, waiting for that code): a network's first
   * forward has the tile warmer's thread do it while the forward runs the layers before ({@link
   * BlockedNetwork#forward}).
   */
  void prepareWeights(Parameter weight) {
    if (WEIGHTS.hot()) {
      transformed(weight);
    }
  }

  /** Whether the transformed weights of {@code weight}'s current values are computed (for tests). */
  boolean weightsPrepared(Parameter weight) {
    Transformed t = transformed;
    return t != null && t.isFor(weight, weight.version());
  }

  /** The transformed weights for the current weight values, computed once per version. */
  private Transformed transformed(Parameter weight) {
    long version = weight.version();
    Transformed t = transformed;
    if (t != null && t.isFor(weight, version)) {
      return t;
    }
    synchronized (this) {
      t = transformed;
      if (t != null && t.isFor(weight, version)) {
        return t;
      }
      WEIGHTS.awaitHot();
      int oc = geometry.outChannels();
      int[] columns = new int[oc];
      int[] strides = new int[oc];
      for (int o = 0; o < oc; o++) {
        columns[o] = pointwise.packedColumn(o);
        strides[o] = pointwise.packedStride(o);
      }
      int size = pointwise.weightFloats();
      if (home == null) {
        home = AlignedFloats.share(weightFloats());
      }
      float[] all = home.array();
      int base = home.base();
      transform(weight.data().data(), oc, geometry.inChannels(), all, base, size, columns, strides);
      BlockedConv.Packed[] packed = new BlockedConv.Packed[POSITIONS];
      for (int p = 0; p < POSITIONS; p++) {
        packed[p] = pointwise.packedAt(all, base + p * size);
      }
      t = new Transformed(weight, version, packed);
      transformed = t;
      return t;
    }
  }

  /** The floats of the transformed weights: {@link #POSITIONS} products' packed weights, each whole lines. */
  int weightFloats() {
    return Math.multiplyExact(POSITIONS, pointwise.weightFloats());
  }

  /**
   * Transforms the weights into {@link #weightFloats} floats of {@code home} from now on (every version, in place,
   * as {@link BlockedConv#placeWeights}).
   */
  void placeWeights(AlignedFloats.Share home) {
    Objects.checkFromIndexSize(home.base(), weightFloats(), home.array().length);
    synchronized (this) {
      this.home = home;
      transformed = null;
    }
  }

  /** Where the transformed weights go ({@link #placeWeights}; null before a first transform without it). */
  synchronized AlignedFloats.Share weightHome() {
    return home;
  }

  /**
   * {@code G g G^T} of every 3x3 kernel {@code g} of weights {@code [out, in, 3, 3]} ({@link WinogradKernels}):
   * position {@code p}'s weight of output channel {@code o} and input channel {@code c} at
   * {@code u[base + p * size + columns[o] + c * strides[o]]}.
   */
  static void transform(float[] w, int outChannels, int inChannels, float[] u, int base, int size, int[] columns,
      int[] strides) {
    float[] k16 = new float[POSITIONS];
    for (int o = 0; o < outChannels; o++) {
      int column = base + columns[o];
      int stride = strides[o];
      for (int c = 0; c < inChannels; c++) {
        WinogradKernels.transform(w, 9 * (o * inChannels + c), k16);
        int q = column + c * stride;
        for (int p = 0; p < POSITIONS; p++) {
          u[p * size + q] = k16[p];
        }
      }
    }
  }
}
