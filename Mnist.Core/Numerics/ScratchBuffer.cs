using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mnist.Core.Numerics;

/// <summary>
/// Growable, 64-byte-aligned float scratch memory for packing, one set per thread, reused across calls so the
/// kernels allocate nothing in steady state. Backed by a pinned-heap array, so the pointer stays valid while held.
/// </summary>
internal sealed unsafe class ScratchBuffer
{
    [ThreadStatic] private static ScratchBuffer? t_packB;
    [ThreadStatic] private static ScratchBuffer? t_packA;
    [ThreadStatic] private static ScratchBuffer? t_shared;

    /// <summary>This thread's buffer for packed B panels.</summary>
    public static ScratchBuffer PackB => t_packB ??= new ScratchBuffer();

    /// <summary>This thread's buffer for packed A panels.</summary>
    public static ScratchBuffer PackA => t_packA ??= new ScratchBuffer();

    /// <summary>This thread's buffer for data a calling thread prepares and its helpers read (e.g. a transposed B).</summary>
    public static ScratchBuffer Shared => t_shared ??= new ScratchBuffer();

    private float[]? _array;
    private float* _aligned;
    private long _capacity;

    /// <summary>At least <paramref name="count"/> floats, 64-byte aligned; contents are unspecified.</summary>
    public float* Get(long count)
    {
        if (count > _capacity)
        {
            // Grow geometrically so a sequence of slightly larger requests does not reallocate every time.
            long capacity = Math.Max(count, Math.Min(_capacity * 2, Array.MaxLength - 16L));
            _array = GC.AllocateUninitializedArray<float>(checked((int)(capacity + 16)), pinned: true);
            nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
            _aligned = (float*)((address + 63) & ~(nint)63);
            _capacity = capacity;
        }
        return _aligned;
    }
}
