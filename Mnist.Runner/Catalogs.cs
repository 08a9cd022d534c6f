using Mnist.Core.Training;

namespace Mnist.Runner;

/// <summary>The one place the runner's trainer catalog is assembled.</summary>
public static class Catalogs
{
    /// <summary>Every trainer this build ships, in report order.</summary>
    public static TrainerCatalog Default()
    {
        var catalog = new TrainerCatalog();
        // .AddBaselines() is added when Mnist.Baselines lands: catalog.AddBaselines(); (using Mnist.Baselines;)
        return catalog;
    }
}
