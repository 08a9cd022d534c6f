using Microsoft.ML;
using Microsoft.ML.Data;

namespace Mnist.Baselines.MlNet;

/// <summary>
/// Passes an IDataView through unchanged, except that its cursors throw
/// <see cref="OperationCanceledException"/> from MoveNext once the token fires: ML.NET trainers that
/// read their data again each pass then stop within one row.
/// </summary>
internal sealed class CancellableDataView(IDataView source, CancellationToken cancellationToken) : IDataView
{
    public bool CanShuffle => source.CanShuffle;
    public DataViewSchema Schema => source.Schema;
    public long? GetRowCount() => source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return new Cursor(source.GetRowCursor(columnsNeeded, rand), cancellationToken);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return source.GetRowCursorSet(columnsNeeded, n, rand).Select(c => (DataViewRowCursor)new Cursor(c, cancellationToken)).ToArray();
    }

    private sealed class Cursor(DataViewRowCursor inner, CancellationToken cancellationToken) : DataViewRowCursor
    {
        public override DataViewSchema Schema => inner.Schema;
        public override long Position => inner.Position;
        public override long Batch => inner.Batch;

        public override bool MoveNext()
        {
            cancellationToken.ThrowIfCancellationRequested();
            return inner.MoveNext();
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => inner.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column column) => inner.IsColumnActive(column);
        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => inner.GetGetter<TValue>(column);

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
