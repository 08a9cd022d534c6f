using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Mnist.Core.Numerics;

/// <summary>
/// The handful of vector operations the compute kernels are written against, so one kernel body serves
/// AVX-512, AVX2 and plain scalar code. Implemented by empty structs: generic code instantiated over a struct
/// type argument is compiled separately per type, with these calls inlined and the constants folded.
/// </summary>
internal unsafe interface IVectorOps<TVec> where TVec : struct
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Width { get; }

    /// <summary>Most vectors per micro-tile row the register file can hold (accumulators + operands).</summary>
    static abstract int MaxTileVectors { get; }

    static abstract TVec Zero { get; }
    static abstract TVec Load(float* p);
    static abstract void Store(float* p, TVec v);
    static abstract TVec Broadcast(float x);

    /// <summary>a·b + c (fused on the SIMD implementations).</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);
    static abstract TVec Multiply(TVec a, TVec b);
    static abstract TVec Add(TVec a, TVec b);
    static abstract TVec Subtract(TVec a, TVec b);
    static abstract TVec Max(TVec a, TVec b);

    /// <summary><paramref name="value"/> where <paramref name="test"/> &gt; 0, else 0 (a ReLU's backward mask).</summary>
    static abstract TVec WherePositive(TVec test, TVec value);
    static abstract float Sum(TVec v);
}

/// <summary>AVX-512: 16 lanes, 32 registers, so a 6×4-vector tile (24 accumulators) fits.</summary>
internal readonly unsafe struct Avx512Ops : IVectorOps<Vector512<float>>
{
    public static int Width => 16;
    public static int MaxTileVectors => 4;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector512<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> WherePositive(Vector512<float> test, Vector512<float> value) => Vector512.GreaterThan(test, Vector512<float>.Zero) & value;
    /// <summary>Horizontal sum by halving (about 8 instructions; Vector512.Sum emits about 25).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> v) => Avx2Ops.Sum(v.GetLower() + v.GetUpper());
}

/// <summary>AVX2 + FMA: 8 lanes, 16 registers, so tiles are at most 6×2 vectors (12 accumulators).</summary>
internal readonly unsafe struct Avx2Ops : IVectorOps<Vector256<float>>
{
    public static int Width => 8;
    public static int MaxTileVectors => 2;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector256<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> WherePositive(Vector256<float> test, Vector256<float> value) => Vector256.GreaterThan(test, Vector256<float>.Zero) & value;
    /// <summary>Horizontal sum by halving: 8 → 4 → 2 → 1 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> v)
    {
        Vector128<float> q = v.GetLower() + v.GetUpper();
        q += Vector128.Shuffle(q, Vector128.Create(2, 3, 0, 1));
        q += Vector128.Shuffle(q, Vector128.Create(1, 0, 3, 2));
        return q.ToScalar();
    }
}

/// <summary>
/// Portable fallback: one lane. Multiply-add is deliberately unfused (a·b then +c) because a software-emulated
/// fused multiply-add would be far slower on the hardware that ends up here.
/// </summary>
internal readonly unsafe struct ScalarOps : IVectorOps<float>
{
    public static int Width => 1;
    public static int MaxTileVectors => 2;
    public static float Zero => 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(float* p) => *p;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, float v) => *p = v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Broadcast(float x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MultiplyAdd(float a, float b, float c) => a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Multiply(float a, float b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Add(float a, float b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Subtract(float a, float b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Max(float a, float b) => MathF.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float WherePositive(float test, float value) => test > 0f ? value : 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(float v) => v;
}

/// <summary>A compile-time integer for kernel shapes: <c>Kernel&lt;C4&gt;</c> is specialised with 4 folded in.</summary>
internal interface IConstant
{
    static abstract int Value { get; }
}

internal readonly struct C1 : IConstant { public static int Value => 1; }
internal readonly struct C2 : IConstant { public static int Value => 2; }
internal readonly struct C3 : IConstant { public static int Value => 3; }
internal readonly struct C4 : IConstant { public static int Value => 4; }
internal readonly struct C5 : IConstant { public static int Value => 5; }
internal readonly struct C6 : IConstant { public static int Value => 6; }
internal readonly struct C7 : IConstant { public static int Value => 7; }
internal readonly struct C8 : IConstant { public static int Value => 8; }
internal readonly struct C9 : IConstant { public static int Value => 9; }
internal readonly struct C10 : IConstant { public static int Value => 10; }
internal readonly struct C11 : IConstant { public static int Value => 11; }
internal readonly struct C12 : IConstant { public static int Value => 12; }

/// <summary>A compile-time flag for kernel variants.</summary>
internal interface IFlag
{
    static abstract bool Value { get; }
}

internal readonly struct Yes : IFlag { public static bool Value => true; }
internal readonly struct No : IFlag { public static bool Value => false; }
