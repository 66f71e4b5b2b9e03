#!/usr/bin/env python3
"""The peer of examples/proteins.c --preset revgnn-deep --device cuda: PyTorch Geometric's
grouped reversible GNN (torch_geometric.nn.GroupAddRev around GENConv blocks) trained the same
way on a graph of the same size, reporting torch.cuda.max_memory_allocated and the time of
each training step, so bench/gpu.sh can put the two side by side.

A reference, never a dependency of revgnn: it needs python3 with torch (CUDA) and
torch_geometric, and is written against their documented APIs.

The model is revgnn's (revgnn.h, "models"): node encoder Linear(in, D), one edge encoder
Linear(edge_dim, D / C) shared by every layer, L grouped reversible blocks of C groups with
f_i = GENConv(Dropout(ReLU(BatchNorm(z)))) (aggregator max, MLP Linear(W, 2W) -> BatchNorm ->
ReLU -> Linear(2W, W), W = D / C), one dropout mask per step and group shared by every layer,
then BatchNorm -> ReLU -> Dropout -> Linear(D, tasks). Training: every epoch a random
partition of the nodes into --parts parts (RandomNodeLoader), one Adam step per induced
subgraph on the BCE loss of its training nodes.

The graph is synthetic with ogbn-proteins' sizes (not its structure): --nodes nodes,
nodes * degree / 2 random undirected edges stored in both directions, 8-wide edge features,
node features the sum of the incoming edge features plus a one-hot of 8 species, 112 binary
tasks, 60 % of the nodes for training.

    python3 bench/peer/pyg_revgnn.py                       # ogbn-proteins-sized, RevGNN-Deep
    python3 bench/peer/pyg_revgnn.py --nodes 20000 --layers 112   # a quick look

Prints one line per step and a closing line
    result: peak_bytes=... s_per_epoch=... ms_per_step=... params=...
"""
import argparse
import time

import torch
import torch.nn.functional as F
from torch.nn import BatchNorm1d, Linear

from torch_geometric.data import Data
from torch_geometric.loader import RandomNodeLoader
from torch_geometric.nn import GENConv, GroupAddRev
from torch_geometric.utils import scatter


class Block(torch.nn.Module):
    """f_i of one group: GENConv(Dropout(ReLU(BatchNorm(z)))), the dropout mask given."""

    def __init__(self, width):
        super().__init__()
        self.norm = BatchNorm1d(width)
        self.conv = GENConv(width, width, aggr="max", num_layers=2, norm="batch")

    def reset_parameters(self):
        self.norm.reset_parameters()
        self.conv.reset_parameters()

    def forward(self, z, edge_index, edge_attr, mask):
        h = F.relu(self.norm(z))
        if self.training:
            h = h * mask
        return self.conv(h, edge_index, edge_attr)


class RevGNN(torch.nn.Module):
    def __init__(self, in_dim, edge_dim, hidden, tasks, layers, groups, dropout):
        super().__init__()
        self.dropout = dropout
        self.node_encoder = Linear(in_dim, hidden)
        self.edge_encoder = Linear(edge_dim, hidden // groups)
        # GroupAddRev copies the block into `groups` groups; an argument as wide as the
        # hidden state (the dropout mask) is split among them, narrower ones (the encoded
        # edges) go to every group whole
        self.blocks = torch.nn.ModuleList(
            [GroupAddRev(Block(hidden // groups), num_groups=groups) for _ in range(layers)])
        self.norm = BatchNorm1d(hidden)
        self.head = Linear(hidden, tasks)

    def forward(self, x, edge_index, edge_attr):
        h = self.node_encoder(x)
        e = self.edge_encoder(edge_attr)
        # one mask per step and group, the same in every layer (the paper's shared dropout)
        keep = 1.0 - self.dropout
        mask = torch.bernoulli(torch.full_like(h, keep)) / keep
        for block in self.blocks:
            h = block(h, edge_index, e, mask)
        h = F.relu(self.norm(h))
        h = F.dropout(h, p=self.dropout, training=self.training)
        return self.head(h)


def synthetic(nodes, degree, edge_dim, species, tasks, seed):
    """ogbn-proteins' shapes on random structure"""
    g = torch.Generator().manual_seed(seed)
    half = nodes * degree // 2
    src = torch.randint(0, nodes, (half, ), generator=g)
    dst = torch.randint(0, nodes, (half, ), generator=g)
    edge_index = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], dim=1)
    feat = torch.rand(half, edge_dim, generator=g)
    edge_attr = torch.cat([feat, feat], dim=0)
    x = scatter(edge_attr, edge_index[1], dim=0, dim_size=nodes, reduce="sum")
    kind = torch.randint(0, species, (nodes, ), generator=g)
    x = torch.cat([x, F.one_hot(kind, species).float()], dim=1)
    y = (torch.rand(nodes, tasks, generator=g) < 0.3).float()
    train_mask = torch.rand(nodes, generator=g) < 0.6
    return Data(x=x, edge_index=edge_index, edge_attr=edge_attr, y=y, train_mask=train_mask)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", type=int, default=132534)
    p.add_argument("--degree", type=int, default=597, help="mean in-degree (ogbn-proteins: 597)")
    p.add_argument("--layers", type=int, default=1001)
    p.add_argument("--hidden", type=int, default=80)
    p.add_argument("--groups", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--parts", type=int, default=10)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("pyg_revgnn.py: needs a CUDA device")
    torch.manual_seed(a.seed)
    device = torch.device("cuda")

    t0 = time.time()
    data = synthetic(a.nodes, a.degree, 8, 8, 112, a.seed)
    print(f"pyg_revgnn: {a.nodes} nodes, {data.num_edges} edges, {data.x.size(1)} features, 112 tasks "
          f"(made in {time.time() - t0:.1f} s) | rev gen/max, {a.layers} layers, hidden {a.hidden}, "
          f"groups {a.groups} | {torch.cuda.get_device_name(0)}", flush=True)

    model = RevGNN(data.x.size(1), 8, a.hidden, 112, a.layers, a.groups, a.dropout).to(device)
    params = sum(q.numel() for q in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loader = RandomNodeLoader(data, num_parts=a.parts, shuffle=True)
    torch.cuda.reset_peak_memory_stats()

    steps, step_s = 0, []
    for epoch in range(1, a.epochs + 1):
        model.train()
        t_epoch = time.time()
        for batch in loader:
            torch.cuda.synchronize()
            t = time.time()
            batch = batch.to(device)
            opt.zero_grad()
            out = model(batch.x, batch.edge_index, batch.edge_attr)
            loss = F.binary_cross_entropy_with_logits(out[batch.train_mask], batch.y[batch.train_mask])
            loss.backward()
            opt.step()
            torch.cuda.synchronize()
            step_s.append(time.time() - t)
            steps += 1
            print(f"epoch {epoch} step {steps}: {batch.num_nodes} nodes, {batch.num_edges} edges | loss {loss.item():.4f} "
                  f"| {1e3 * step_s[-1]:.1f} ms | peak {torch.cuda.max_memory_allocated() / 1e6:.1f} MB", flush=True)
        epoch_s = time.time() - t_epoch
        print(f"epoch {epoch}: {epoch_s:.1f} s/epoch", flush=True)

    timed = step_s[1:] if len(step_s) > 1 else step_s  # the first step warms up cuBLAS/cuDNN
    print(f"result: peak_bytes={torch.cuda.max_memory_allocated()} s_per_epoch={epoch_s:.2f} "
          f"ms_per_step={1e3 * sum(timed) / len(timed):.1f} params={params}")


if __name__ == "__main__":
    main()
