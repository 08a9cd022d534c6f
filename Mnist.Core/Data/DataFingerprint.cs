using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Mnist.Core.Data;

/// <summary>
/// A SHA-256 fingerprint of a data view's content: height, width and count (int32 little-endian), then every
/// image's float32 pixels (little-endian) and, when labelled, every label byte, in view order. Two views with
/// the same images and labels in the same order have the same fingerprint, whatever file they came from.
/// </summary>
internal static class DataFingerprint
{
    /// <summary>The lowercase hex SHA-256 of <paramref name="data"/> (see the class remarks).</summary>
    public static string Sha256(DigitDataView data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Fingerprints hash little-endian floats.");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(header, data.Height);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], data.Width);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], data.Count);
        hash.AppendData(header);
        if (data.IsContiguous)
        {
            hash.AppendData(MemoryMarshal.AsBytes(data.ContiguousPixels));
        }
        else
        {
            for (int i = 0; i < data.Count; i++) hash.AppendData(MemoryMarshal.AsBytes(data.GetImage(i)));
        }
        if (data.HasLabels) hash.AppendData(data.GetLabels());
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
