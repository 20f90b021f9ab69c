"""Losses: soft-target CE, aux-confidence warm-up, bootstrap, GCE, weights."""

from __future__ import annotations

import pytest
import torch

from aarlab.w2s.losses import LOSSES, ce_loss, make_loss


def test_ce_matches_torch_on_hard_targets() -> None:
    logits = torch.tensor([[0.2, 1.0], [2.0, -1.0], [0.0, 0.0]])
    t = torch.tensor([1.0, 0.0, 1.0])
    ref = torch.nn.functional.cross_entropy(logits, t.long())
    assert ce_loss(logits, t, 0.0) == pytest.approx(float(ref), rel=1e-6)


def test_aux_conf_is_ce_at_start_and_differs_later() -> None:
    torch.manual_seed(0)
    logits = torch.randn(50, 2)
    t = torch.rand(50)
    aux = make_loss("aux_conf", 0.75)
    assert float(aux(logits, t, 0.0)) == pytest.approx(float(ce_loss(logits, t)))
    assert float(aux(logits, t, 1.0)) != pytest.approx(float(ce_loss(logits, t)))


def test_weights_change_the_mean() -> None:
    logits = torch.tensor([[0.0, 3.0], [0.0, 3.0]])
    t = torch.tensor([1.0, 0.0])
    w = torch.tensor([1.0, 0.0])
    assert float(ce_loss(logits, t, 0.0, weights=w)) < float(ce_loss(logits, t, 0.0))


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_is_finite_and_trains(name: str) -> None:
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = (x[:, 0] > 0).float()
    lin = torch.nn.Linear(3, 2)
    opt = torch.optim.SGD(lin.parameters(), lr=0.5)
    loss_fn = make_loss(name, 0.5)
    for step in range(60):
        loss = loss_fn(lin(x), y, step / 60)
        assert torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    acc = float(((lin(x)[:, 1] > lin(x)[:, 0]).float() == y).float().mean())
    assert acc > 0.9


def test_unknown_loss() -> None:
    with pytest.raises(ValueError):
        make_loss("mse")
