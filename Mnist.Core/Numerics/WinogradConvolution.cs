using System.Runtime.CompilerServices;

namespace Mnist.Core.Numerics;

/// <summary>How <see cref="Convolution"/> computes a forward or input-gradient product.</summary>
internal enum ConvolutionAlgorithm
{
    /// <summary>Winograd where <see cref="WinogradConvolution.Supports"/> holds, else direct.</summary>
    Auto,
    Direct,
    Winograd,
}

/// <summary>
/// Winograd convolution (Lavin and Gray, 2015) for stride-1 'same' convolutions on 6×6 input tiles: F(2×2, 5×5) for
/// 5×5 kernels and F(4×4, 3×3) for 3×3. Each m×m block of outputs is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A of its 6×6 input tile
/// d, so a 5×5 kernel's 25 multiplies per output and channel pair become 9, a 3×3's 9 become 2.25, plus the tile
/// transforms. Summed over input channels, the element-wise products are 36 GEMMs (tiles × channels · channels ×
/// filters) on the GEMM micro-kernel. Both use the points 0, ±1, ±2, ∞, so they share Bᵀ; every entry of Aᵀ and Bᵀ
/// is a small integer and of G a fraction of 24, which keeps fp32 rounding close to the direct sum's.
/// </summary>
/// <remarks>
/// Images go to at most <c>threads</c> threads, each image computed whole by one (the weight gradient: fixed image
/// chunks added in order), so results are bit-identical for any thread count. The weights are transformed once per
/// call. No allocation per call once the scratch has grown. The matrices, checked exactly in
/// <c>Mnist.Tests/Numerics/WinogradTests</c>:
/// Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1];
/// 5×5: G = [1/4 0 0 0 0; −1/6 ×5; −1/6 1/6 −1/6 1/6 −1/6; 1/24 1/12 1/6 1/3 2/3; 1/24 −1/12 1/6 −1/3 2/3; 0 0 0 0 1],
/// Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 1];
/// 3×3: G = [1/4 0 0; −1/6 −1/6 −1/6; −1/6 1/6 −1/6; 1/24 1/12 1/6; 1/24 −1/12 1/6; 0 0 1],
/// Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
/// </remarks>
internal static class WinogradConvolution
{
    /// <summary>Input tile side (α = m + r − 1) and the positions of a transformed tile.</summary>
    internal const int TileSide = 6, Positions = TileSide * TileSide;

    /// <summary>Output tile side m for kernel side r: 2 for 5×5, 4 for 3×3.</summary>
    internal static int OutputTile(int kernel) => TileSide + 1 - kernel;

    /// <summary>G, row-major 6 × r: the filter transform of a 5×5 or 3×3 kernel.</summary>
    internal static ReadOnlySpan<double> G(int kernel) => kernel == 5
        ?
        [
            1.0 / 4, 0, 0, 0, 0,
            -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6,
            -1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6,
            1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3,
            1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3,
            0, 0, 0, 0, 1,
        ]
        :
        [
            1.0 / 4, 0, 0,
            -1.0 / 6, -1.0 / 6, -1.0 / 6,
            -1.0 / 6, 1.0 / 6, -1.0 / 6,
            1.0 / 24, 1.0 / 12, 1.0 / 6,
            1.0 / 24, -1.0 / 12, 1.0 / 6,
            0, 0, 1,
        ];

    /// <summary>
    /// 5×5 with pad 2 or 3×3 with pad 1, output the input's size, and channels and filters in whole vectors of every
    /// instruction set (16): the cnn's conv2, conv3 and conv4, whose input gradients have the same shapes. Sizes that
    /// are not whole tiles are fine: the last tiles hang over the edge, reading zeros and writing nothing there.
    /// </summary>
    public static bool Supports(in ConvolutionShape s) =>
        ((s.Kernel == 5 && s.Pad == 2) || (s.Kernel == 3 && s.Pad == 1)) && s.OutHeight == s.Height && s.OutWidth == s.Width
        && s.Channels % 16 == 0 && s.Filters % 16 == 0;

