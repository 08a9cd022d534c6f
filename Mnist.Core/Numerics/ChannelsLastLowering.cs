using System.Runtime.Intrinsics;

namespace Mnist.Core.Numerics;

/// <summary>
/// im2col for channels-last (HWC) images, stride 1: output pixel (oy, ox) becomes a row of k·k·C values,
/// the patch at (oy − pad + ky, ox − pad + kx), in (ky, kx, c) order; taps outside the image are zero.
/// The zero taps below/right are implied by the output size, so one function serves 'same', 'valid' and
/// the 'full' convolution of a backward pass (pad = k − 1 − forward pad).
/// </summary>
/// <remarks>
/// Channels-last makes each kernel row of a patch one contiguous run of k·C input floats, so a row is
/// k copies rather than k·k·C scattered reads. Rows can be produced for any range of output pixels, so a
/// caller can lower a few hundred rows at a time into a cache-sized buffer.
/// </remarks>
internal static class ChannelsLastLowering
{
    /// <summary>Writes the patch rows of output pixels [firstPixel, firstPixel + pixelCount) into <paramref name="patches"/>.</summary>
    public static void Im2Col(ReadOnlySpan<float> image, int height, int width, int channels, int kernel, int pad,
        int outHeight, int outWidth, int firstPixel, int pixelCount, Span<float> patches)
    {
        int patchSize = kernel * kernel * channels, rowRun = kernel * channels;
        if (image.Length < height * width * channels) throw new ArgumentException("The image is smaller than height × width × channels.", nameof(image));
        if (firstPixel < 0 || pixelCount < 0 || firstPixel + pixelCount > outHeight * outWidth) throw new ArgumentOutOfRangeException(nameof(pixelCount));
        if (patches.Length < pixelCount * patchSize) throw new ArgumentException("The patch buffer is too small.", nameof(patches));
        for (int r = 0; r < pixelCount; r++)
        {
            int pixel = firstPixel + r;
            int oy = pixel / outWidth, ox = pixel % outWidth;
            Span<float> row = patches.Slice(r * patchSize, patchSize);
            int ix0 = ox - pad;
            int kxStart = Math.Clamp(-ix0, 0, kernel), kxEnd = Math.Clamp(width - ix0, kxStart, kernel);
            for (int ky = 0; ky < kernel; ky++)
            {
                Span<float> taps = row.Slice(ky * rowRun, rowRun);
                int iy = oy - pad + ky;
                if ((uint)iy >= (uint)height || kxEnd == kxStart)
                {
                    taps.Clear();
                    continue;
                }
                if (kxStart > 0) taps[..(kxStart * channels)].Clear();
                Copy(image.Slice((iy * width + ix0 + kxStart) * channels, (kxEnd - kxStart) * channels), taps[(kxStart * channels)..]);
                if (kxEnd < kernel) taps[(kxEnd * channels)..].Clear();
            }
        }
    }

    /// <summary>
    /// A copy for the short runs (a few hundred bytes) of a patch row: whole vectors inline, which beats
    /// the general memmove's per-call cost at these sizes.
    /// </summary>
    private static void Copy(ReadOnlySpan<float> source, Span<float> destination)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= source.Length - Vector512<float>.Count; i += Vector512<float>.Count)
                Vector512.Create(source.Slice(i, Vector512<float>.Count)).CopyTo(destination.Slice(i, Vector512<float>.Count));
        if (Vector256.IsHardwareAccelerated)
            for (; i <= source.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                Vector256.Create(source.Slice(i, Vector256<float>.Count)).CopyTo(destination.Slice(i, Vector256<float>.Count));
        for (; i < source.Length; i++) destination[i] = source[i];
    }

    /// <summary>The obviously-correct twin of <see cref="Im2Col"/>, one tap at a time.</summary>
    public static void ReferenceIm2Col(ReadOnlySpan<float> image, int height, int width, int channels, int kernel, int pad,
        int outHeight, int outWidth, int firstPixel, int pixelCount, Span<float> patches)
    {
        int patchSize = kernel * kernel * channels;
        for (int r = 0; r < pixelCount; r++)
        {
            int oy = (firstPixel + r) / outWidth, ox = (firstPixel + r) % outWidth;
            for (int ky = 0; ky < kernel; ky++)
                for (int kx = 0; kx < kernel; kx++)
                    for (int c = 0; c < channels; c++)
                    {
                        int iy = oy - pad + ky, ix = ox - pad + kx;
                        bool inside = iy >= 0 && iy < height && ix >= 0 && ix < width;
                        patches[r * patchSize + (ky * kernel + kx) * channels + c] = inside ? image[(iy * width + ix) * channels + c] : 0f;
                    }
        }
    }
}
