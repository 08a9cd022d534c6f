namespace Mnist.Runner.Common;

/// <summary>
/// The runner's memory policy for a sequence of fits, the same for every trainer: the previous fit's
/// buffers (a k-NN training copy, kernel blocks, network activations) are garbage by the next fit, but a
/// gen-2 collection may not have run and the large-object heap is not compacted by default, so the next
/// fit's peak would stack on top of them. Collecting and compacting once before each fit keeps a whole
/// comparison's peak near its largest single trainer's (measured 2.44 → 1.67 GiB over every trainer).
/// </summary>
internal static class HeapCompaction
{
    public static void BeforeEachFit()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }
}
