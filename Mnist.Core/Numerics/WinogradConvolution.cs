using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
/// Winograd convolution (Lavin and Gray, 2015) for stride-1 'same' convolutions, on 4×4 output tiles: F(4×4, 5×5) on
/// 8×8 input tiles for 5×5 kernels and F(4×4, 3×3) on 6×6 tiles for 3×3. Each 4×4 block of outputs is
/// Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A of its α×α input tile d, so a 5×5 kernel's 25 multiplies per output and channel pair
/// become 4, a 3×3's 9 become 2.25, plus the tile transforms. Summed over input channels, the element-wise products
/// are α² GEMMs (tiles × channels · channels × filters) on the GEMM micro-kernel. The 6×6 transforms use the points
/// 0, ±1, ±2, ∞; the 8×8 ones add ±1/2. Every entry of Aᵀ is a power of two and Bᵀ's are multiples of 1/4, which
/// keeps fp32 rounding within a few times the direct sum's (Mnist.Tests/Numerics/WinogradTests bounds it).
/// </summary>
/// <remarks>
/// Images go to at most <c>threads</c> threads, each image computed whole by one (the weight gradient: fixed image
/// chunks added in order), so results are bit-identical for any thread count. The weights are transformed once per
/// call. No allocation per call once the scratch has grown. The matrices, checked exactly in
/// <c>Mnist.Tests/Numerics/WinogradTests</c> (G is in <see cref="G"/>; row scalings of Bᵀ are moved into it):
/// 8×8: Bᵀ = [1 0 −21/4 0 21/4 0 −1 0; 0 1 1 −17/4 −17/4 1 1 0; 0 −1 1 17/4 −17/4 −1 1 0; 0 2 1 −10 −5 8 4 0;
/// 0 −2 1 10 −5 −8 4 0; 0 4 8 −5 −10 1 2 0; 0 −4 8 5 −10 −1 2 0; 0 −1 0 21/4 0 −21/4 0 1],
/// Aᵀ = [1 1 1 1 1 1 1 0; 0 1 −1 2 −2 1/2 −1/2 0; 0 1 1 4 4 1/4 1/4 0; 0 1 −1 8 −8 1/8 −1/8 1];
/// 6×6: Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
/// Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
/// </remarks>
internal static class WinogradConvolution
{
    /// <summary>The output tile side m, the same for both kernels.</summary>
    internal const int OutputTile = 4;

    /// <summary>The input tile side α = m + r − 1: 8 for 5×5, 6 for 3×3.</summary>
    internal static int TileSide(int kernel) => OutputTile + kernel - 1;

    /// <summary>G, row-major α × r: the filter transform of a 5×5 or 3×3 kernel.</summary>
    internal static ReadOnlySpan<double> G(int kernel) => kernel == 5
        ?
        [
            1, 0, 0, 0, 0,
            -2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9,
            -2.0 / 9, 2.0 / 9, -2.0 / 9, 2.0 / 9, -2.0 / 9,
            1.0 / 360, 1.0 / 180, 1.0 / 90, 1.0 / 45, 2.0 / 45,
            1.0 / 360, -1.0 / 180, 1.0 / 90, -1.0 / 45, 2.0 / 45,
            16.0 / 45, 8.0 / 45, 4.0 / 45, 2.0 / 45, 1.0 / 45,
            16.0 / 45, -8.0 / 45, 4.0 / 45, -2.0 / 45, 1.0 / 45,
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
        int side = TileSide(kernel);
        Sandwich(G(kernel), side, kernel, channels, filters, weights, u);
    }

    /// <summary>
    /// dW from dU, the gradient of the transformed weights: U = G g Gᵀ, so dg = Gᵀ dU G, for each channel c and
    /// filter f, with <paramref name="du"/> [p][c][f] and <paramref name="weightGradient"/> in the convolution's layout.
    /// </summary>
    internal static unsafe void TransformWeightGradient(int kernel, int channels, int filters, float* du, float* weightGradient)
    {
        int side = TileSide(kernel);
        ReadOnlySpan<double> g = G(kernel);
        Span<double> transposed = stackalloc double[kernel * side];
        for (int a = 0; a < side; a++)
            for (int k = 0; k < kernel; k++) transposed[k * side + a] = g[a * kernel + k];
        Sandwich(transposed, kernel, side, channels, filters, du, weightGradient);
    }

