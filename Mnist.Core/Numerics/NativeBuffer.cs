using System.Buffers;
using System.Runtime.InteropServices;

namespace Mnist.Core.Numerics;

/// <summary>
/// A large float scratch buffer outside the managed heap, 64-byte aligned, freed at <see cref="IDisposable.Dispose"/>
/// (no finalizer: a finalizer could free it under a live span; an undisposed buffer leaks).
/// </summary>
/// <remarks>
/// For a fit's big working memory (kernel-svm's kernel matrix): a managed array that size would stay on the
/// large-object heap after the fit until the next full collection, which a heap grown by that very array puts
/// off, so the next trainer's peak would stack on top of it. Freed here, the pages go back to the operating
/// system when the fit ends. Contents start unspecified.
/// </remarks>
internal sealed unsafe class NativeBuffer : MemoryManager<float>
{
    private float* _pointer;
    private readonly int _length;

    public NativeBuffer(long length)
    {
        if (length is < 0 or > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(length), length, "A buffer holds at most int.MaxValue floats.");
        _length = (int)length;
        _pointer = (float*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, length) * sizeof(float), 64);
    }

    public int Length => _length;

    public override Span<float> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_pointer is null, this);
        return new Span<float>(_pointer, _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

    public override void Unpin() { }

    protected override void Dispose(bool disposing)
    {
        if (_pointer is null) return;
        NativeMemory.AlignedFree(_pointer);
        _pointer = null;
    }
}
