using Mnist.Core.Data;

namespace Mnist.Tests.Build;

/// <summary>
/// Mnist.Core is a NuGet package (MnistExperiments.Core): its public types are what a library user needs
/// (data, splits, trainer and model contracts, schema, catalog, model files, evaluation, report); the compute
/// kernels, IO and file plumbing and the runner's own report records stay internal.
/// </summary>
public class PublicSurfaceTests
{
    private static readonly Type[] Exported = typeof(DigitDataView).Assembly.GetExportedTypes();

    [Test]
    public void AtMostFortyTypesArePublic() =>
        Assert.That(Exported, Has.Length.LessThanOrEqualTo(40), string.Join(", ", Exported.Select(t => t.Name)));

    [TestCase("Mnist.Core.Numerics.Kernels")]
    [TestCase("Mnist.Core.Numerics.Gemm")]
    [TestCase("Mnist.Core.Numerics.ReferenceKernels")]
    [TestCase("Mnist.Core.IO.AtomicFile")]
    [TestCase("Mnist.Core.Training.ChecksummedFile")]
    [TestCase("Mnist.Core.Training.FitArguments")]
    [TestCase("Mnist.Core.Reporting.MarkdownReportWriter")]
    [TestCase("Mnist.Core.Reporting.GridSearchResult")]
    public void InternalsAreNotPublic(string name)
    {
        var type = typeof(DigitDataView).Assembly.GetType(name);
        Assert.That(type, Is.Not.Null, $"{name} was renamed or moved: update this test");
        Assert.That(type!.IsVisible, Is.False);
    }

    /// <summary>Mnist.Cnn's plumbing behind its public trainers, models, layers and network specs.</summary>
    [TestCase("Mnist.Cnn.Augmentation.TestTimeAugmentation")]
    [TestCase("Mnist.Cnn.Augmentation.ProbabilityPredictor")]
    [TestCase("Mnist.Cnn.Layers.BatchNormRelu")]
    [TestCase("Mnist.Cnn.Backends.Own.OwnBackend")]
    public void CnnInternalsAreNotPublic(string name)
    {
        var type = typeof(Mnist.Cnn.Sequential).Assembly.GetType(name);
        Assert.That(type, Is.Not.Null, $"{name} was renamed or moved: update this test");
        Assert.That(type!.IsVisible, Is.False);
    }

    [Test]
    public void NumericsExposesOnlyTheThreadBound() =>
        Assert.That(Exported.Where(t => t.Namespace == "Mnist.Core.Numerics").Select(t => t.Name), Is.EqualTo(new[] { "ComputeSettings" }));
}