    /// <summary>
    /// y = M x Mᵀ for every channel c and filter f, M rows × cols (row-major): x is a cols × cols grid, element (i, j)
    /// at ((i·cols + j)·C + c)·F + f, and y a rows × rows grid, element (i, j) at ((i·rows + j)·C + c)·F + f. Eight
    /// filters at a time in double, each sum in ascending order with separate multiplies and adds, so the result is
    /// that of the plain scalar loops.
    /// </summary>
    private static unsafe void Sandwich(ReadOnlySpan<double> m, int rows, int cols, int channels, int filters, float* x, float* y)
    {
        if (filters % 8 != 0) throw new ArgumentException($"filters must be a multiple of 8, not {filters}", nameof(filters));
        nint gridStride = (nint)channels * filters;
        // Each grid element as two vectors of 4 doubles (filters f..f+3 and f+4..f+7).
        Span<Vector256<double>> xs = stackalloc Vector256<double>[2 * cols * cols];
        Span<Vector256<double>> half = stackalloc Vector256<double>[2 * rows * cols];
        for (int c = 0; c < channels; c++)
            for (int f = 0; f < filters; f += 8)
            {
                float* xcf = x + (nint)c * filters + f, ycf = y + (nint)c * filters + f;
                for (int e = 0; e < cols * cols; e++)
                    (xs[2 * e], xs[2 * e + 1]) = Vector256.Widen(Vector256.Load(xcf + e * gridStride));
                // half = M·x (rows × cols), then y = half·Mᵀ (rows × rows).
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < cols; j++)
                    {
                        Vector256<double> lo = Vector256<double>.Zero, hi = Vector256<double>.Zero;
                        for (int k = 0; k < cols; k++)
                        {
                            var mik = Vector256.Create(m[i * cols + k]);
                            lo += mik * xs[2 * (k * cols + j)];
                            hi += mik * xs[2 * (k * cols + j) + 1];
                        }
                        half[2 * (i * cols + j)] = lo;
                        half[2 * (i * cols + j) + 1] = hi;
                    }
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < rows; j++)
                    {
                        Vector256<double> lo = Vector256<double>.Zero, hi = Vector256<double>.Zero;
                        for (int k = 0; k < cols; k++)
                        {
                            var mjk = Vector256.Create(m[j * cols + k]);
                            lo += half[2 * (i * cols + k)] * mjk;
                            hi += half[2 * (i * cols + k) + 1] * mjk;
                        }
                        Vector256.Narrow(lo, hi).Store(ycf + (i * rows + j) * gridStride);
                    }
            }
    }
}

/// <summary>
/// The three line transforms of one tile size, each over vectors: α vectors read at src + k·srcStride, the results
/// stored at dst + k·dstStride. Two passes of a line transform (rows, then columns) make the 2-D one.
/// </summary>
internal unsafe interface IWinogradTile
{
    /// <summary>α, the input tile side.</summary>
    static abstract int Side { get; }

    /// <summary>t = Bᵀ·d: α vectors to α.</summary>
    static abstract void InputLine<TOps, TVec>(float* d, nint dStride, float* t, nint tStride)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct;

    /// <summary>y = Aᵀ·v: α vectors to the m = 4 outputs.</summary>
    static abstract void OutputLine<TOps, TVec>(float* v, nint vStride, float* y, nint yStride)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct;

    /// <summary>v = A·y, A = (Aᵀ)ᵀ: 4 output gradients to α, how an output block's gradient reaches the transformed products.</summary>
    static abstract void GradientLine<TOps, TVec>(float* y, nint yStride, float* v, nint vStride)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct;
}

