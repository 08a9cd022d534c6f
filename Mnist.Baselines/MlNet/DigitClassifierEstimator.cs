using Microsoft.ML;
using Microsoft.ML.Data;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Baselines.MlNet;

/// <summary>
/// Any catalog trainer as an ML.NET estimator, to put our trainers in ML.NET pipelines:
/// <c>new DigitClassifierEstimator(catalog.Create("logreg")).Fit(data).Transform(test)</c> adds ML.NET's
/// standard multiclass columns <c>Score</c> (10 class probabilities) and <c>PredictedLabel</c> (a key
/// "0".."9"), so <c>mlContext.MulticlassClassification.Evaluate</c> works on the result.
/// </summary>
/// <remarks>The input needs a label (for <see cref="Fit"/>) and a pixel vector as <see cref="DigitDataView.FromDataView"/> reads them.</remarks>
public sealed class DigitClassifierEstimator(
    ITrainer trainer,
    string labelColumn = DigitDataView.Columns.Label,
    string featuresColumn = DigitDataView.Columns.Features) : IEstimator<DigitClassifierTransformer>
{
    public DigitClassifierTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var data = input as DigitDataView ?? DigitDataView.FromDataView(input, labelColumn, featuresColumn, idColumn: null);
        return new DigitClassifierTransformer(trainer.Fit(data), featuresColumn);
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        if (!inputSchema.Any(c => c.Name == featuresColumn))
            throw new ArgumentException($"column '{featuresColumn}': no such column in the input", nameof(inputSchema));
        var outputs = new DataViewSchema.Builder();
        outputs.AddColumns(DigitClassifierTransformer.OutputColumns());
        return new SchemaShape(inputSchema.Where(c => c.Name is not DigitClassifierTransformer.ScoreColumn and not DigitClassifierTransformer.PredictedLabelColumn)
            .Concat(ShapeOf(outputs.ToSchema())));
    }

    // ML.NET makes SchemaShape columns only from a schema, through SchemaShape.Create, which it keeps
    // internal (its column constructor too); found by reflection, as an ML.NET estimator would call it.
    private static readonly System.Reflection.MethodInfo? CreateShape = typeof(SchemaShape).GetMethod(
        "Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public, [typeof(DataViewSchema)]);

    private static SchemaShape ShapeOf(DataViewSchema schema) =>
        CreateShape?.Invoke(null, [schema]) as SchemaShape
        ?? throw new NotSupportedException("This ML.NET version offers no way to describe the output columns; call Fit and use the transformer's GetOutputSchema.");
}

/// <summary>A fitted catalog model in an ML.NET pipeline: appends <c>Score</c> and <c>PredictedLabel</c> to its input.</summary>
public sealed class DigitClassifierTransformer : ITransformer
{
    public const string ScoreColumn = "Score";
    public const string PredictedLabelColumn = "PredictedLabel";

    private readonly string _featuresColumn;

    internal DigitClassifierTransformer(ITrainedModel model, string featuresColumn)
    {
        Model = model;
        _featuresColumn = featuresColumn;
    }

    /// <summary>Our fitted model (save it with <see cref="ModelFile.Save"/>).</summary>
    public ITrainedModel Model { get; }

    public bool IsRowToRowMapper => false;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema.Where(c => !c.IsHidden && c.Name is not ScoreColumn and not PredictedLabelColumn));
        builder.AddColumns(OutputColumns());
        return builder.ToSchema();
    }

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        throw new NotSupportedException("DigitClassifierTransformer scores whole data views; use Transform.");

    /// <summary>Scores every row of <paramref name="input"/> at once (our models predict in batches), then serves the columns.</summary>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var data = input as DigitDataView ?? DigitDataView.FromDataView(input, labelColumn: null, _featuresColumn, idColumn: null);
        var probabilities = Model.PredictProbabilities(data);
        var predicted = Core.Numerics.Kernels.ArgMaxRows(probabilities, DigitDataView.ClassCount);
        return new ScoredDataView(input, GetOutputSchema(input.Schema), probabilities, predicted);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("Save the fitted model with Mnist.Core.Training.ModelFile.Save(transformer.Model, path).");

    internal static IEnumerable<DataViewSchema.Column> OutputColumns()
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(ScoreColumn, new VectorDataViewType(NumberDataViewType.Single, DigitDataView.ClassCount));
        DigitDataView.AddDigitKeyColumn(builder, PredictedLabelColumn);
        return builder.ToSchema();
    }

    /// <summary>
    /// The input's columns followed by Score and PredictedLabel, read from the precomputed probabilities by
    /// row position (so it does not shuffle: a shuffled input cursor would lose that position).
    /// </summary>
    private sealed class ScoredDataView(IDataView input, DataViewSchema schema, float[] probabilities, int[] predicted) : IDataView
    {
        private readonly int _inputColumns = schema.Count - 2;
        private readonly float[] _probabilities = probabilities;
        private readonly int[] _predicted = predicted;

        public bool CanShuffle => false;
        public DataViewSchema Schema => schema;
        public long? GetRowCount() => _predicted.Length;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            var needed = columnsNeeded.ToList();
            var inputNeeded = needed.Where(c => c.Index < _inputColumns).Select(c => input.Schema[c.Name]).ToList();
            var active = new bool[schema.Count];
            foreach (var c in needed) active[c.Index] = true;
            return new Cursor(this, input.GetRowCursor(inputNeeded), active);
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            [GetRowCursor(columnsNeeded, rand)];

        private sealed class Cursor(ScoredDataView view, DataViewRowCursor inner, bool[] active) : DataViewRowCursor
        {
            public override DataViewSchema Schema => view.Schema;
            public override long Position => inner.Position;
            public override long Batch => inner.Batch;
            public override bool MoveNext() => inner.MoveNext();
            public override ValueGetter<DataViewRowId> GetIdGetter() => inner.GetIdGetter();
            public override bool IsColumnActive(DataViewSchema.Column column) => column.Index < active.Length && active[column.Index];

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
            {
                if (!IsColumnActive(column)) throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
                if (column.Index < view._inputColumns) return inner.GetGetter<TValue>(inner.Schema[column.Name]);
                const int classes = DigitDataView.ClassCount;
                Delegate getter = column.Name == ScoreColumn
                    ? (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                    {
                        var editor = VBufferEditor.Create(ref value, classes);
                        view._probabilities.AsSpan(Row() * classes, classes).CopyTo(editor.Values);
                        value = editor.Commit();
                    })
                    : (ValueGetter<uint>)((ref uint value) => value = (uint)view._predicted[Row()] + 1);
                return (ValueGetter<TValue>)getter;
            }

            private int Row() => inner.Position >= 0 ? (int)inner.Position : throw new InvalidOperationException("The cursor is not on a row.");

            protected override void Dispose(bool disposing)
            {
                if (disposing) inner.Dispose();
                base.Dispose(disposing);
            }
        }
    }
}
