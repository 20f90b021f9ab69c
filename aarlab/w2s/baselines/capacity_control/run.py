"""Baseline `capacity_control`: a student that cannot fit the weak labels' errors.

Soft weak labels; early stopping when the misfit on held-out weak labels stops falling (both
modes); in probe mode the head also sees only one feature view, the one whose top principal
components agree most with the weak labels (`student_view="auto"`; pca_dim and views restrict the
probe head and do not apply to fine-tuning).
"""

from aarlab.w2s.recipe import run_recipe


def main(ctx):
    recipe = dict(ctx.config)
    if ctx.mode == "probe":
        recipe["student_view"] = "auto"
    run_recipe(ctx, recipe)
