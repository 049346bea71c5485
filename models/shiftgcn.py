"""Shift-GCN as PGFA's setting 2 uses it (papers.md A.3; Cheng et al., CVPR 2020), in plain PyTorch.

10 TCN-GCN units, widths 64×4 → 128×3 (stride 2 at unit 5) → 256×3 (stride 2 at unit 8); input
BatchNorm over M·V·C. The spatial shift is a fixed channel-wise joint permutation (an index gather)
around a learnable feature mask ``tanh(mask) + 1`` and a point-wise linear layer (§3.2, "non-local
spatial shift"); the temporal shift is the adaptive per-channel shift with linear interpolation
(§3.3) written as two gathers, so no custom CUDA op is needed and the model runs on CPU and exports
to ONNX.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from skelzs.models.backbone import PersonPooledBackbone

__all__ = ["ShiftGCNConfig", "ShiftGCN", "ShiftGCNUnit", "SpatialShift", "TemporalShift", "shiftgcn_pgfa"]


@dataclass
class ShiftGCNConfig:
    in_channels: int = 3
    num_persons: int = 2
    num_joints: int = 25
    widths: tuple[int, ...] = (64, 64, 64, 64, 128, 128, 128, 256, 256, 256)
    strides: tuple[int, ...] = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1)

    def __post_init__(self):
        self.widths, self.strides = tuple(int(w) for w in self.widths), tuple(int(s) for s in self.strides)
        if len(self.widths) != len(self.strides):
            raise ValueError(f"widths {self.widths} and strides {self.strides} differ in length")

    @property
    def out_channels(self) -> int:
        return self.widths[-1]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["widths"], d["strides"] = list(self.widths), list(self.strides)
        return d


class TemporalShift(nn.Module):
    """Adaptive temporal shift: channel c of output frame t reads ``x[t·stride + δ_c]`` (+½ when
    strided, as the official CUDA op does), linearly interpolated, zeros outside the sequence;
    ``T_out = ⌈T / stride⌉`` (the official op floors, which only differs for odd T, where its residual
    branch would not match); ``δ`` is learnable, initialised uniformly in ±1 (Shift-GCN §3.3)."""

    def __init__(self, channels: int, stride: int = 1, init_scale: float = 1.0):
        super().__init__()
        self.stride = stride
        self.shift = nn.Parameter(torch.empty(channels).uniform_(-init_scale, init_scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x.shape
        t_out = (t - 1) // self.stride + 1
        offset = 0.5 if self.stride > 1 else 0.0
        pos = (torch.arange(t_out, device=x.device, dtype=x.dtype)[None, :] * self.stride
               + (self.shift[:, None] + offset))
        lo = torch.floor(pos)
        frac = pos - lo                                             # (C, T_out), carries the gradient
        lo = lo.detach().long() + 1                                 # +1: one zero frame of padding
        pad = torch.zeros(n, c, 1, v, device=x.device, dtype=x.dtype)
        xp = torch.cat([pad, x, pad], dim=2)                        # (N, C, T+2, V)
        lo = lo.clamp(0, t + 1)
        hi = (lo + 1).clamp(0, t + 1)
        idx_lo = lo[None, :, :, None].expand(n, c, t_out, v)
        idx_hi = hi[None, :, :, None].expand(n, c, t_out, v)
        w = frac[None, :, :, None]
        return torch.gather(xp, 2, idx_lo) * (1 - w) + torch.gather(xp, 2, idx_hi) * w


class ShiftTCN(nn.Module):
    """BN → shift → point-wise conv → ReLU → shift (stride) → BN (Shift-GCN's ``Shift_tcn``)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_channels)
        self.shift_in = TemporalShift(in_channels, 1)
        self.linear = nn.Conv2d(in_channels, out_channels, 1)
        nn.init.kaiming_normal_(self.linear.weight, mode="fan_out")
        nn.init.zeros_(self.linear.bias)
        self.relu = nn.ReLU(inplace=True)
        self.shift_out = TemporalShift(out_channels, stride)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn2(self.shift_out(self.relu(self.linear(self.shift_in(self.bn(x))))))


def _shift_index(channels: int, joints: int, sign: int) -> torch.Tensor:
    """Flat (V·C) gather index: channel j of joint i comes from joint (i + sign·j) mod V."""
    i = torch.arange(joints)[:, None]
    j = torch.arange(channels)[None, :]
    return (((i + sign * j) % joints) * channels + j).reshape(-1)


class SpatialShift(nn.Module):
    """Non-local spatial shift graph convolution (Shift-GCN §3.2): shift-in, feature mask
    ``tanh(M)+1``, point-wise linear, shift-out, BN over V·C_out, residual, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, joints: int = 25):
        super().__init__()
        self.joints = joints
        self.weight = nn.Parameter(torch.randn(in_channels, out_channels) * math.sqrt(1.0 / out_channels))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.feature_mask = nn.Parameter(torch.zeros(joints, in_channels))
        self.bn = nn.BatchNorm1d(joints * out_channels)
        self.register_buffer("shift_in", _shift_index(in_channels, joints, +1), persistent=False)
        self.register_buffer("shift_out", _shift_index(out_channels, joints, -1), persistent=False)
        if in_channels == out_channels:
            self.down = nn.Identity()
        else:
            conv = nn.Conv2d(in_channels, out_channels, 1)
            nn.init.kaiming_normal_(conv.weight, mode="fan_out")
            nn.init.zeros_(conv.bias)
            self.down = nn.Sequential(conv, nn.BatchNorm2d(out_channels))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x0.shape
        x = x0.permute(0, 2, 3, 1).reshape(n * t, v * c)
        x = torch.index_select(x, 1, self.shift_in).view(n * t, v, c)
        x = x * (torch.tanh(self.feature_mask) + 1)
        x = torch.matmul(x, self.weight) + self.bias                # (N·T, V, C_out)
        x = torch.index_select(x.reshape(n * t, -1), 1, self.shift_out)
        x = self.bn(x).view(n, t, v, -1).permute(0, 3, 1, 2)
        return self.relu(x + self.down(x0))


class ShiftGCNUnit(nn.Module):
    """SpatialShift → ShiftTCN, plus residual, ReLU (Shift-GCN's ``TCN_GCN_unit``)."""

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1, residual: bool = True,
                 joints: int = 25):
        super().__init__()
        self.gcn = SpatialShift(in_channels, out_channels, joints)
        self.tcn = ShiftTCN(out_channels, out_channels, stride)
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            conv = nn.Conv2d(in_channels, out_channels, 1, (stride, 1))
            nn.init.kaiming_normal_(conv.weight, mode="fan_out")
            nn.init.zeros_(conv.bias)
            self.residual = nn.Sequential(conv, nn.BatchNorm2d(out_channels))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.tcn(self.gcn(x))
        if self.residual is not None:
            y = y + self.residual(x)
        return self.relu(y)


class ShiftGCN(PersonPooledBackbone):
    """``forward_features(x (N,3,T,V,M)) -> (N, M, C, T', V)``; ``forward_head -> (N, C)``."""

    def __init__(self, config: ShiftGCNConfig | None = None):
        super().__init__()
        self.config = cfg = config or ShiftGCNConfig()
        v, m, c = cfg.num_joints, cfg.num_persons, cfg.in_channels
        self.data_bn = nn.BatchNorm1d(m * v * c)
        units, c_in = [], c
        for i, (c_out, s) in enumerate(zip(cfg.widths, cfg.strides)):
            units.append(ShiftGCNUnit(c_in, c_out, stride=s, residual=i > 0, joints=v))
            c_in = c_out
        self.blocks = nn.ModuleList(units)
        self.num_features = cfg.out_channels

    #: The input BN has parameters per person slot (over M·V·C), so the per-person branch depends on the slot.
    person_slots_shared = False

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v, m = x.shape
        x = self.data_bn(x.permute(0, 4, 3, 1, 2).reshape(n, m * v * c, t))   # BN over M·V·C
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        for block in self.blocks:
            x = block(x)
        _, c2, t2, v2 = x.shape
        return x.view(n, m, c2, t2, v2)

    def forward_person_features(self, x: torch.Tensor, slot: int = 0) -> torch.Tensor:
        """One person slot ``(P, 3, T, V) -> (P, C)`` pooled features; in eval mode exactly
        ``forward_features(x)[:, slot].mean((-2, -1))``: the slot's part of the input BN (running
        statistics), then the blocks."""
        p, c, t, v = x.shape
        bn, part = self.data_bn, slice(slot * v * c, (slot + 1) * v * c)
        x = F.batch_norm(x.permute(0, 3, 1, 2).reshape(p, v * c, t), bn.running_mean[part], bn.running_var[part],
                         bn.weight[part], bn.bias[part], False, 0.0, bn.eps)
        x = x.view(p, v, c, t).permute(0, 2, 3, 1).contiguous()            # (P, C, T, V)
        for block in self.blocks:
            x = block(x)
        return x.mean(dim=(-2, -1))


def shiftgcn_pgfa(**overrides) -> ShiftGCN:
    """Shift-GCN of PGFA setting 2 (papers.md A.3); keyword overrides go to :class:`ShiftGCNConfig`."""
    return ShiftGCN(ShiftGCNConfig(**overrides))
