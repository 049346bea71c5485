"""ST-GCN and Shift-GCN (PGFA settings 1 and 2): graph, shapes, gradients, the plain-PyTorch shifts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skelzs.models.encoders import ENCODERS, create_encoder
from skelzs.models.graph import ntu25_graph
from skelzs.models.shiftgcn import SpatialShift, TemporalShift
from skelzs.stream.errors import SkelzsError

T = 16


def test_ntu_graph_spatial_partition():
    g = ntu25_graph()
    assert g.A.shape == (3, 25, 25) and g.center == 20 and len(g.edges) == 24
    total = g.A.sum(0)
    np.testing.assert_allclose(total.sum(0), np.ones(25), atol=1e-6)   # A·D⁻¹: columns sum to 1
    assert (np.diag(g.A[0]) > 0).all() and np.allclose(np.diag(g.A[1]), 0) and np.allclose(np.diag(g.A[2]), 0)
    for c, p in g.edges:  # every bone appears in exactly one of the centripetal / centrifugal subsets, both ways
        assert (g.A[1, c, p] > 0) != (g.A[2, c, p] > 0) and (g.A[1, p, c] > 0) != (g.A[2, p, c] > 0)


@pytest.mark.parametrize("name,widths", [("stgcn", (16, 16, 16, 16, 32, 32, 32, 64, 64, 256)),
                                         ("shiftgcn", (64, 64, 64, 64, 128, 128, 128, 256, 256, 256))])
def test_shapes_and_gradients(name, widths):
    torch.manual_seed(0)
    model = create_encoder(name)
    assert model.config.widths == widths and model.config.strides[4] == 2 and model.config.strides[7] == 2
    x = torch.randn(2, 3, T, 25, 2)
    model.eval()
    with torch.no_grad():
        tokens = model.forward_features(x)
        z = model(x)
    assert tokens.shape == (2, 2, 256, T // 4, 25) and z.shape == (2, 256)
    torch.testing.assert_close(z, model.forward_head(tokens))
    torch.testing.assert_close(z, tokens.mean(dim=(-2, -1)).mean(dim=1))
    model.train()
    model(x).square().sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, missing
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_stgcn_details():
    model = create_encoder("stgcn")
    assert model.data_bn.num_features == 75                  # V·C per person
    assert len(model.edge_importance) == 10
    assert model.blocks[0].residual is None and model.blocks[0].tcn[-1].p == 0.0
    assert all(b.tcn[-1].p == 0.5 for b in model.blocks[1:])
    assert model.blocks[9].tcn[2].kernel_size == (9, 1)
    no_importance = create_encoder("stgcn", edge_importance=False)
    assert no_importance.edge_importance is None


@pytest.mark.parametrize("c_in,c_out", [(3, 16), (64, 256), (32, 32)])
def test_graph_conv_adjacency_first_is_the_textbook_graph_convolution(c_in, c_out):
    """GraphConv applies A_k before the 1×1 conv (faster, no transposes); it must be the same function as
    conv-then-Σ_k X_k A_k, with the checkpoint's subset-major weight layout and a learned edge mask."""
    from skelzs.models.stgcn import GraphConv

    torch.manual_seed(0)
    gcn = GraphConv(c_in, c_out, 3)
    torch.nn.init.normal_(gcn.conv.bias, std=0.5)                  # non-zero biases: their A-weighted sums matter
    A = torch.from_numpy(ntu25_graph().A).float() * (1.0 + 0.3 * torch.rand(3, 25, 25))   # edge importance
    x = torch.randn(4, c_in, 12, 25)
    y, ref = gcn(x, A), gcn.forward_conv_first(x, A)
    assert y.shape == ref.shape == (4, c_out, 12, 25)
    torch.testing.assert_close(y, ref, rtol=1e-5, atol=1e-5)
    # by hand for one output: Σ_k Σ_v (W_k x + b_k)[c, t, v] A_k[v, w]
    w = gcn.conv.weight.view(3, c_out, c_in)
    b = gcn.conv.bias.view(3, c_out)
    z = torch.einsum("koc,ctv->kotv", w, x[0]) + b[:, :, None, None]
    manual = torch.einsum("kotv,kvw->otw", z, A)
    torch.testing.assert_close(y[0], manual, rtol=1e-5, atol=1e-5)
    y.square().sum().backward()                                    # gradients reach the usual parameters
    assert gcn.conv.weight.grad is not None and gcn.conv.bias.grad is not None
    gcn.adjacency_first = False
    torch.testing.assert_close(gcn(x, A), ref)


def test_shiftgcn_details():
    model = create_encoder("shiftgcn")
    assert model.data_bn.num_features == 150                 # M·V·C
    assert model.blocks[0].residual is None
    feature_masks = [b.gcn.feature_mask for b in model.blocks]
    assert all(torch.count_nonzero(m) == 0 for m in feature_masks)   # tanh(0) + 1 = identity mask


def test_temporal_shift_interpolates_like_the_cuda_op():
    ts = TemporalShift(3, stride=1)
    ts.shift.data = torch.tensor([1.0, -0.5, 0.25])
    x = torch.arange(1.0, 6.0).view(1, 1, 5, 1).repeat(1, 3, 1, 1)          # frames 1..5
    got = ts(x)[0, :, :, 0]
    torch.testing.assert_close(got[0], torch.tensor([2.0, 3.0, 4.0, 5.0, 0.0]))
    torch.testing.assert_close(got[1], torch.tensor([0.5, 1.5, 2.5, 3.5, 4.5]))
    torch.testing.assert_close(got[2], torch.tensor([1.25, 2.25, 3.25, 4.25, 3.75]))
    strided = TemporalShift(1, stride=2)
    strided.shift.data = torch.zeros(1)
    y = strided(torch.arange(6.0).view(1, 1, 6, 1))                         # reads t·2 + ½
    torch.testing.assert_close(y.flatten(), torch.tensor([0.5, 2.5, 4.5]))


def test_spatial_shift_is_the_published_permutation():
    gcn = SpatialShift(4, 4)
    # channel j of joint i comes from joint (i + j) mod 25 on the way in
    idx = gcn.shift_in.view(25, 4)
    assert int(idx[0, 0]) == 0 and int(idx[0, 1]) == 1 * 4 + 1 and int(idx[24, 3]) == (27 % 25) * 4 + 3
    out = gcn.shift_out.view(25, 4)
    assert int(out[0, 1]) == 24 * 4 + 1 and int(out[3, 2]) == 1 * 4 + 2


def test_factory_table():
    assert set(ENCODERS) == {"stgcn", "shiftgcn"}
    small = create_encoder("stgcn", widths=(8, 16), strides=(1, 2))
    assert small(torch.randn(1, 3, 8, 25, 2)).shape == (1, 16)
    with pytest.raises(SkelzsError, match="unknown encoder"):
        create_encoder("resnet")
