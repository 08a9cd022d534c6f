namespace Mnist.Cnn.Layers;

/// <summary>
/// One layer of a <see cref="Sequential"/> network. Forward and Backward sit side by side over plain
/// spans holding a whole mini-batch: <c>batch × InputShape.Size</c> in, <c>batch × OutputShape.Size</c> out.
/// </summary>
/// <remarks>
/// Backward receives the forward's input and output again (the model keeps every activation) and
/// overwrites each parameter's gradient for this batch. When <c>inputGradient</c> is empty (the first
/// layer) the layer may skip computing it.
/// </remarks>
public abstract class Layer
{
    private bool _built;
    private long _weightBudget = long.MaxValue;

    public TensorShape InputShape { get; private set; }
    public TensorShape OutputShape { get; private set; }

    /// <summary>A short description for summaries, e.g. "Conv2D 32 5×5 same".</summary>
    public abstract string Describe();

    /// <summary>Whether the output is the input's memory as it is (a reshape): a <see cref="Sequential"/> then neither copies nor runs it.</summary>
    internal virtual bool IsView => false;

    /// <summary>
    /// Whether Backward may be given the output gradient's own memory as the input gradient (same size; every dy is read
    /// before the dx at its place is written), which spares a buffer and the reads a fresh one costs the cache.
    /// </summary>
    internal virtual bool GradientInPlace => false;

    /// <summary>Trainable parameters (empty for parameter-free layers).</summary>
    public virtual IReadOnlyList<Parameter> Parameters => [];

    /// <summary>Non-trainable state saved with the model (e.g. BatchNorm running statistics).</summary>
    public virtual IReadOnlyList<float[]> State => [];

    /// <summary>Fixes the input shape, computes the output shape and initialises parameters from <paramref name="random"/>.</summary>
    public void Build(TensorShape input, Random random) => Build(input, random, long.MaxValue);

    /// <summary>
    /// <see cref="Build(TensorShape, Random)"/> allocating at most <paramref name="weightBudget"/> parameter values
    /// (see <see cref="NewParameter"/>); returns what is left of it.
    /// </summary>
    internal long Build(TensorShape input, Random random, long weightBudget)
    {
        if (_built) throw new InvalidOperationException($"{Describe()} is already built.");
        InputShape = input;
        OutputShape = ComputeOutputShape(input);
        _weightBudget = weightBudget;
        Initialize(random);
        _built = true;
        return _weightBudget;
    }

    /// <summary>
    /// A parameter of <paramref name="length"/> values, counted against the weight budget first: a network read from a
    /// model file may allocate no more values than the file holds, so a forged size is refused before it is allocated.
    /// </summary>
    protected Parameter NewParameter(string name, long length, bool decay)
    {
        if (length > _weightBudget || length > Array.MaxLength)
            throw new InvalidDataException($"{Describe()}: its {name} need {length} values, more than the {_weightBudget} the model file has left");
        _weightBudget -= length;
        return new Parameter(name, (int)length, decay);
    }

    protected abstract TensorShape ComputeOutputShape(TensorShape input);

    protected virtual void Initialize(Random random) { }

    /// <summary>Prepares scratch buffers for batches of up to <paramref name="maxBatch"/> samples (called before use; no allocation afterwards).</summary>
    public virtual void EnsureCapacity(int maxBatch) { }

    /// <summary>Drops the scratch buffers <see cref="EnsureCapacity"/> made (the next use makes them again); weights and state stay.</summary>
    internal virtual void ReleaseScratch() { }

    public abstract void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training);

    public abstract void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch);

    /// <summary>Glorot/He-style uniform initialisation: U(−limit, limit).</summary>
    protected static void FillUniform(Span<float> values, double limit, Random random)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * limit);
    }
}
