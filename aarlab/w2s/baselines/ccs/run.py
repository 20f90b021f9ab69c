"""A W2S recipe idea: the recipe is config.json (see aarlab.w2s.recipe.Recipe)."""

from aarlab.w2s.recipe import run_recipe


def main(ctx):
    run_recipe(ctx, ctx.config)
