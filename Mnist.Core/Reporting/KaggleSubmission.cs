using System.Globalization;
using System.Text;
using Mnist.Core.IO;

namespace Mnist.Core.Reporting;

/// <summary>
/// Kaggle "Digit Recognizer" submission files: a header <c>ImageId,Label</c>, then one row per image
/// with ImageId 1..N in input order, LF line endings and a final newline, no BOM (as sample_submission.csv).
/// </summary>
internal static class KaggleSubmission
{
    public const string Header = "ImageId,Label";

    /// <summary>The file's text for predicted labels 0..9 in input order.</summary>
    public static string Render(IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var text = new StringBuilder(Header.Length + 1 + labels.Count * 8);
        text.Append(Header).Append('\n');
        for (int i = 0; i < labels.Count; i++)
        {
            if ((uint)labels[i] > 9) throw new ArgumentOutOfRangeException(nameof(labels), $"Label {labels[i]} of image {i + 1} is outside 0..9.");
            text.Append((i + 1).ToString(CultureInfo.InvariantCulture)).Append(',').Append(labels[i].ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Writes the file atomically (temporary file renamed into place).</summary>
    public static void Write(string path, IReadOnlyList<int> labels) => AtomicFile.WriteAllText(path, Render(labels));
}
