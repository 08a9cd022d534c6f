using Microsoft.ML;
using Microsoft.ML.Data;

namespace Mnist.Core.Data;

// DigitDataView as an ML.NET IDataView: the same rows, read through cursors.
public sealed partial class DigitDataView
{
    /// <summary>ML.NET column names (ML.NET's defaults for multiclass trainers).</summary>
    public static class Columns
    {
        /// <summary>The label column: key UInt32 of 10 values.</summary>
        public const string Label = "Label";
        /// <summary>The pixel column: a Single vector of <see cref="PixelCount"/> values in [0,1].</summary>
        public const string Features = "Features";
        /// <summary>The image id column (Int32), when the view has ids.</summary>
        public const string ImageId = "ImageId";
    }

    // ML.NET's annotation kind for the names of a key's values (AnnotationUtils.Kinds.KeyValues in Microsoft.ML).
    private const string KeyValuesKind = "KeyValues";

    private DataViewSchema? _schema;

    /// <summary>
    /// <c>Label</c>: key UInt32 of 10 values with KeyValues "0".."9" (digit d is key d+1; only when
    /// labelled); <c>Features</c>: Single vector of <see cref="PixelCount"/>, pixels in [0,1];
    /// <c>ImageId</c>: Int32 (only when the view has ids).
    /// </summary>
    public DataViewSchema Schema => _schema ??= BuildSchema(PixelCount, HasLabels, HasIds);

    /// <summary>True: cursors given a <see cref="Random"/> visit the rows in an order drawn from it.</summary>
    public bool CanShuffle => true;

    /// <summary>The number of rows: always known.</summary>
    public long? GetRowCount() => Count;

    /// <summary>
    /// A cursor over the rows, in view order or, with <paramref name="rand"/>, in an order drawn from it
    /// (the same <see cref="Random"/> state gives the same order). Row ids are source rows.
    /// </summary>
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var active = new bool[Schema.Count];
        foreach (var column in columnsNeeded)
        {
            if (column.Index < 0 || column.Index >= Schema.Count || Schema[column.Index].Name != column.Name)
                throw new ArgumentException($"Column '{column.Name}' is not a column of this DigitDataView.", nameof(columnsNeeded));
            active[column.Index] = true;
        }
        int[]? order = null;
        if (rand is not null)
        {
            order = new int[Count];
            for (int i = 0; i < order.Length; i++) order[i] = i;
            rand.Shuffle(order);
        }
        return new Cursor(this, active, order);
    }

    /// <summary>One cursor (the rows are in memory; splitting them would not read any faster).</summary>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private static DataViewSchema BuildSchema(int pixelCount, bool hasLabels, bool hasIds)
    {
        var builder = new DataViewSchema.Builder();
        if (hasLabels) AddDigitKeyColumn(builder, Columns.Label);
        builder.AddColumn(Columns.Features, new VectorDataViewType(NumberDataViewType.Single, pixelCount));
        if (hasIds) builder.AddColumn(Columns.ImageId, NumberDataViewType.Int32);
        return builder.ToSchema();
    }

    /// <summary>A key column of 10 values named "0".."9" (digit d is key d+1): our Label, and PredictedLabel of our estimator.</summary>
    internal static void AddDigitKeyColumn(DataViewSchema.Builder builder, string name)
    {
        var annotations = new DataViewSchema.Annotations.Builder();
        ValueGetter<VBuffer<ReadOnlyMemory<char>>> keyValues = (ref VBuffer<ReadOnlyMemory<char>> value) =>
        {
            var editor = VBufferEditor.Create(ref value, ClassCount);
            for (int d = 0; d < ClassCount; d++) editor.Values[d] = d.ToString(System.Globalization.CultureInfo.InvariantCulture).AsMemory();
            value = editor.Commit();
        };
        annotations.Add(KeyValuesKind, new VectorDataViewType(TextDataViewType.Instance, ClassCount), keyValues);
        builder.AddColumn(name, new KeyDataViewType(typeof(uint), ClassCount), annotations.ToAnnotations());
    }

    /// <summary>
    /// Reads the rows of this view. Getters copy straight from the shared pixel buffer into the caller's
    /// VBuffer (reused when it is large enough), so a row costs one copy of its floats and no allocation.
    /// </summary>
    private sealed class Cursor : DataViewRowCursor
    {
        private readonly DigitDataView _view;
        private readonly bool[] _active;
        private readonly int[]? _order;
        private long _position = -1;
        private int _current = -1;   // position in the view of the current row
        private bool _disposed;

        public Cursor(DigitDataView view, bool[] active, int[]? order)
        {
            _view = view;
            _active = active;
            _order = order;
        }

        public override DataViewSchema Schema => _view.Schema;
        public override long Position => _position;
        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (_disposed || _position >= _view.Count) return false;
            _position++;
            if (_position >= _view.Count)
            {
                _current = -1;
                return false;
            }
            _current = _order is null ? (int)_position : _order[_position];
            return true;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index >= 0 && column.Index < _active.Length && _active[column.Index];

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) =>
        {
            value = new DataViewRowId((ulong)_view.SourceRow(CurrentRow()), 0);
        };

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column)) throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor: ask for it in columnsNeeded.");
            Delegate getter = column.Name switch
            {
                Columns.Label => (ValueGetter<uint>)((ref uint value) => value = (uint)_view.GetLabel(CurrentRow()) + 1),
                Columns.Features => (ValueGetter<VBuffer<float>>)GetFeatures,
                Columns.ImageId => (ValueGetter<int>)((ref int value) => value = _view.GetId(CurrentRow())),
                _ => throw new ArgumentException($"Column '{column.Name}' is not a column of this DigitDataView.", nameof(column)),
            };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is of type {column.Type}, not {typeof(TValue).Name}.");
        }

        private void GetFeatures(ref VBuffer<float> value)
        {
            var image = _view.GetImage(CurrentRow());
            var editor = VBufferEditor.Create(ref value, image.Length);
            image.CopyTo(editor.Values);
            value = editor.Commit();
        }

        private int CurrentRow() => _current >= 0
            ? _current
            : throw new InvalidOperationException("The cursor is not on a row: call MoveNext first, and read no value after it returned false.");

        protected override void Dispose(bool disposing)
        {
            _disposed = true;
            _current = -1;
            base.Dispose(disposing);
        }
    }
}
