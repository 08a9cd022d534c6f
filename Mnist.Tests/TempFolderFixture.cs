using Mnist.Tests.Runner;

namespace Mnist.Tests;

/// <summary>A temporary folder for a fixture's tests, <see cref="Folder"/>.</summary>
public abstract class FolderFixture
{
    /// <summary>The folder (empty until the fixture's or test's SetUp made it).</summary>
    protected string Folder { get; private set; } = "";

    // A short name: console output that prints paths wraps at the harness's console width.
    private protected void CreateFolder() => Folder = RunnerHarness.TempFolder("t");

    private protected void DeleteFolder() => RunnerHarness.DeleteQuietly(Folder);
}

/// <summary>Every test gets a fresh <see cref="FolderFixture.Folder"/>, deleted after it.</summary>
public abstract class TempFolderFixture : FolderFixture
{
    [SetUp] public void CreateTestFolder() => CreateFolder();
    [TearDown] public void DeleteTestFolder() => DeleteFolder();
}

/// <summary>The fixture's tests share one <see cref="FolderFixture.Folder"/>, made before the first and deleted after the last.</summary>
public abstract class SharedTempFolderFixture : FolderFixture
{
    [OneTimeSetUp] public void CreateFixtureFolder() => CreateFolder();
    [OneTimeTearDown] public void DeleteFixtureFolder() => DeleteFolder();
}
