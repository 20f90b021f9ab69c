"""Baseline `weak`: the weak supervisor's own test predictions (weak model + probe on train_label)."""

from aarlab.w2s.weak import weak_predictions


def main(ctx):
    p_u, p_t = weak_predictions(ctx.data_dir, ctx.weak_model, ctx.seed)
    ctx.write_predictions((p_t > 0.5).astype(int).tolist(), (p_u > 0.5).astype(int).tolist())