/// <summary>F(4×4, 5×5): 8×8 tiles, points 0, ±1, ±2, ±1/2, ∞.</summary>
internal readonly unsafe struct Tile8 : IWinogradTile
{
    public static int Side => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InputLine<TOps, TVec>(float* d, nint ds, float* t, nint ts)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        TVec d0 = TOps.Load(d), d1 = TOps.Load(d + ds), d2 = TOps.Load(d + 2 * ds), d3 = TOps.Load(d + 3 * ds);
        TVec d4 = TOps.Load(d + 4 * ds), d5 = TOps.Load(d + 5 * ds), d6 = TOps.Load(d + 6 * ds), d7 = TOps.Load(d + 7 * ds);
        TVec c525 = TOps.Broadcast(5.25f), m425 = TOps.Broadcast(-4.25f), m5 = TOps.Broadcast(-5f), four = TOps.Broadcast(4f), two = TOps.Broadcast(2f);
        TOps.Store(t, TOps.MultiplyAdd(c525, TOps.Subtract(d4, d2), TOps.Subtract(d0, d6)));
        // Rows 1–6 in pairs: even part (d2, d4, d6) ± odd part (d1, d3, d5).
        TVec even = TOps.MultiplyAdd(m425, d4, TOps.Add(d2, d6)), odd = TOps.MultiplyAdd(m425, d3, TOps.Add(d1, d5));
        TOps.Store(t + ts, TOps.Add(even, odd));
        TOps.Store(t + 2 * ts, TOps.Subtract(even, odd));
        even = TOps.MultiplyAdd(m5, d4, TOps.MultiplyAdd(four, d6, d2));
        odd = TOps.Multiply(two, TOps.MultiplyAdd(m5, d3, TOps.MultiplyAdd(four, d5, d1)));
        TOps.Store(t + 3 * ts, TOps.Add(even, odd));
        TOps.Store(t + 4 * ts, TOps.Subtract(even, odd));
        even = TOps.Multiply(two, TOps.MultiplyAdd(m5, d4, TOps.MultiplyAdd(four, d2, d6)));
        odd = TOps.MultiplyAdd(m5, d3, TOps.MultiplyAdd(four, d1, d5));
        TOps.Store(t + 5 * ts, TOps.Add(even, odd));
        TOps.Store(t + 6 * ts, TOps.Subtract(even, odd));
        TOps.Store(t + 7 * ts, TOps.MultiplyAdd(c525, TOps.Subtract(d3, d5), TOps.Subtract(d7, d1)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputLine<TOps, TVec>(float* v, nint vs, float* y, nint ys)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        TVec v1 = TOps.Load(v + vs), v2 = TOps.Load(v + 2 * vs), v3 = TOps.Load(v + 3 * vs), v4 = TOps.Load(v + 4 * vs);
        TVec v5 = TOps.Load(v + 5 * vs), v6 = TOps.Load(v + 6 * vs);
        TVec plus1 = TOps.Add(v1, v2), minus1 = TOps.Subtract(v1, v2);
        TVec plus2 = TOps.Add(v3, v4), minus2 = TOps.Subtract(v3, v4);
        TVec plus3 = TOps.Add(v5, v6), minus3 = TOps.Subtract(v5, v6);
        TOps.Store(y, TOps.Add(TOps.Add(TOps.Load(v), plus1), TOps.Add(plus2, plus3)));
        TOps.Store(y + ys, TOps.MultiplyAdd(TOps.Broadcast(0.5f), minus3, TOps.MultiplyAdd(TOps.Broadcast(2f), minus2, minus1)));
        TOps.Store(y + 2 * ys, TOps.MultiplyAdd(TOps.Broadcast(0.25f), plus3, TOps.MultiplyAdd(TOps.Broadcast(4f), plus2, plus1)));
        TOps.Store(y + 3 * ys, TOps.Add(TOps.MultiplyAdd(TOps.Broadcast(0.125f), minus3, TOps.MultiplyAdd(TOps.Broadcast(8f), minus2, minus1)),
            TOps.Load(v + 7 * vs)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GradientLine<TOps, TVec>(float* y, nint ys, float* v, nint vs)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        TVec y0 = TOps.Load(y), y1 = TOps.Load(y + ys), y2 = TOps.Load(y + 2 * ys), y3 = TOps.Load(y + 3 * ys);
        TOps.Store(v, y0);
        TVec even = TOps.Add(y0, y2), odd = TOps.Add(y1, y3);
        TOps.Store(v + vs, TOps.Add(even, odd));
        TOps.Store(v + 2 * vs, TOps.Subtract(even, odd));
        even = TOps.MultiplyAdd(TOps.Broadcast(4f), y2, y0);
        odd = TOps.MultiplyAdd(TOps.Broadcast(8f), y3, TOps.Multiply(TOps.Broadcast(2f), y1));
        TOps.Store(v + 3 * vs, TOps.Add(even, odd));
        TOps.Store(v + 4 * vs, TOps.Subtract(even, odd));
        even = TOps.MultiplyAdd(TOps.Broadcast(0.25f), y2, y0);
        odd = TOps.MultiplyAdd(TOps.Broadcast(0.125f), y3, TOps.Multiply(TOps.Broadcast(0.5f), y1));
        TOps.Store(v + 5 * vs, TOps.Add(even, odd));
        TOps.Store(v + 6 * vs, TOps.Subtract(even, odd));
        TOps.Store(v + 7 * vs, y3);
    }
}

/// <summary>F(4×4, 3×3): 6×6 tiles, points 0, ±1, ±2, ∞.</summary>
internal readonly unsafe struct Tile6 : IWinogradTile
{
    public static int Side => 6;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InputLine<TOps, TVec>(float* d, nint ds, float* t, nint ts)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        TVec d0 = TOps.Load(d), d1 = TOps.Load(d + ds), d2 = TOps.Load(d + 2 * ds), d3 = TOps.Load(d + 3 * ds);
        TVec d4 = TOps.Load(d + 4 * ds), d5 = TOps.Load(d + 5 * ds);
        TVec four = TOps.Broadcast(4f), minusFour = TOps.Broadcast(-4f), minusFive = TOps.Broadcast(-5f), two = TOps.Broadcast(2f);
        TOps.Store(t, TOps.MultiplyAdd(minusFive, d2, TOps.MultiplyAdd(four, d0, d4)));
        TOps.Store(t + ts, TOps.MultiplyAdd(minusFour, TOps.Add(d1, d2), TOps.Add(d3, d4)));
        TOps.Store(t + 2 * ts, TOps.MultiplyAdd(four, TOps.Subtract(d1, d2), TOps.Subtract(d4, d3)));
        TVec odd = TOps.Multiply(two, TOps.Subtract(d1, d3)), even = TOps.Subtract(d4, d2);
        TOps.Store(t + 3 * ts, TOps.Subtract(even, odd));
        TOps.Store(t + 4 * ts, TOps.Add(even, odd));
        TOps.Store(t + 5 * ts, TOps.MultiplyAdd(minusFive, d3, TOps.MultiplyAdd(four, d1, d5)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputLine<TOps, TVec>(float* v, nint vs, float* y, nint ys)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        TVec v1 = TOps.Load(v + vs), v2 = TOps.Load(v + 2 * vs), v3 = TOps.Load(v + 3 * vs), v4 = TOps.Load(v + 4 * vs);
        TVec plus = TOps.Add(v1, v2), minus = TOps.Subtract(v1, v2);
        TVec plus2 = TOps.Add(v3, v4), minus2 = TOps.Subtract(v3, v4);
        TOps.Store(y, TOps.Add(TOps.Add(TOps.Load(v), plus), plus2));
        TOps.Store(y + ys, TOps.MultiplyAdd(TOps.Broadcast(2f), minus2, minus));
        TOps.Store(y + 2 * ys, TOps.MultiplyAdd(TOps.Broadcast(4f), plus2, plus));
        TOps.Store(y + 3 * ys, TOps.Add(TOps.MultiplyAdd(TOps.Broadcast(8f), minus2, minus), TOps.Load(v + 5 * vs)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GradientLine<TOps, TVec>(float* y, nint ys, float* v, nint vs)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        TVec y0 = TOps.Load(y), y1 = TOps.Load(y + ys), y2 = TOps.Load(y + 2 * ys), y3 = TOps.Load(y + 3 * ys);
        TVec even = TOps.Add(y0, y2), odd = TOps.Add(y1, y3);
        TVec even4 = TOps.MultiplyAdd(TOps.Broadcast(4f), y2, y0), odd8 = TOps.MultiplyAdd(TOps.Broadcast(8f), y3, TOps.Multiply(TOps.Broadcast(2f), y1));
        TOps.Store(v, y0);
        TOps.Store(v + vs, TOps.Add(even, odd));
        TOps.Store(v + 2 * vs, TOps.Subtract(even, odd));
        TOps.Store(v + 3 * vs, TOps.Add(even4, odd8));
        TOps.Store(v + 4 * vs, TOps.Subtract(even4, odd8));
        TOps.Store(v + 5 * vs, y3);
    }
}

/// <summary>One Winograd call's plan and shared inputs; one instance per calling thread is reused, so a call allocates nothing.</summary>
internal sealed unsafe class WinogradJob : ConvolutionPartsJob
{
    /// <summary>The positions of the largest tile (8×8): the per-tile line buffer is sized for it.</summary>
    private const int MaxPositions = 64;

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

    private static int Positions(in ConvolutionShape s)
    {
        int side = WinogradConvolution.TileSide(s.Kernel);
        return side * side;
    }

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
        _u = _transformed.Get((long)Positions(shape) * shape.Channels * shape.Filters);
        WinogradConvolution.TransformWeights(shape.Kernel, shape.Channels, shape.Filters, weights, _u);
        int images = Blocks.For(shape, groupImages: true).Images;
        ParallelRunner.Run(this, (batch + images - 1) / images, threads);
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

    /// <summary>One chunk's partial sums: dU (α² × C × F), then the bias gradient (F).</summary>
    private static long ChunkLength(in ConvolutionShape s) => (long)Positions(s) * s.Channels * s.Filters + s.Filters;

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
    /// as even as the row count allows, or of <see cref="Images"/> whole images when several fit (each U[p] read
    /// then serves more tiles, and the weight gradient's GEMMs sum over more tiles per call); <see cref="Padded"/> is
    /// the shape whose zero-padded image every tile reads inside.
    /// </summary>
    private readonly record struct Blocks(int TilesX, int TileRows, int RowsPerBlock, int Images, ConvolutionShape Padded)
    {
        public const int M = WinogradConvolution.OutputTile;

        public static Blocks For(in ConvolutionShape s, bool groupImages = false)
        {
            // Tiles per GEMM: up to about this many, so the transformed blocks (α² per tile) stay in L2.
            int blockTiles = WinogradConvolution.TileSide(s.Kernel) == 8 ? 32 : 48;
            int tilesX = (s.Width + M - 1) / M, tileRows = (s.Height + M - 1) / M;
            var padded = s with { OutHeight = tileRows * M, OutWidth = tilesX * M };
            int images = groupImages ? blockTiles / (tilesX * tileRows) : 0;
            if (images >= 2) return new Blocks(tilesX, tileRows, tileRows, images, padded);
            int maxRows = Math.Max(1, blockTiles / tilesX), blocks = (tileRows + maxRows - 1) / maxRows;
            return new Blocks(tilesX, tileRows, (tileRows + blocks - 1) / blocks, 1, padded);
        }

        public int ImageTiles => RowsPerBlock * TilesX;
        public int Capacity => Images * ImageTiles;

        /// <summary>
        /// Floats from one position's block to the next, for <paramref name="perTile"/> floats per tile: one cache line
        /// more than the block, so the α² positions a transform writes at once do not all fall in one L1 set (the
        /// blocks' sizes are multiples of 4 KiB for the 14×14 layers).
        /// </summary>
        public nint PositionStride(int perTile) => (nint)Capacity * perTile + 16;
        public int Tiles(int ty0) => Math.Min(RowsPerBlock, TileRows - ty0) * TilesX;
        public long PaddedLength => Convolution.PaddedLength(Padded);
    }

    /// <summary>
    /// This thread's scratch: <see cref="Blocks.Images"/> padded images, then the V block (C per tile and position),
    /// then a second block (<paramref name="second"/> per tile and position).
    /// </summary>
    private static float* Scratch(in Blocks blocks, int positions, int second, out float* v, out float* other)
    {
        long paddedLength = blocks.Images * blocks.PaddedLength;
        float* start = ImageScratch.Get(paddedLength + (long)positions * (blocks.PositionStride(blocks.Padded.Channels) + blocks.PositionStride(second)));
        v = start + paddedLength;
        other = v + (long)positions * blocks.PositionStride(blocks.Padded.Channels);
        return start;
    }

    /// <summary>V[p][t][c] = (Bᵀ d B)[p] of each tile t of the block starting at tile row <paramref name="ty0"/>, a vector of channels at a time.</summary>
    private static void TransformInput<TOps, TVec, TTile>(float* padded, in Blocks blocks, int ty0, int tiles, float* v, float* line)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
        where TTile : struct, IWinogradTile
    {
        int c = blocks.Padded.Channels, w = TOps.Width, side = TTile.Side;
        nint rowStride = (nint)blocks.Padded.PaddedWidth * c, ps = blocks.PositionStride(c);
        for (int t = 0; t < tiles; t++)
        {
            float* corner = padded + (Blocks.M * (ty0 + t / blocks.TilesX)) * rowStride + (nint)(Blocks.M * (t % blocks.TilesX)) * c;
            for (int cv = 0; cv < c; cv += w)
            {
                // Along each row i of the tile (element k at line + (i·α + k)·w), then down each column b; position (a, b) is p = α·a + b.
                for (int i = 0; i < side; i++) TTile.InputLine<TOps, TVec>(corner + cv + i * rowStride, c, line + i * side * w, w);
                float* dst = v + (nint)t * c + cv;
                for (int b = 0; b < side; b++) TTile.InputLine<TOps, TVec>(line + b * w, side * w, dst + b * ps, side * ps);
            }
        }
    }

    /// <summary>One part of the forward: <see cref="Blocks.Images"/> consecutive images (fewer in the last part).</summary>
    protected override void ForwardPart<TOps, TVec>(int part)
    {
        if (_shape.Kernel == 5) ForwardImages<TOps, TVec, Tile8>(part);
        else ForwardImages<TOps, TVec, Tile6>(part);
    }

    private void ForwardImages<TOps, TVec, TTile>(int part)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
        where TTile : struct, IWinogradTile
    {
        ref readonly ConvolutionShape s = ref _shape;
        int c = s.Channels, f = s.Filters, w = TOps.Width, mr = GemmKernels<TOps, TVec>.MR, side = TTile.Side, positions = side * side;
        const int m = Blocks.M;
        // Small images go several to a block, so each U[p] read from cache serves more tiles.
        var blocks = Blocks.For(s, groupImages: true);
        int first = part * blocks.Images, images = Math.Min(blocks.Images, _batch - first);
        float* padded = Scratch(blocks, positions, f, out float* v, out float* products); // products: [p][tile][filter]
        for (int k = 0; k < images; k++)
            Convolution.PadImage(blocks.Padded, _input + (nint)(first + k) * s.InputSize, padded + k * blocks.PaddedLength);
        // One tile's half-transformed vectors (element k at line + k·w), then one output column (m vectors).
        float* line = stackalloc float[(MaxPositions + m) * 16], column = line + positions * w;
        var overwrite = new TileScale(1f, 0f);
        int vectors = f / w, groups = (vectors + TOps.MaxTileVectors - 1) / TOps.MaxTileVectors;

        for (int ty0 = 0; ty0 < blocks.TileRows; ty0 += blocks.RowsPerBlock)
        {
            // Image k's tiles fill slots k·imageTiles onwards of the block.
            int imageTiles = blocks.Tiles(ty0), tiles = images * imageTiles;
            for (int k = 0; k < images; k++)
                TransformInput<TOps, TVec, TTile>(padded + k * blocks.PaddedLength, blocks, ty0, imageTiles, v + (nint)k * imageTiles * c, line);

            // M[p] = V[p] · U[p]: tiles × channels times channels × filters, for each of the α² positions.
            int strips = (tiles + mr - 1) / mr;
            for (int p = 0; p < positions; p++)
            {
                float* vp = v + p * blocks.PositionStride(c), mp = products + p * blocks.PositionStride(f), up = _u + (nint)p * c * f;
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
            nint ps = blocks.PositionStride(f), outRow = (nint)s.Width * f;
            for (int t = 0; t < tiles; t++)
            {
                int k = t / imageTiles, tile = t % imageTiles;
                int oy = m * (ty0 + tile / blocks.TilesX), ox = m * (tile % blocks.TilesX);
                int rows = Math.Min(m, s.Height - oy), columns = Math.Min(m, s.Width - ox);
                float* output = _output + (nint)(first + k) * s.OutputSize;
                for (int fv = 0; fv < f; fv += w)
                {
                    float* src = products + (nint)t * f + fv;
                    // Along each row a of the tile: r[a][j] = (Aᵀ·M[a][·])[j] at line + (a·m + j)·w; then down each column j.
                    for (int a = 0; a < side; a++) TTile.OutputLine<TOps, TVec>(src + a * side * ps, ps, line + a * m * w, w);
                    TVec bias = _bias != null ? TOps.Load(_bias + fv) : TOps.Zero;
                    float* dst = output + ((nint)oy * s.Width + ox) * f + fv;
                    for (int j = 0; j < columns; j++)
                    {
                        TTile.OutputLine<TOps, TVec>(line + j * w, m * w, column, w);
                        for (int i = 0; i < rows; i++) TOps.Store(dst + i * outRow + j * f, TOps.Add(TOps.Load(column + i * w), bias));
                    }
                }
            }
        }
    }

    protected override void WeightGradientChunk<TOps, TVec>(int chunk)
    {
        if (_shape.Kernel == 5) WeightGradientChunk<TOps, TVec, Tile8>(chunk);
        else WeightGradientChunk<TOps, TVec, Tile6>(chunk);
    }

    private void WeightGradientChunk<TOps, TVec, TTile>(int chunk)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
        where TTile : struct, IWinogradTile
    {
        ref readonly ConvolutionShape s = ref _shape;
        int c = s.Channels, f = s.Filters, w = TOps.Width, mr = GemmKernels<TOps, TVec>.MR, side = TTile.Side, positions = side * side;
        const int m = Blocks.M;
        long chunkLength = ChunkLength(s);
        float* du = _output + chunk * chunkLength, biasRow = du + chunkLength - f;
        new Span<float>(du, (int)chunkLength).Clear();
        var blocks = Blocks.For(s, groupImages: true);
        float* padded = Scratch(blocks, positions, f, out float* v, out float* mg); // mg: [p][tile][filter]
        float* line = stackalloc float[(MaxPositions + m) * 16], column = line + positions * w;
        var accumulate = new TileScale(1f, 1f);
        int vectors = f / w, groups = (vectors + TOps.MaxTileVectors - 1) / TOps.MaxTileVectors;
        int channelStrips = (c + mr - 1) / mr;
        nint ps = blocks.PositionStride(f), outRow = (nint)s.Width * f, rs = (nint)m * w;
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
                    TransformInput<TOps, TVec, TTile>(padded + k * blocks.PaddedLength, blocks, ty0, imageTiles, v + (nint)k * imageTiles * c, line);

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
                                TTile.GradientLine<TOps, TVec>(column, w, line + j * w, rs);
                            }
                            float* dst = mg + ((nint)k * imageTiles + t) * f + fv;
                            for (int a = 0; a < side; a++) TTile.GradientLine<TOps, TVec>(line + a * rs, w, dst + a * side * ps, ps);
                        }
                    }
                }

                // dU[p] += V[p]ᵀ · Mg[p]: channels × tiles times tiles × filters (V read transposed in place).
                for (int p = 0; p < positions; p++)
                {
                    float* vp = v + p * blocks.PositionStride(c), mp = mg + p * blocks.PositionStride(f), dup = du + (nint)p * c * f;
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