    /// <summary>
    /// U[p][c][f] = (G g Gᵀ)[p] for the kernel g of channel c to filter f, with <paramref name="weights"/> in the
    /// convolution's layout ((ky·r + kx)·C + c) × F. Summed in double, rounded once.
    /// </summary>
    internal static unsafe void TransformWeights(int kernel, int channels, int filters, float* weights, float* u)
    {
        ReadOnlySpan<double> g = G(kernel);
        int r = kernel;
        Span<double> taps = stackalloc double[r * r];
        Span<double> half = stackalloc double[TileSide * r];
        for (int c = 0; c < channels; c++)
            for (int f = 0; f < filters; f++)
            {
                for (int tap = 0; tap < r * r; tap++) taps[tap] = weights[((nint)tap * channels + c) * filters + f];
                // half = G·g (6 × r), then U = half·Gᵀ (6 × 6).
                for (int a = 0; a < TileSide; a++)
                    for (int kx = 0; kx < r; kx++)
                    {
                        double sum = 0;
                        for (int ky = 0; ky < r; ky++) sum += g[a * r + ky] * taps[ky * r + kx];
                        half[a * r + kx] = sum;
                    }
                for (int a = 0; a < TileSide; a++)
                    for (int b = 0; b < TileSide; b++)
                    {
                        double sum = 0;
                        for (int kx = 0; kx < r; kx++) sum += half[a * r + kx] * g[b * r + kx];
                        u[((nint)(a * TileSide + b) * channels + c) * filters + f] = (float)sum;
                    }
            }
    }

    /// <summary>
    /// dW from dU, the gradient of the transformed weights: U = G g Gᵀ, so dg = Gᵀ dU G, for each channel c and
    /// filter f, with <paramref name="du"/> [p][c][f] and <paramref name="weightGradient"/> in the convolution's layout.
    /// </summary>
    internal static unsafe void TransformWeightGradient(int kernel, int channels, int filters, float* du, float* weightGradient)
    {
        ReadOnlySpan<double> g = G(kernel);
        int r = kernel;
        Span<double> positions = stackalloc double[Positions];
        Span<double> half = stackalloc double[r * TileSide];
        for (int c = 0; c < channels; c++)
            for (int f = 0; f < filters; f++)
            {
                for (int p = 0; p < Positions; p++) positions[p] = du[((nint)p * channels + c) * filters + f];
                // half = Gᵀ·dU (r × 6), then dg = half·G (r × r).
                for (int ky = 0; ky < r; ky++)
                    for (int b = 0; b < TileSide; b++)
                    {
                        double sum = 0;
                        for (int a = 0; a < TileSide; a++) sum += g[a * r + ky] * positions[a * TileSide + b];
                        half[ky * TileSide + b] = sum;
                    }
                for (int ky = 0; ky < r; ky++)
                    for (int kx = 0; kx < r; kx++)
                    {
                        double sum = 0;
                        for (int b = 0; b < TileSide; b++) sum += half[ky * TileSide + b] * g[b * r + kx];
                        weightGradient[((nint)(ky * r + kx) * channels + c) * filters + f] = (float)sum;
                    }
            }
    }

