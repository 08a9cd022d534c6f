namespace Mnist.Core.Training.Ensembles;

/// <summary>
/// A model whose probabilities are a function of its <see cref="ITrainedModel.Members"/>' probabilities on the same
/// images. A report that evaluates every member anyway predicts each once and combines them here, instead of
/// predicting every member again through the combined model.
/// </summary>
internal interface ICombinedModel
{
    /// <summary>
    /// Writes the combined probabilities into <paramref name="probabilities"/> from <paramref name="memberProbabilities"/>
    /// (one array per member, in order, each <c>count × 10</c> row-major, as the member predicted them).
    /// </summary>
    void Combine(IReadOnlyList<float[]> memberProbabilities, Span<float> probabilities);
}
