"""The searcher's research policy: which recipe to try next, and what the evaluations so far teach.

It starts from its direction's seed recipes, then iterates: mutate one component of a strong recipe
(its own best or a colleague's imported from the forum), or combine two good recipes. Each evaluated
child that differs from its parent in one component gives one measured effect per seed; a component
change whose effect has the same sign on every measurement (at least `min_effect_n` of them) and a
mean of at least `effect_threshold` PGR becomes an insight. A new direction (a component value this
agent has not tried) is announced as a hypothesis before it is tried.
"""

from __future__ import annotations

import random
from dataclasses import asdict
from statistics import mean, median
from typing import Any

from aar.agents.searcher import space
from aar.agents.searcher.directions import Direction
from aar.agents.searcher.trials import RATIONALE, Insight, Proposal, Trial, effect_key

__all__ = ["RATIONALE", "Insight", "Policy", "Proposal", "Trial", "effect_key"]


class Policy:
    def __init__(
        self,
        direction: Direction,
        agent: str,
        *,
        rng_seed: int = 0,
        modes: list[str] | None = None,
        min_effect_n: int = 2,
        effect_threshold: float = 0.02,
        combine_prob: float = 0.15,
        explore_prob: float = 0.15,
        pair_prob: float = 0.25,
    ):
        self.direction = direction
        self.agent = agent
        self.rng = random.Random(rng_seed)
        self.modes = modes
        self.min_effect_n = min_effect_n
        self.effect_threshold = effect_threshold
        self.combine_prob = combine_prob
        self.explore_prob = explore_prob
        self.pair_prob = pair_prob
        self.trials: dict[str, Trial] = {}
        self.effects: dict[str, list[dict]] = {}
        self.posted: list[str] = []  # effect keys already posted as insights
        self.tried_values: list[str] = []  # "component=value" this agent has tried
        self.pending_seeds = [self._fit_modes(s) for s in direction.seeds]
        self.pending_builds: list[str] = []  # keys of imported trials to build on next

    # -- state ------------------------------------------------------------------------------------

    def to_json(self) -> dict:
        return {
            "trials": [asdict(t) for t in self.trials.values()],
            "effects": self.effects,
            "posted": self.posted,
            "tried_values": self.tried_values,
            "pending_seeds": self.pending_seeds,
            "pending_builds": self.pending_builds,
            "rng": list(self.rng.getstate()[1]) + [self.rng.getstate()[2]],
        }

    def load_json(self, state: dict) -> None:
        self.trials = {t["key"]: Trial(**t) for t in state["trials"]}
        self.effects = state["effects"]
        self.posted = state["posted"]
        self.tried_values = state["tried_values"]
        self.pending_seeds = state["pending_seeds"]
        self.pending_builds = state["pending_builds"]
        rng = state.get("rng")
        if rng:
            self.rng.setstate((3, tuple(rng[:-1]), rng[-1]))

    def _fit_modes(self, recipe: dict) -> dict:
        r = dict(recipe)
        if self.modes and r.get("mode") not in (None, *self.modes):
            r["mode"] = self.modes[0]
        return r

    # -- what is known ----------------------------------------------------------------------------

    def ranked(self, own_only: bool = False) -> list[Trial]:
        done = [
            t for t in self.trials.values() if t.score is not None and (not own_only or t.agent == self.agent)
        ]
        return sorted(done, key=lambda t: t.score or 0.0, reverse=True)

    def best(self, own_only: bool = False) -> Trial | None:
        r = self.ranked(own_only)
        return r[0] if r else None

    def noise(self) -> float:
        """How far apart two scores must be to count as different: twice the typical standard error of a
        mean over seeds (from this agent's own repeated seeds), at least 0.005; 0.01 before any estimate."""
        ses = []
        for t in self.trials.values():
            v = list(t.scores.values())
            if len(v) >= 2 and t.agent == self.agent:
                m = mean(v)
                ses.append((sum((x - m) ** 2 for x in v) / (len(v) - 1) / len(v)) ** 0.5)
        return max(0.005, 2 * median(ses)) if ses else 0.01

    def stale(self) -> int:
        """Own evaluations since the best score last improved by more than the noise."""
        own = [t for t in self.trials.values() if t.agent == self.agent and t.score is not None]
        best, since, tol = None, 0, self.noise()
        for t in own:
            if best is None or (t.score or 0.0) > best + tol:
                best, since = t.score, 0
            else:
                since += 1
        return since

    def incumbent(self) -> Trial:
        """The recipe to explore around: among those within noise of the best score, the earliest (whose
        neighbourhood is explored most), so a lucky draw of a neutral tweak does not restart the search."""
        ranked = self.ranked()
        top = ranked[0].score or 0.0
        tol = self.noise()
        order = list(self.trials)
        return min((t for t in ranked if (t.score or 0.0) >= top - tol), key=lambda t: order.index(t.key))

    def absorb(
        self,
        recipe: dict,
        pgr: float,
        agent: str,
        finding_id: int | None,
        snapshot_id: str | None,
        build_margin: float = 0.05,
    ) -> Trial | None:
        """Take in a colleague's result; queue it to build on when it is competitive with ours."""
        try:
            k = space.key(self._fit_modes(recipe))
        except ValueError:
            return None
        if k in self.trials:
            return None
        t = Trial(
            k,
            space.normalize(recipe),
            "import",
            agent,
            scores={"reported": float(pgr)},
            finding_id=finding_id,
            snapshot_id=snapshot_id,
            reason=f"result of {agent}",
        )
        self.trials[k] = t
        own = self.best(own_only=True)
        if own is None or own.score is None or pgr >= own.score - build_margin:
            self.pending_builds.append(k)
        return t

    # -- proposing --------------------------------------------------------------------------------

    def propose(self) -> Proposal | None:
        """Next idea: the direction's first seed; then a colleague's competitive result to build on, as soon
        as one arrives; the remaining seeds; then mutations and combinations of the best known recipes."""
        started = any(t.agent == self.agent for t in self.trials.values())
        while started and self.pending_builds:
            base = self.trials.get(self.pending_builds.pop(0))
            if base is not None:
                p = self._build_on(base)
                if p is not None:
                    return self._finish(p)
        while self.pending_seeds:
            seed = self.pending_seeds.pop(0)
            if space.key(seed) in self.trials:
                continue
            hyp = None if started else f"Direction {self.direction.name}: {self.direction.text}"
            return self._finish(
                Proposal(seed, "seed", f"seed recipe of direction {self.direction.name}", hypothesis=hyp)
            )
        while self.pending_builds:
            base = self.trials.get(self.pending_builds.pop(0))
            if base is not None:
                p = self._build_on(base)
                if p is not None:
                    return self._finish(p)
        ranked = self.ranked()
        if not ranked:
            return None
        for _ in range(50):
            r = self.rng.random()
            explore = min(0.6, self.explore_prob + 0.05 * self.stale())  # explore more on a plateau
            if r < explore:
                p = self._explore()
            elif r < explore + self.combine_prob and len(ranked) >= 2:
                p = self._combine(ranked[0], ranked[1])
            else:
                parent = self.incumbent() if self.rng.random() < 0.7 else self.rng.choice(ranked[:3])
                p = self._mutate(parent)
                if p is not None and self.rng.random() < self.pair_prob:  # a second change: interactions
                    second = self._mutate(Trial(space.key(p.recipe), p.recipe, "mutate", self.agent))
                    if second is not None and space.key(second.recipe) not in self.trials:
                        changes = {c: list(ab) for c, ab in space.diff(parent.recipe, second.recipe).items()}
                        p = Proposal(
                            second.recipe,
                            "mutate",
                            f"{p.reason} and {second.reason.split()[1]} together",
                            parent,
                            changes,
                        )
            if p is not None:
                return self._finish(p)
        return None

    def _explore(self) -> Proposal | None:
        """A random recipe from the whole space: keeps the search from only polishing one region."""
        r: dict[str, Any] = {c: self.rng.choice(v) for c, v in space.CATEGORICAL.items() if c != "mode"}
        r.update({c: self.rng.choice(g) for c, g in space.GRIDS.items()})
        r["mode"] = self.rng.choice(self.modes or space.CATEGORICAL["mode"])
        r = space.normalize(r)
        if space.key(r) in self.trials:
            return None
        return Proposal(r, "explore", "explore an untested region of the recipe space")

    def _finish(self, p: Proposal) -> Proposal:
        new_values = []
        for comp, (_, new) in p.changes.items():
            tag = f"{comp}={new}"
            if comp in space.CATEGORICAL and tag not in self.tried_values:
                new_values.append(tag)
        if p.origin == "seed":
            for comp in space.CATEGORICAL:
                v = space.normalize(p.recipe)[comp]
                tag = f"{comp}={v}"
                if tag not in self.tried_values:
                    self.tried_values.append(tag)
        if new_values and p.hypothesis is None:
            why = "; ".join(f"{t}: {RATIONALE.get(t, 'untested here')}" for t in new_values)
            base = ""
            if p.parent is not None and p.parent.score is not None:
                who = "our" if p.parent.agent == self.agent else f"{p.parent.agent}'s"
                name = p.parent.idea or p.parent.snapshot_id
                base = f" on top of {who} recipe {name} (PGR {p.parent.score:.3f})"
            p.hypothesis = f"Trying {', '.join(new_values)}{base}. Hypothesis: {why}."
        self.tried_values.extend(t for t in new_values if t not in self.tried_values)
        return p

    def _prefer(self) -> list[str]:
        good = [
            k.split("=")[0].split(" ")[0]
            for k, v in self.effects.items()
            if v and mean(e["delta"] for e in v) > 0
        ]
        return list(dict.fromkeys(self.direction.focus + good))

    def _mutate(self, parent: Trial) -> Proposal | None:
        """Vary one component of `parent`: components not yet varied from it come first (a coordinate
        search around the best recipes), weighted towards the direction's focus and components that helped."""
        tried: dict[str, int] = {}
        for t in self.trials.values():
            if t.parent == parent.key:
                for c in t.changes:
                    tried[c] = tried.get(c, 0) + 1
        prefer = self._prefer()
        options: list[tuple[str, list[dict], float]] = []
        for comp in space.COMPONENTS:
            if not space.active(comp, parent.recipe) or (
                comp == "mode" and self.modes and len(self.modes) < 2
            ):
                continue
            values = space.neighbours(comp, parent.recipe, self.modes, wide=self.rng.random() < 0.3)
            fresh = [
                c for v in values if space.key(c := space.mutate(parent.recipe, comp, v)) not in self.trials
            ]
            if not fresh:
                continue
            w = (2.0 if comp in prefer else 1.0) * (3.0 if comp in space.CATEGORICAL else 1.0)
            untried = max(0, len(values) - tried.get(comp, 0)) / len(values)
            options.append((comp, fresh, w * (0.1 + untried)))
        if not options:
            return None
        comp, fresh, _ = self.rng.choices(options, weights=[o[2] for o in options])[0]
        child = self.rng.choice(fresh)
        changes = {c: list(ab) for c, ab in space.diff(parent.recipe, child).items()}
        return Proposal(child, "mutate", f"mutate {comp} of a top recipe", parent, changes)

    def _combine(self, a: Trial, b: Trial) -> Proposal | None:
        diff = space.diff(a.recipe, b.recipe)
        d = [c for c in diff if not space.switches(c) & set(diff)]  # parameters come with their switch
        if not d:
            return None
        take = [c for c in d if self.rng.random() < 0.5] or [self.rng.choice(d)]
        child = space.combine(a.recipe, b.recipe, take)
        if space.key(child) in self.trials:
            return None
        changes = {c: list(ab) for c, ab in space.diff(a.recipe, child).items()}
        return Proposal(
            child, "combine", f"combine the two best recipes (take {', '.join(take)})", a, changes
        )

    def _build_on(self, base: Trial) -> Proposal | None:
        """Build on an imported recipe: add what works in ours, or vary one of our focus components."""
        own = self.best(own_only=True)
        if own is not None:
            diff = space.diff(base.recipe, own.recipe)
            d = [c for c in diff if not space.switches(c) & set(diff)]
            focus = [c for c in d if c in self._prefer()] or d
            if focus:
                comp = self.rng.choice(focus)
                child = space.combine(base.recipe, own.recipe, [comp])
                if space.key(child) not in self.trials:
                    changes = {c: list(ab) for c, ab in space.diff(base.recipe, child).items()}
                    return Proposal(
                        child,
                        "build",
                        f"build on {base.agent}'s result: add {comp} from our best",
                        base,
                        changes,
                    )
        for _ in range(10):
            p = self._mutate(base)
            if p is not None:
                p.origin, p.reason = "build", f"build on {base.agent}'s result: {p.reason.split(' of ')[0]}"
                return p
        return None

    # -- learning ---------------------------------------------------------------------------------

    def record(
        self,
        p: Proposal,
        scores: dict[str, float],
        *,
        idea: str,
        finding_id: int | None = None,
        snapshot_id: str | None = None,
        accuracy: dict[str, float] | None = None,  # the TPE policy's statistics use these; this one does not
        preds: dict[str, str] | None = None,
    ) -> Trial:
        k = space.key(p.recipe)
        t = Trial(
            k,
            space.normalize(p.recipe),
            p.origin,
            self.agent,
            p.parent.key if p.parent else None,
            p.changes,
            dict(scores),
            finding_id,
            snapshot_id,
            idea,
            p.reason,
        )
        self.trials[k] = t
        parent = p.parent
        main = {
            c: ab
            for c, ab in p.changes.items()
            if not space.switches(c) & set(p.changes)
        }
        if parent is not None and len(main) == 1 and parent.scores:
            ((comp, (old, new)),) = main.items()
            ek = effect_key(comp, old, new)
            shared = [s for s in scores if s in parent.scores]
            pairs = [(s, scores[s] - parent.scores[s]) for s in shared] or [
                ("mean", (t.score or 0.0) - (parent.score or 0.0))
            ]
            for s, delta in pairs:
                self.effects.setdefault(ek, []).append(
                    {
                        "delta": delta,
                        "seed": s,
                        "from": old,
                        "to": new,
                        "idea": idea,
                        "parent_agent": parent.agent,
                    }
                )
        return t

    def failed(self, p: Proposal, idea: str, error: str) -> None:
        """Remember a failed idea so it is not proposed again."""
        k = space.key(p.recipe)
        self.trials[k] = Trial(
            k,
            space.normalize(p.recipe),
            p.origin,
            self.agent,
            p.parent.key if p.parent else None,
            p.changes,
            {},
            idea=idea,
            reason=f"failed: {error[:200]}",
        )

    def new_insights(self) -> list[Insight]:
        out = []
        for ek, es in self.effects.items():
            deltas = [e["delta"] for e in es]
            if ek in self.posted or len(deltas) < self.min_effect_n:
                continue
            m = mean(deltas)
            same_sign = all(d > 0 for d in deltas) or all(d < 0 for d in deltas)
            if not same_sign or abs(m) < self.effect_threshold:
                continue
            self.posted.append(ek)
            verdict = "helps" if m > 0 else "hurts"
            seeds = sorted({str(e["seed"]) for e in es})
            lines = [
                f"- {e['from']} → {e['to']} in `{e['idea']}` (seed {e['seed']}): {e['delta']:+.3f} PGR"
                for e in es
            ]
            body = (
                f"Changing `{ek}` {verdict} consistently: mean {m:+.3f} public PGR over {len(deltas)} "
                f"paired measurements (seeds {', '.join(seeds)}), every one with the same sign.\n\n"
                + "\n".join(lines)
            )
            out.append(
                Insight(
                    ek,
                    f"{ek} {verdict}: {m:+.3f} PGR (n={len(deltas)})",
                    body,
                    {"effect": round(m, 4), "n": float(len(deltas))},
                )
            )
        return out
