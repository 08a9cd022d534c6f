namespace Mnist.Core.Data;

/// <summary>Seeded, stratified splits: each class keeps (almost exactly) its share in every part.</summary>
public static class Splits
{
    /// <summary>
    /// Splits positions 0..Count-1 of a labelled view into train and validation index lists; each class
    /// contributes round(fraction × its count) images to validation. Both lists are returned sorted.
    /// </summary>
    public static (int[] Train, int[] Validation) StratifiedTrainValidation(DigitDataView data, double validationFraction, int seed)
    {
        if (validationFraction < 0 || validationFraction >= 1)
            throw new ArgumentOutOfRangeException(nameof(validationFraction), "The validation fraction must be in [0, 1).");
        var random = new Random(seed);
        var train = new List<int>(data.Count);
        var validation = new List<int>();
        foreach (var members in ByClass(data))
        {
            random.Shuffle(members);
            int take = (int)Math.Round(validationFraction * members.Length, MidpointRounding.AwayFromZero);
            validation.AddRange(members.AsSpan(0, take));
            train.AddRange(members.AsSpan(take));
        }
        train.Sort();
        validation.Sort();
        return (train.ToArray(), validation.ToArray());
    }

    /// <summary>
    /// Stratified k-fold: fold f's validation indices, with every other fold's indices as its training set.
    /// Each class is shuffled with the seed and dealt round-robin across folds, so fold sizes per class differ by at most one.
    /// </summary>
    public static IReadOnlyList<(int[] Train, int[] Validation)> StratifiedKFold(DigitDataView data, int folds, int seed)
    {
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(folds), "k-fold needs at least 2 folds.");
        if (folds > data.Count) throw new ArgumentOutOfRangeException(nameof(folds), $"{folds} folds for {data.Count} images.");
        var random = new Random(seed);
        var foldMembers = Enumerable.Range(0, folds).Select(_ => new List<int>()).ToArray();
        int next = 0;
        foreach (var members in ByClass(data))
        {
            random.Shuffle(members);
            foreach (int index in members)
            {
                foldMembers[next].Add(index);
                next = (next + 1) % folds;
            }
        }
        var result = new List<(int[], int[])>(folds);
        for (int f = 0; f < folds; f++)
        {
            var validation = foldMembers[f].Order().ToArray();
            var train = foldMembers.Where((_, g) => g != f).SelectMany(m => m).Order().ToArray();
            result.Add((train, validation));
        }
        return result;
    }

    private static int[][] ByClass(DigitDataView data)
    {
        var lists = Enumerable.Range(0, DigitDataView.ClassCount).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < data.Count; i++) lists[data.GetLabel(i)].Add(i);
        return lists.Select(l => l.ToArray()).ToArray();
    }
}