    /// <summary>t = Bᵀ·d for one line of six vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void InputLine<TOps, TVec>(TVec d0, TVec d1, TVec d2, TVec d3, TVec d4, TVec d5,
        out TVec t0, out TVec t1, out TVec t2, out TVec t3, out TVec t4, out TVec t5)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        TVec four = TOps.Broadcast(4f), minusFour = TOps.Broadcast(-4f), minusFive = TOps.Broadcast(-5f), two = TOps.Broadcast(2f);
        t0 = TOps.MultiplyAdd(minusFive, d2, TOps.MultiplyAdd(four, d0, d4));
        t1 = TOps.MultiplyAdd(minusFour, TOps.Add(d1, d2), TOps.Add(d3, d4));
        t2 = TOps.MultiplyAdd(four, TOps.Subtract(d1, d2), TOps.Subtract(d4, d3));
        TVec odd = TOps.Multiply(two, TOps.Subtract(d1, d3)), even = TOps.Subtract(d4, d2);
        t3 = TOps.Subtract(even, odd);
        t4 = TOps.Add(even, odd);
        t5 = TOps.MultiplyAdd(minusFive, d3, TOps.MultiplyAdd(four, d1, d5));
    }

    /// <summary>The m vectors Aᵀ·(v0..v5) for m = 2 or 4 (the 5×5 and 3×3 transforms), stored at y + i·stride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void OutputLine<TOps, TVec>(int m, TVec v0, TVec v1, TVec v2, TVec v3, TVec v4, TVec v5, float* y, nint stride)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        TVec plus = TOps.Add(v1, v2), minus = TOps.Subtract(v1, v2);
        TVec plus2 = TOps.Add(v3, v4), minus2 = TOps.Subtract(v3, v4);
        TOps.Store(y, TOps.Add(TOps.Add(v0, plus), plus2));
        if (m == 2)
        {
            TOps.Store(y + stride, TOps.Add(TOps.MultiplyAdd(TOps.Broadcast(2f), minus2, minus), v5));
            return;
        }
        TOps.Store(y + stride, TOps.MultiplyAdd(TOps.Broadcast(2f), minus2, minus));
        TOps.Store(y + 2 * stride, TOps.MultiplyAdd(TOps.Broadcast(4f), plus2, plus));
        TOps.Store(y + 3 * stride, TOps.Add(TOps.MultiplyAdd(TOps.Broadcast(8f), minus2, minus), v5));
    }

    /// <summary>
    /// The six vectors A·(y0..y(m−1)), A = (Aᵀ)ᵀ, for m = 2 or 4, read from y + i·stride, stored at v + j·vStride: how
    /// an output block's gradient reaches the transformed products.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void GradientLine<TOps, TVec>(int m, float* y, nint stride, float* v, nint vStride)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        TVec y0 = TOps.Load(y), y1 = TOps.Load(y + stride), two = TOps.Broadcast(2f);
        if (m == 2)
        {
            TOps.Store(v, y0);
            TOps.Store(v + vStride, TOps.Add(y0, y1));
            TOps.Store(v + 2 * vStride, TOps.Subtract(y0, y1));
            TOps.Store(v + 3 * vStride, TOps.MultiplyAdd(two, y1, y0));
            TOps.Store(v + 4 * vStride, TOps.Subtract(y0, TOps.Multiply(two, y1)));
            TOps.Store(v + 5 * vStride, y1);
            return;
        }
        TVec y2 = TOps.Load(y + 2 * stride), y3 = TOps.Load(y + 3 * stride);
        TVec even = TOps.Add(y0, y2), odd = TOps.Add(y1, y3);
        TVec even4 = TOps.MultiplyAdd(TOps.Broadcast(4f), y2, y0), odd8 = TOps.MultiplyAdd(TOps.Broadcast(8f), y3, TOps.Multiply(two, y1));
        TOps.Store(v, y0);
        TOps.Store(v + vStride, TOps.Add(even, odd));
        TOps.Store(v + 2 * vStride, TOps.Subtract(even, odd));
        TOps.Store(v + 3 * vStride, TOps.Add(even4, odd8));
        TOps.Store(v + 4 * vStride, TOps.Subtract(even4, odd8));
        TOps.Store(v + 5 * vStride, y3);
    }
}

/// <summary>One Winograd call's plan and shared inputs; one instance per calling thread is reused, so a call allocates nothing.</summary>
internal sealed unsafe class WinogradJob : ConvolutionPartsJob
{
    private const int TileSide = WinogradConvolution.TileSide, Positions = WinogradConvolution.Positions;

    /// <summary>Tiles per GEMM: whole rows of tiles up to about this many, so the transformed blocks stay in L2.</summary>
    private const int BlockTiles = 48;

    [ThreadStatic] private static WinogradJob? t_job;
    [ThreadStatic] private static ScratchBuffer? t_image;

    public static WinogradJob ForCurrentThread => t_job ??= new WinogradJob();

    /// <summary>This thread's padded image, transformed input block and products (or product gradients) block.</summary>
    private static ScratchBuffer ImageScratch => t_image ??= new ScratchBuffer();

