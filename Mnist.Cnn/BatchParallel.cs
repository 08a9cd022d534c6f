namespace Mnist.Cnn;

/// <summary>
/// Runs a body over items (samples, or blocks of positions) split between workers (<see cref="WorkSplit"/>), passing the
/// spans as pointers: a lambda cannot capture a span, and pinning once per call allocates nothing per sample.
/// Each item is processed by exactly one worker, so results do not depend on the thread count.
/// </summary>
internal static unsafe class BatchParallel
{
    public delegate void Body(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output, int start, int end);

    /// <summary>A body that also receives its worker index (0-based), for per-worker scratch buffers.</summary>
    public delegate void WorkerBody(int worker, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output, int start, int end);

    /// <summary>
    /// Calls <paramref name="body"/> on contiguous item ranges [start, end). The spans passed are the
    /// whole buffers; the body slices them with its per-item sizes.
    /// </summary>
    public static void For(int items, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output, Body body) =>
        For(items, a, b, output, (_, aa, bb, oo, start, end) => body(aa, bb, oo, start, end));

    /// <summary>As <see cref="For(int, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Body)"/>, telling the body which worker runs it.</summary>
    public static void For(int items, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output, WorkerBody body)
    {
        if (WorkSplit.Workers(items) == 1)
        {
            body(0, a, b, output, 0, items);
            return;
        }
        fixed (float* pa = a, pb = b, po = output)
        {
            nint aAddress = (nint)pa, bAddress = (nint)pb, outAddress = (nint)po;
            int aLength = a.Length, bLength = b.Length, outLength = output.Length;
            WorkSplit.Run(items, (worker, start, end) => body(worker,
                new ReadOnlySpan<float>((float*)aAddress, aLength),
                new ReadOnlySpan<float>((float*)bAddress, bLength),
                new Span<float>((float*)outAddress, outLength), start, end));
        }
    }
}
