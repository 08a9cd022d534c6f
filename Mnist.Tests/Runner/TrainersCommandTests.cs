namespace Mnist.Tests.Runner;

/// <summary><c>mnist trainers</c> and the hyperparameter section of --help, both read from the trainers' schemas.</summary>
[TestFixture]
public sealed class TrainersCommandTests
{
    [Test]
    public void TrainersListsEveryTrainerWithEachHyperparameterItsTypeDefaultRangeAndDoc()
    {
        var outcome = RunnerHarness.Run(TestCatalogs.WithReal(), Path.GetTempPath(), "trainers");
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        var lines = outcome.Output.Split('\n');
        foreach (var registration in TestCatalogs.WithReal().Registrations)
        {
            int header = Array.FindIndex(lines, l => l.StartsWith(registration.Name + ": " + registration.Description, StringComparison.Ordinal));
            Assert.That(header, Is.GreaterThanOrEqualTo(0), registration.Name);
            foreach (var parameter in registration.Hyperparameters.Parameters)
                Assert.That(lines.Skip(header + 1).TakeWhile(l => l.Length > 0).Any(l =>
                    System.Text.RegularExpressions.Regex.IsMatch(l, $@"^  {parameter.Name} +{parameter.TypeName} +{System.Text.RegularExpressions.Regex.Escape(Mnist.Core.Training.Hyperparameter.Format(parameter.Default))} +{System.Text.RegularExpressions.Regex.Escape(parameter.Range)} +{System.Text.RegularExpressions.Regex.Escape(parameter.Doc)}")),
                    $"{registration.Name}.{parameter.Name}");
        }
        Assert.That(outcome.Output, Does.Contain("  l2              double  0.0001   ≥ 0      "));
        Assert.That(outcome.Output, Does.Contain("centroid-raw: ").And.Contain("(no hyperparameters)"));
    }

    [TestCase("compare")]
    [TestCase("grid")]
    [TestCase("train")]
    public void HelpOfCommandsWithParamListsEachTrainersDefaults(string command)
    {
        var outcome = RunnerHarness.Run(TestCatalogs.WithReal(), Path.GetTempPath(), command, "--help");
        Assert.That(outcome.ExitCode, Is.Zero, outcome.Error);
        Assert.That(outcome.Output, Does.Contain("Hyperparameters (--param name=value"));
        Assert.That(outcome.Output, Does.Contain("  knn              k=3, weighting=uniform, pca-components=0"));
        Assert.That(outcome.Output, Does.Contain("  cnn-small        epochs=6, batch-size=128, learning-rate=0.002, optimizer=adam"));
        Assert.That(outcome.Output, Does.Contain("  torch-cnn-small  epochs=6, batch-size=128, learning-rate=0.002, optimizer=adam"));
    }

    [Test]
    public void HelpOfCommandsWithoutParamHasNoHyperparameterSection()
    {
        var outcome = RunnerHarness.Run(TestCatalogs.WithReal(), Path.GetTempPath(), "predict", "--help");
        Assert.That(outcome.ExitCode, Is.Zero);
        Assert.That(outcome.Output, Does.Contain("--model").And.Not.Contain("Hyperparameters (--param"));
    }
}
