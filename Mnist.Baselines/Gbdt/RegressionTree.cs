using Mnist.Baselines.Common;

namespace Mnist.Baselines.Gbdt;

/// <summary>
/// One regression tree on byte-valued pixels. Internal node k sends an image left when
/// <c>pixel[Feature[k]] ≤ Threshold[k]</c>; a child index ≥ 0 is an internal node, a negative child
/// c is leaf ~c. A tree without internal nodes is a single leaf. Children always have larger
/// indices than their parent (the order in which growth created them), so loading can check that
/// a tree is acyclic.
/// </summary>
internal sealed class RegressionTree
{
    public RegressionTree(int[] feature, byte[] threshold, int[] left, int[] right, float[] leafValues)
    {
        Feature = feature;
        Threshold = threshold;
        Left = left;
        Right = right;
        LeafValues = leafValues;
    }

    public int[] Feature { get; }
    public byte[] Threshold { get; }
    public int[] Left { get; }
    public int[] Right { get; }
    public float[] LeafValues { get; }
    public int InternalCount => Feature.Length;
    public int LeafCount => LeafValues.Length;

    /// <summary>The leaf index an image (PixelCount byte bins) falls into.</summary>
    public int LeafIndex(ReadOnlySpan<byte> bins)
    {
        if (Feature.Length == 0) return 0;
        int node = 0;
        while (true)
        {
            int child = bins[Feature[node]] <= Threshold[node] ? Left[node] : Right[node];
            if (child < 0) return ~child;
            node = child;
        }
    }

    public float Evaluate(ReadOnlySpan<byte> bins) => LeafValues[LeafIndex(bins)];

    public void Write(BinaryWriter writer)
    {
        writer.Write(InternalCount);
        for (int k = 0; k < InternalCount; k++)
        {
            writer.Write(Feature[k]);
            writer.Write(Threshold[k]);
            writer.Write(Left[k]);
            writer.Write(Right[k]);
        }
        writer.Write(LeafCount);
        ModelPayload.WriteFloats(writer, LeafValues);
    }

    /// <summary>Reads a tree written by <see cref="Write"/>, checking that it is a well-formed binary tree.</summary>
    public static RegressionTree Read(BinaryReader reader, int pixelCount, int maxInternal)
    {
        int internalCount = reader.ReadInt32();
        if (internalCount < 0 || internalCount > maxInternal)
            throw new InvalidDataException($"a tree with {internalCount} internal nodes (at most {maxInternal} allowed)");
        // Every internal node takes 13 bytes; reject sizes the stream cannot hold before allocating.
        if ((long)internalCount * 13 > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException($"a tree with {internalCount} internal nodes is longer than the payload");
        var feature = new int[internalCount];
        var threshold = new byte[internalCount];
        var left = new int[internalCount];
        var right = new int[internalCount];
        for (int k = 0; k < internalCount; k++)
        {
            feature[k] = reader.ReadInt32();
            threshold[k] = reader.ReadByte();
            left[k] = reader.ReadInt32();
            right[k] = reader.ReadInt32();
            if ((uint)feature[k] >= (uint)pixelCount)
                throw new InvalidDataException($"tree node {k} splits on pixel {feature[k]}, outside 0..{pixelCount - 1}");
        }
        int leafCount = reader.ReadInt32();
        if (leafCount != internalCount + 1)
            throw new InvalidDataException($"a tree with {internalCount} internal nodes must have {internalCount + 1} leaves, not {leafCount}");
        var leafValues = ModelPayload.ReadFiniteFloats(reader, leafCount, "leaf value");

        // Each internal node except the root, and each leaf, must be the child of exactly one node.
        var nodeSeen = new bool[internalCount];
        var leafSeen = new bool[leafCount];
        for (int k = 0; k < internalCount; k++)
        {
            foreach (int child in (ReadOnlySpan<int>)[left[k], right[k]])
            {
                if (child >= 0)
                {
                    if (child <= k || child >= internalCount)
                        throw new InvalidDataException($"tree node {k} has child node {child}; children must follow their parent within 0..{internalCount - 1}");
                    if (nodeSeen[child]) throw new InvalidDataException($"tree node {child} has two parents");
                    nodeSeen[child] = true;
                }
                else
                {
                    int leaf = ~child;
                    if (leaf >= leafCount) throw new InvalidDataException($"tree node {k} points to leaf {leaf} of {leafCount}");
                    if (leafSeen[leaf]) throw new InvalidDataException($"leaf {leaf} has two parents");
                    leafSeen[leaf] = true;
                }
            }
        }
        // With n internal nodes, n + 1 distinct leaves and n − 1 distinct non-root nodes referenced
        // from 2n child slots, every node and leaf is reachable from the root.
        return new RegressionTree(feature, threshold, left, right, leafValues);
    }
}
