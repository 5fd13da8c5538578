"""Sums of host arrays over the workers into new buffers, never writing the arrays (docs/multi_worker.md).

torch.distributed's all_reduce sums in place. gradcore's arrays are immutable, so an in-place
collective needs a copy of its input first, and on a host that copy costs a fifth to a third
of the collective itself at 16 and 64 MB. So for large host arrays gradcore sums over
collectives of gloo's that move bytes without summing them, reading each input where it lies
and writing only the output:

- ``ring_all_reduce``: the ring that gloo's own all_reduce runs, over torch.distributed's
  point-to-point ``isend``/``irecv``. A reduce-scatter leaves each worker with the full sum
  of one chunk, then an all-gather passes those chunks round. The bytes on the wire are
  gloo's; only the copy is gone. Each chunk is summed on one worker and sent to the others,
  so every worker gets the same bits. Chunks are cut into segments so that summing one
  segment overlaps sending the next.
- ``pair_all_reduce``: two workers swap their arrays whole, in one ``all_to_all_single``
  that sends nothing to itself, and each adds its own to the other's. The bytes on the wire
  are the ring's, but in one exchange instead of two that wait on each other, which is what
  a ~1 MB array's time is made of. ``a + b == b + a`` in IEEE arithmetic, so both workers get
  the same bits.
"""

# Segments from 2 to 8 MB all measured within noise of gloo's own ring at 16 and 64 MB
# (docs/multi_worker.md, "Large arrays"); each segment adds a wait, so they are not made smaller.
SEGMENT_BYTES = 4 * 2**20


def ring_all_reduce(dist, source, out, rank, world_size):
    """Write into ``out`` the elementwise sum over all workers of ``source`` (1-D host tensors of one size).

    Every worker calls it with tensors of the same size and dtype, in the same order as its
    other collectives. At step ``t`` a worker receives chunk ``rank - t - 1`` from its left
    neighbour and sends its right neighbour the chunk it received at step ``t - 1``: during the
    first ``world_size - 1`` steps it adds its own part to what it receives (the reduce-scatter),
    during the rest it only passes the finished chunks on (the all-gather).
    """
    right, left = (rank + 1) % world_size, (rank - 1) % world_size
    segments = _segments(source.numel(), source.element_size(), world_size)
    steps = 2 * (world_size - 1)
    receiving = {0: _post_receives(dist, out, segments[(rank - 1) % world_size], left, 0)}
    sending = [dist.isend(source[start:stop], right, tag=0) for start, stop in segments[rank]]
    for step in range(steps):
        if step + 1 < steps:  # one step ahead, so the sender never waits for a receive to be posted
            receiving[step + 1] = _post_receives(dist, out, segments[(rank - step - 2) % world_size], left, step + 1)
        passing_on = []
        for (start, stop), received in zip(segments[(rank - step - 1) % world_size], receiving.pop(step)):
            received.wait()
            if step < world_size - 1:
                out[start:stop].add_(source[start:stop])
            if step + 1 < steps:
                passing_on.append(dist.isend(out[start:stop], right, tag=step + 1))
        for sent in sending:  # done before a later step's receives write where they read
            sent.wait()
        sending = passing_on


def pair_all_reduce(dist, pairs, peer, meanwhile=lambda: None):
    """For each (source, out) of ``pairs``, write into ``out`` the sum of ``source`` and the peer's.

    Both workers pass arrays of the same sizes and dtypes in the same order. Every swap is
    posted before any is waited for, so a call with several arrays waits on the loopback once.
    ``meanwhile()`` runs while the bytes are on the wire, and its result is returned: work of
    the caller's that needs no sum, done in time that is otherwise spent waiting.
    """
    swaps = [_swap(dist, source, out, peer) for source, out in pairs]
    try:
        return meanwhile()
    finally:  # even when meanwhile raises, the swaps complete and none is left for the next collective
        for (source, out), swap in zip(pairs, swaps):
            swap.wait()
            out.add_(source)


def _swap(dist, source, out, peer):
    """Post the exchange of ``source`` for the peer's, into ``out``, as gloo's all-to-all with nothing sent to itself.

    One collective that gloo runs in its own threads: on the 2-core VM its typical 1 MB swap
    took about half as long as the same swap made of an ``isend`` and an ``irecv``
    (docs/multi_worker.md, "Large arrays"). It moves bytes, so any dtype goes.
    """
    source_bytes, out_bytes = _as_bytes(source), _as_bytes(out)
    splits = [0, 0]
    splits[peer] = source_bytes.numel()
    return dist.all_to_all_single(out_bytes, source_bytes, output_split_sizes=splits, input_split_sizes=splits,
                                  async_op=True)


def _as_bytes(tensor):
    import torch

    return tensor.view(torch.uint8)


def _post_receives(dist, out, chunk, left, step):
    return [dist.irecv(out[start:stop], left, tag=step) for start, stop in chunk]


def _segments(count, itemsize, world_size):
    """For each worker's chunk, the (start, stop) of its segments: the same on every worker."""
    chunks = []
    for index in range(world_size):
        start, stop = index * count // world_size, (index + 1) * count // world_size
        pieces = max(1, round((stop - start) * itemsize / SEGMENT_BYTES))
        length = stop - start
        chunks.append([(start + k * length // pieces, start + (k + 1) * length // pieces) for k in range(pieces)])
    return chunks