    private readonly ScratchBuffer _transformed = new();
    private readonly ScratchBuffer _flipped = new();
    private ConvolutionShape _shape;
    private float* _input, _u, _bias, _output, _outputGradient;
    private int _batch, _chunks;

    /// <summary>output = conv(input, weights) + bias (bias may be null); with <paramref name="flip"/>, as <see cref="Convolution"/>'s input gradient.</summary>
    public void Forward(GemmIsa isa, in ConvolutionShape shape, float* input, int batch, float* weights, bool flip, float* bias, float* output, int threads)
    {
        Begin(weightGradient: false, isa, shape, input, batch);
        _bias = bias;
        _output = output;
        if (flip)
        {
            float* flipped = _flipped.Get((long)shape.Taps * shape.Filters);
            Convolution.PackFlipped(shape, weights, flipped, shape.Filters);
            weights = flipped;
        }
        _u = _transformed.Get((long)Positions * shape.Channels * shape.Filters);
        WinogradConvolution.TransformWeights(shape.Kernel, shape.Channels, shape.Filters, weights, _u);
        ParallelRunner.Run(this, batch, threads);
    }

    /// <summary>
    /// Overwrites weightGradient and biasGradient (may be null) with their sums over the batch: per image chunk the
    /// gradient of the transformed weights, dU[p] = Σ_tiles V[p]ᵀ·(A dY Aᵀ)[p], chunks added in order, then Gᵀ dU G.
    /// </summary>
    public void WeightGradient(GemmIsa isa, in ConvolutionShape shape, float* input, float* outputGradient, int batch, float* weightGradient, float* biasGradient, int threads)
    {
        Begin(weightGradient: true, isa, shape, input, batch);
        _outputGradient = outputGradient;
        _chunks = Math.Min(batch, Convolution.WeightGradientChunks);
        long chunkLength = ChunkLength(shape);
        _output = _transformed.Get(_chunks * chunkLength);
        ParallelRunner.Run(this, _chunks, threads);

        var total = AddChunksInOrder(_output, _chunks, chunkLength);
        WinogradConvolution.TransformWeightGradient(shape.Kernel, shape.Channels, shape.Filters, _output, weightGradient);
        if (biasGradient != null) total.Slice((int)(chunkLength - shape.Filters), shape.Filters).CopyTo(new Span<float>(biasGradient, shape.Filters));
    }

    /// <summary>One chunk's partial sums: dU (36 × C × F), then the bias gradient (F).</summary>
    private static long ChunkLength(in ConvolutionShape s) => (long)Positions * s.Channels * s.Filters + s.Filters;

    private void Begin(bool weightGradient, GemmIsa isa, in ConvolutionShape shape, float* input, int batch)
    {
        WeightGradientMode = weightGradient;
        Isa = isa;
        _shape = shape;
        _input = input;
        _batch = batch;
    }

    /// <summary>
    /// The tiling: m×m output tiles (the last ones may hang over the edge), in blocks of whole tile rows of one image,
    /// or of <see cref="Images"/> whole images when several fit (the weight gradient's GEMMs then sum over more tiles
    /// per call); <see cref="Padded"/> is the shape whose zero-padded image every tile reads inside.
    /// </summary>
    private readonly record struct Blocks(int M, int TilesX, int TileRows, int RowsPerBlock, int Images, ConvolutionShape Padded)
    {
        public static Blocks For(in ConvolutionShape s, bool groupImages = false)
        {
            int m = WinogradConvolution.OutputTile(s.Kernel);
            int tilesX = (s.Width + m - 1) / m, tileRows = (s.Height + m - 1) / m;
            var padded = s with { OutHeight = tileRows * m, OutWidth = tilesX * m };
            int images = groupImages ? BlockTiles / (tilesX * tileRows) : 0;
            return images >= 2
                ? new Blocks(m, tilesX, tileRows, tileRows, images, padded)
                : new Blocks(m, tilesX, tileRows, Math.Clamp(BlockTiles / tilesX, 1, tileRows), 1, padded);
        }

        public int ImageTiles => RowsPerBlock * TilesX;
        public int Capacity => Images * ImageTiles;
        public int Tiles(int ty0) => Math.Min(RowsPerBlock, TileRows - ty0) * TilesX;
        public long PaddedLength => Convolution.PaddedLength(Padded);
    }

