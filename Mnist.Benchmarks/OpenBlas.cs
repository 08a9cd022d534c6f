using System.Runtime.InteropServices;

namespace Mnist.Benchmarks;

/// <summary>
/// Optional comparison against Debian's OpenBLAS (package libopenblas0 / libopenblas0-pthread), loaded at run
/// time when present. The project never needs it. Its kernel choice follows OPENBLAS_CORETYPE (for example
/// Haswell = AVX2, COOPERLAKE/SKYLAKEX = AVX-512), read when the library loads.
/// </summary>
internal sealed unsafe class OpenBlas
{
    private const string LibraryPath = "/usr/lib/x86_64-linux-gnu/libopenblas.so.0";
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private readonly delegate* unmanaged<int, void> _setThreads;
    private readonly delegate* unmanaged<sbyte*> _coreName;

    private OpenBlas(nint handle)
    {
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)
            NativeLibrary.GetExport(handle, "cblas_sgemm");
        _setThreads = NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out nint st) ? (delegate* unmanaged<int, void>)st : null;
        _coreName = NativeLibrary.TryGetExport(handle, "openblas_get_corename", out nint cn) ? (delegate* unmanaged<sbyte*>)cn : null;
    }

    /// <summary>The library, or null when it is not installed.</summary>
    public static OpenBlas? TryLoad() =>
        NativeLibrary.TryLoad(LibraryPath, out nint handle) && NativeLibrary.TryGetExport(handle, "cblas_sgemm", out _)
            ? new OpenBlas(handle) : null;

    public string CoreName => _coreName == null ? "?" : new string(_coreName());

    public void SetThreads(int threads)
    {
        if (_setThreads != null) _setThreads(threads);
    }

    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc)
    {
        fixed (float* pa = a, pb = b, pc = c)
            _sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }
}
