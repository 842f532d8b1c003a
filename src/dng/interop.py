"""Working with the rest of the PyTorch world.

* zoo splits as ``torch.utils.data`` datasets of :class:`~dng.weights.MLPWeights`, with the
  collate function that batches them::

    ds = ZooDataset(Zoo("zoos/mnist"), "train")
    loader = DataLoader(ds, batch_size=64, shuffle=True, collate_fn=collate_mlp)
    for weights, labels, images in loader: ...   # MLPWeights (64 INRs), (64,), uint8 images

* PyTorch Geometric: :func:`to_pyg` — the static neural graph as a ``Batch`` and the dynamic
  one as a list of per-snapshot ``Batch`` es (optional dependency ``torch_geometric``);
* nfn: :func:`to_nfn` / :func:`from_nfn` — ``WeightSpaceFeatures`` with one channel
  (optional dependency ``nfn``).
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from dng.errors import ConfigError, ShapeError
from dng.graph import edge_index, edge_values, static_graph
from dng.weights import MLPWeights


class ZooDataset(Dataset):
    """Item ``i``: ``(weights of one network, label, uint8 image (C, H, W))``; ``zoo``: a
    :class:`~dng.zoo.store.Zoo` or its path."""

    def __init__(self, zoo, split: str | None = None, max_copy: int | None = 0):
        from dng.zoo.store import Zoo

        if not hasattr(zoo, "load"):  # a path
            zoo = Zoo(zoo)
        self.data = zoo.load(split, max_copy=max_copy)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int):
        w, y, u8 = self.data.batch(torch.tensor([int(i)]))
        return w, y[0], u8[0]


def collate_mlp(items) -> tuple[MLPWeights, torch.Tensor, torch.Tensor]:
    """Batch ``(MLPWeights, label, image)`` items: weights concatenated along the batch,
    labels and images stacked. A ``DataLoader``'s default collate cannot batch
    :class:`MLPWeights`; this can."""
    if not items:
        raise ShapeError("collate_mlp: empty batch")
    ws, ys, ims = zip(*items)
    return type(ws[0]).cat(list(ws)), torch.stack(list(ys)), torch.stack(list(ims))


def _need(module: str, what: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f'{what} needs {module.split(".")[0]}: pip install "dng[baselines]"'
                          ) from None


def to_pyg(weights: MLPWeights):
    """A batch of MLPs as PyTorch Geometric graphs: ``(static, snapshots)``.

    ``static`` — one ``Data`` per MLP, batched: ``x (N, 1)`` the biases (0 for input
    neurons), ``edge_index (2, E)`` source → target along the forward pass (the order of
    :func:`dng.graph.edge_index`), ``edge_attr (E, 1)`` the weights, ``layer (N,)`` each
    neuron's layer. ``snapshots[l]`` — snapshot ``l`` of the dynamic graph (the block
    ``l → l+1``): ``x (n_l + n_{l+1}, 1)`` (0 for the sources, the biases ``b_l`` for the
    targets), local ``edge_index``, ``edge_attr (n_l n_{l+1}, 1)``, ``activation`` the
    targets' nonlinearity.
    """
    data = _need("torch_geometric.data", "to_pyg")
    sizes, B = weights.layer_sizes, weights.batch_size
    index = edge_index(sizes, weights.device)
    layer = torch.repeat_interleave(torch.arange(len(sizes), device=weights.device),
                                    torch.tensor(sizes, device=weights.device))
    nodes, vals = static_graph(weights).nodes[..., 0], edge_values(weights)  # (B, N), (B, E)
    static = data.Batch.from_data_list([
        data.Data(x=nodes[i, :, None], edge_index=index, edge_attr=vals[i, :, None],
                  layer=layer) for i in range(B)])
    snapshots = []
    for l, (w, b) in enumerate(zip(weights.weights, weights.biases)):
        local = edge_index(sizes[l:l + 2], weights.device)
        x = torch.cat([b.new_zeros(B, sizes[l]), b], 1)
        snapshots.append(data.Batch.from_data_list([
            data.Data(x=x[i, :, None], edge_index=local, edge_attr=w[i].reshape(-1, 1),
                      activation=weights.activations[l]) for i in range(B)]))
    return static, snapshots


def to_nfn(weights: MLPWeights):
    """:class:`MLPWeights` → nfn's ``WeightSpaceFeatures`` with one channel (weights
    ``(B, 1, n_out, n_in)``, biases ``(B, 1, n_out)``)."""
    common = _need("nfn.common", "to_nfn")
    return common.WeightSpaceFeatures([w.unsqueeze(1) for w in weights.weights],
                                      [b.unsqueeze(1) for b in weights.biases])


def from_nfn(wsfeat, activations=None) -> MLPWeights:
    """nfn's one-channel ``WeightSpaceFeatures`` → :class:`MLPWeights` (``activations``
    default to a SIREN's: sine…, linear)."""
    if any(w.shape[1] != 1 for w in wsfeat.weights):
        raise ShapeError("only one-channel WeightSpaceFeatures are MLP weights")
    return MLPWeights.from_layers([w[:, 0] for w in wsfeat.weights],
                                  [b[:, 0] for b in wsfeat.biases], activations)