    /// <summary>
    /// This thread's scratch: <see cref="Blocks.Images"/> padded images, then the V block (C per tile), then a second
    /// block (<paramref name="second"/> per tile).
    /// </summary>
    private static float* Scratch(in Blocks blocks, int second, out float* v, out float* other)
    {
        long paddedLength = blocks.Images * blocks.PaddedLength;
        float* start = ImageScratch.Get(paddedLength + (long)Positions * blocks.Capacity * (blocks.Padded.Channels + second));
        v = start + paddedLength;
        other = v + (long)Positions * blocks.Capacity * blocks.Padded.Channels;
        return start;
    }

    /// <summary>V[p][t][c] = (Bᵀ d B)[p] of each tile t of the block starting at tile row <paramref name="ty0"/>, a vector of channels at a time.</summary>
    private static void TransformInput<TOps, TVec>(float* padded, in Blocks blocks, int ty0, int tiles, float* v, float* line)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int c = blocks.Padded.Channels, w = TOps.Width, m = blocks.M;
        nint rowStride = (nint)blocks.Padded.PaddedWidth * c, ps = (nint)blocks.Capacity * c;
        for (int t = 0; t < tiles; t++)
        {
            float* corner = padded + (m * (ty0 + t / blocks.TilesX)) * rowStride + (nint)(m * (t % blocks.TilesX)) * c;
            for (int cv = 0; cv < c; cv += w)
            {
                // Along each row i of the tile, then down each column b; position (a, b) is p = 6a + b.
                for (int i = 0; i < TileSide; i++)
                {
                    float* row = corner + cv + i * rowStride;
                    WinogradConvolution.InputLine<TOps, TVec>(TOps.Load(row), TOps.Load(row + c), TOps.Load(row + 2 * c),
                        TOps.Load(row + 3 * c), TOps.Load(row + 4 * c), TOps.Load(row + 5 * c),
                        out TVec e0, out TVec e1, out TVec e2, out TVec e3, out TVec e4, out TVec e5);
                    float* e = line + i * 6 * w;
                    TOps.Store(e, e0);
                    TOps.Store(e + w, e1);
                    TOps.Store(e + 2 * w, e2);
                    TOps.Store(e + 3 * w, e3);
                    TOps.Store(e + 4 * w, e4);
                    TOps.Store(e + 5 * w, e5);
                }
                float* dst = v + (nint)t * c + cv;
                for (int b = 0; b < TileSide; b++)
                {
                    float* e = line + b * w;
                    WinogradConvolution.InputLine<TOps, TVec>(TOps.Load(e), TOps.Load(e + 6 * w), TOps.Load(e + 12 * w),
                        TOps.Load(e + 18 * w), TOps.Load(e + 24 * w), TOps.Load(e + 30 * w),
                        out TVec t0, out TVec t1, out TVec t2, out TVec t3, out TVec t4, out TVec t5);
                    TOps.Store(dst + b * ps, t0);
                    TOps.Store(dst + (6 + b) * ps, t1);
                    TOps.Store(dst + (12 + b) * ps, t2);
                    TOps.Store(dst + (18 + b) * ps, t3);
                    TOps.Store(dst + (24 + b) * ps, t4);
                    TOps.Store(dst + (30 + b) * ps, t5);
                }
            }
        }
    }

    protected override void ForwardImage<TOps, TVec>(int image)
    {
        ref readonly ConvolutionShape s = ref _shape;
        int c = s.Channels, f = s.Filters, w = TOps.Width, mr = GemmKernels<TOps, TVec>.MR;
        var blocks = Blocks.For(s);
        int m = blocks.M;
        float* padded = Scratch(blocks, f, out float* v, out float* products); // products: [p][tile][filter]
        Convolution.PadImage(blocks.Padded, _input + (nint)image * s.InputSize, padded);
        float* output = _output + (nint)image * s.OutputSize;
        // One tile's half-transformed vectors (element k at line + k·w), then one output column (m vectors).
        float* line = stackalloc float[(Positions + 4) * 16], column = line + Positions * w;
        var overwrite = new TileScale(1f, 0f);
        int vectors = f / w, groups = (vectors + TOps.MaxTileVectors - 1) / TOps.MaxTileVectors;

        for (int ty0 = 0; ty0 < blocks.TileRows; ty0 += blocks.RowsPerBlock)
        {
            int tiles = blocks.Tiles(ty0);
            TransformInput<TOps, TVec>(padded, blocks, ty0, tiles, v, line);

            // M[p] = V[p] · U[p]: tiles × channels times channels × filters, for each of the 36 positions.
            int strips = (tiles + mr - 1) / mr;
            for (int p = 0; p < Positions; p++)
            {
                float* vp = v + (nint)p * blocks.Capacity * c, mp = products + (nint)p * blocks.Capacity * f, up = _u + (nint)p * c * f;
                for (int group = 0; group < groups; group++)
                {
                    int v0 = vectors * group / groups, tn = vectors * (group + 1) / groups - v0, f0 = v0 * w;
                    for (int strip = 0; strip < strips; strip++)
                    {
                        int t0 = tiles * strip / strips, tm = tiles * (strip + 1) / strips - t0;
                        GemmKernels<TOps, TVec>.TileAny(tm, tn, c, vp + (nint)t0 * c, c, 1, up + f0, f,
                            mp + (nint)t0 * f + f0, f, w, overwrite);
                    }
                }
            }

            // Output transform: each tile's m×m outputs = Aᵀ M A (+ bias), a vector of filters at a time; the parts of
            // a tile past the image's edge are not written.
            nint ps = (nint)blocks.Capacity * f, outRow = (nint)s.Width * f;
            for (int t = 0; t < tiles; t++)
            {
                int oy = m * (ty0 + t / blocks.TilesX), ox = m * (t % blocks.TilesX);
                int rows = Math.Min(m, s.Height - oy), columns = Math.Min(m, s.Width - ox);
                for (int fv = 0; fv < f; fv += w)
                {
                    float* src = products + (nint)t * f + fv;
                    // Along each row a of the tile: r[a][j] = (Aᵀ·M[a][·])[j] at line + (a·m + j)·w; then down each column j.
                    for (int a = 0; a < TileSide; a++)
                    {
                        float* row = src + a * 6 * ps;
                        WinogradConvolution.OutputLine<TOps, TVec>(m, TOps.Load(row), TOps.Load(row + ps), TOps.Load(row + 2 * ps),
                            TOps.Load(row + 3 * ps), TOps.Load(row + 4 * ps), TOps.Load(row + 5 * ps), line + a * m * w, w);
                    }
                    TVec bias = _bias != null ? TOps.Load(_bias + fv) : TOps.Zero;
                    float* dst = output + ((nint)oy * s.Width + ox) * f + fv;
                    nint rs = (nint)m * w;
                    for (int j = 0; j < columns; j++)
                    {
                        float* r = line + j * w;
                        WinogradConvolution.OutputLine<TOps, TVec>(m, TOps.Load(r), TOps.Load(r + rs), TOps.Load(r + 2 * rs),
                            TOps.Load(r + 3 * rs), TOps.Load(r + 4 * rs), TOps.Load(r + 5 * rs), column, w);
                        for (int i = 0; i < rows; i++) TOps.Store(dst + i * outRow + j * f, TOps.Add(TOps.Load(column + i * w), bias));
                    }
                }
            }
        }
    }

    protected override void WeightGradientChunk<TOps, TVec>(int chunk)
    {
        ref readonly ConvolutionShape s = ref _shape;
        int c = s.Channels, f = s.Filters, w = TOps.Width, mr = GemmKernels<TOps, TVec>.MR;
        long chunkLength = ChunkLength(s);
        float* du = _output + chunk * chunkLength, biasRow = du + chunkLength - f;
        new Span<float>(du, (int)chunkLength).Clear();
        var blocks = Blocks.For(s, groupImages: true);
        int m = blocks.M;
        float* padded = Scratch(blocks, f, out float* v, out float* mg); // mg: [p][tile][filter]
        float* line = stackalloc float[(Positions + 4) * 16], column = line + Positions * w;
        var accumulate = new TileScale(1f, 1f);
        int vectors = f / w, groups = (vectors + TOps.MaxTileVectors - 1) / TOps.MaxTileVectors;
        int channelStrips = (c + mr - 1) / mr;
        nint ps = (nint)blocks.Capacity * f, outRow = (nint)s.Width * f, rs = (nint)m * w;
        int first = (int)((long)_batch * chunk / _chunks), last = (int)((long)_batch * (chunk + 1) / _chunks);
        for (int group0 = first; group0 < last; group0 += blocks.Images)
        {
            int images = Math.Min(blocks.Images, last - group0);
            for (int k = 0; k < images; k++)
            {
                float* dy = _outputGradient + (nint)(group0 + k) * s.OutputSize;
                Convolution.PadImage(blocks.Padded, _input + (nint)(group0 + k) * s.InputSize, padded + k * blocks.PaddedLength);
                ConvolutionJob.SumRows<TOps, TVec>(dy, s.OutHeight * s.OutWidth, f, f, biasRow);
            }
            for (int ty0 = 0; ty0 < blocks.TileRows; ty0 += blocks.RowsPerBlock)
            {
                int imageTiles = blocks.Tiles(ty0), tiles = images * imageTiles;
                for (int k = 0; k < images; k++)
                {
                    // Image k's tiles fill slots k·imageTiles onwards of the block.
                    TransformInput<TOps, TVec>(padded + k * blocks.PaddedLength, blocks, ty0, imageTiles, v + (nint)k * imageTiles * c, line);

                    // Mg[p][t] = (A dY Aᵀ)[p] of each tile's m×m output gradient (zero past the image's edge), a vector
                    // of filters at a time: down each column j, r[a][j] at line + (a·m + j)·w; then along each row a.
                    float* dy = _outputGradient + (nint)(group0 + k) * s.OutputSize;
                    for (int t = 0; t < imageTiles; t++)
                    {
                        int oy = m * (ty0 + t / blocks.TilesX), ox = m * (t % blocks.TilesX);
                        int rows = Math.Min(m, s.Height - oy), columns = Math.Min(m, s.Width - ox);
                        for (int fv = 0; fv < f; fv += w)
                        {
                            float* src = dy + ((nint)oy * s.Width + ox) * f + fv;
                            for (int j = 0; j < m; j++)
                            {
                                for (int i = 0; i < m; i++)
                                    TOps.Store(column + i * w, i < rows && j < columns ? TOps.Load(src + i * outRow + j * f) : TOps.Zero);
                                WinogradConvolution.GradientLine<TOps, TVec>(m, column, w, line + j * w, rs);
                            }
                            float* dst = mg + ((nint)k * imageTiles + t) * f + fv;
                            for (int a = 0; a < TileSide; a++)
                                WinogradConvolution.GradientLine<TOps, TVec>(m, line + a * rs, w, dst + a * 6 * ps, ps);
                        }
                    }
                }

                // dU[p] += V[p]ᵀ · Mg[p]: channels × tiles times tiles × filters (V read transposed in place).
                for (int p = 0; p < Positions; p++)
                {
                    float* vp = v + (nint)p * blocks.Capacity * c, mp = mg + (nint)p * blocks.Capacity * f, dup = du + (nint)p * c * f;
                    for (int group = 0; group < groups; group++)
                    {
                        int v0 = vectors * group / groups, tn = vectors * (group + 1) / groups - v0, f0 = v0 * w;
                        for (int strip = 0; strip < channelStrips; strip++)
                        {
                            int c0 = c * strip / channelStrips, tm = c * (strip + 1) / channelStrips - c0;
                            GemmKernels<TOps, TVec>.TileAny(tm, tn, tiles, vp + c0, 1, c, mp + f0, f,
                                dup + (nint)c0 * f + f0, f, w, accumulate);
                        }
                    }
                }
            }
        }
    }
}
