using Mnist.Runner;
using Mnist.Runner.Grid;

namespace Mnist.Tests.Runner;

/// <summary>Grid axes from --param name=v1,v2,...</summary>
public sealed class ParameterGridTests
{
    [Test]
    public void ValuesAreSplitOnCommasOutsideParentheses()
    {
        var axes = ParameterGrid.Parse(["l2 = 1e-4, 1e-2", "members=cnn(epochs=3, batch-size=64)*2+knn(k=5),logreg"]);
        Assert.That(axes.Select(a => a.Name), Is.EqualTo(new[] { "l2", "members" }));
        Assert.That(axes[0].Values, Is.EqualTo(new[] { "1e-4", "1e-2" }));
        Assert.That(axes[1].Values, Is.EqualTo(new[] { "cnn(epochs=3, batch-size=64)*2+knn(k=5)", "logreg" }), "a member's overrides stay in its value");
        Assert.That(() => ParameterGrid.Parse(["k=3,,5"]), Throws.TypeOf<UsageException>().With.Message.Contain("empty value"));
    }

    [Test]
    public void AnEnsembleMemberWithSeveralOverridesIsOneGridValue()
    {
        var catalog = Mnist.Runner.Catalogs.Default();
        var axes = ParameterGrid.Resolve(ParameterGrid.Parse(["members=mlp(epochs=1,batch-size=64)*2+logreg,knn"]), catalog.Find("ensemble"));
        Assert.That(axes.Single().Values, Has.Count.EqualTo(2));
    }
}
