namespace Mnist.Runner.Compare;

/// <summary>Finds the repository's data folder when --data is not given.</summary>
public static class DataFolderLocator
{
    public const string SolutionFileName = "MnistExperiments.sln";
    public const string DataFolderName = "data";

    /// <summary>
    /// <c>data/</c> under <paramref name="currentDirectory"/> when it exists; otherwise the first
    /// <c>data</c> folder beside <see cref="SolutionFileName"/> walking up from the current directory,
    /// then from <paramref name="baseDirectory"/>. Null when none is found.
    /// </summary>
    public static string? Find(string currentDirectory, string? baseDirectory)
    {
        string direct = Path.GetFullPath(Path.Combine(currentDirectory, DataFolderName));
        if (Directory.Exists(direct)) return direct;
        foreach (string? start in new[] { currentDirectory, baseDirectory })
        {
            if (string.IsNullOrEmpty(start)) continue;
            for (var directory = new DirectoryInfo(Path.GetFullPath(start)); directory is not null; directory = directory.Parent)
            {
                string data = Path.Combine(directory.FullName, DataFolderName);
                if (File.Exists(Path.Combine(directory.FullName, SolutionFileName)) && Directory.Exists(data)) return data;
            }
        }
        return null;
    }
}
