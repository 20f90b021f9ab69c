"""The searcher's statistical research policy: Optuna's TPE over the conditional recipe space, decisions
and insights from paired tests on its own per-item predictions.

Proposals. The direction's seed recipes come first; then, while the agent is new to its direction,
TPE trials with the direction's `fixed` components held (Optuna's partial `enqueue_trial`: the rest
is sampled by TPE); then TPE over the whole space (`TPESampler(multivariate=True, group=True)`,
define-by-run: a parameter is suggested only when its switch makes it active, as
`aarlab.w2s.recipe.CONDITIONS` says). Colleagues' competitive results are *replicated*: enqueued as
trials with their exact recipe and run on this agent's seeds, which gives TPE a measurement on the
same footing as its own and the agent per-item predictions to test against (up to `max_replications`:
each costs one of the few evaluations an agent gets in a short run; TPE learns the others' reported PGR).
TPE's objective is the mean public PGR over the agent's seeds.

Statistics (`aarlab.w2s.paired`). Every comparison is a paired test of two runs on the items both were
scored on (McNemar on the public half, from the public accuracies and the two prediction vectors),
checked against the agent's own training-side noise floor (the spread of a recipe's public PGR over
seeds). The floor is measured by replication: a new incumbent is re-run on one more seed of the
task, up to `max_confirms` times. The incumbent changes only when a better-scoring recipe beats it
in that test; after a change, the incumbent's main components are ablated one at a time (back to
the default), up to `ablations` per change. Every pair of own runs that differ in one component
is a candidate insight; one is posted when the paired test rejects "no difference" at `alpha` and
the difference clears the noise floor, never from deltas that merely share a sign.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict
from statistics import mean
from typing import Any

from aar.agents.searcher import space
from aar.agents.searcher.directions import Direction
from aar.agents.searcher.trials import RATIONALE, Insight, Proposal, Trial, effect_key
from aarlab.w2s.paired import PairedTest, noise_sd, paired_test

# what TPE varies from the start besides the direction's focus: the switches with the largest effects
CORE = [
    "label_source",
    "input_labels",
    "feature_view",
    "filter",
    "relabel_dropped",
    "loss",
    "hard_targets",
    "student_view",
]
# the order in which TPE's free components widen beyond those
WIDEN_ORDER = [
    "reweight",
    "filter_keep",
    "aux_alpha",
    "direction_method",
    "channel_prior",
    "feature_dim",
    "rounds",
    "pca_dim",
    "early_stop",
    "l2",
    "epochs",
    "lr",
    "weight_decay",
    "mode",
]
# the components whose ablation says most about a recipe, most telling first
ABLATION_ORDER = [
    "input_labels",  # a composition's claim: does the second stage need the first's labels?
    "label_source",
    "filter",
    "relabel_dropped",
    "loss",
    "reweight",
    "hard_targets",
    "rounds",
    "pca_dim",
    "early_stop",
    "direction_method",
    "channel_prior",
]


def _optuna():  # noqa: ANN202 - the module (imported lazily: the searcher CLI stays light)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


class TpePolicy:
    def __init__(
        self,
        direction: Direction,
        agent: str,
        *,
        rng_seed: int = 0,
        modes: list[str] | None = None,
        seeds: list[int] | None = None,
        extra_seeds: list[int] | None = None,
        n_public: int | None = None,
        n_test: int | None = None,
        alpha: float = 0.01,
        incumbent_alpha: float = 0.05,
        startup: int = 4,
        focus_trials: int = 6,
        max_confirms: int = 1,
        max_replications: int = 1,
        max_compositions: int = 2,
        ablations: int = 1,
        max_ablations: int = 3,
        patience: int = 4,
        widen: int = 3,
    ):
        self.direction, self.agent, self.modes = direction, agent, modes
        self.rng_seed = rng_seed
        self.seeds = [str(s) for s in (seeds or [0])]
        self.extra_seeds = [int(s) for s in (extra_seeds or []) if str(s) not in self.seeds]
        self.n_public, self.n_test = n_public, n_test
        self.alpha, self.incumbent_alpha = alpha, incumbent_alpha
        self.startup, self.focus_trials = startup, focus_trials
        self.max_confirms, self.ablations, self.max_ablations = max_confirms, ablations, max_ablations
        # colleagues' results run again on our seeds: each costs one of the few evaluations an agent gets
        self.max_replications = max_replications
        self.replications = 0
        self.max_compositions = max_compositions
        self.compositions = 0
        self.patience, self.widen = patience, widen
        self.stale_tpe = 0  # TPE trials since the incumbent last changed
        self.wide_level = 0  # how many times the free components widened (never narrows again)
        self.trials: dict[str, Trial] = {}
        self.queue: list[dict] = [
            {
                "recipe": self._fit_modes(s),
                "origin": "seed",
                "reason": f"seed recipe of direction {direction.name}",
            }
            for s in direction.seeds
        ]
        self.incumbent: str | None = None
        self.confirms = 0
        self.tpe_asked = 0
        self.posted: list[str] = []
        self.tried_values: list[str] = []
        self.tested: dict[str, dict] = {}  # insight candidates: effect key -> last test
        self._asked: dict[int, Any] = {}  # TPE trial number -> optuna trial (in flight)
        self.study = self._new_study()

    # -- the TPE study ----------------------------------------------------------------------------

    def _choices(self, comp: str) -> list[Any]:
        if comp == "mode" and self.modes:
            return list(self.modes)
        return space.values(comp)

    def _new_study(self):  # noqa: ANN202
        optuna = _optuna()
        sampler = optuna.samplers.TPESampler(
            seed=self.rng_seed, multivariate=True, group=True, n_startup_trials=self.startup
        )
        return optuna.create_study(direction="maximize", sampler=sampler)

    def _suggest(self, trial: Any) -> dict:
        """Define-by-run: each component in order, when its switches make it active."""
        values: dict[str, Any] = {}
        defaults = space.normalize({})
        for comp in space.COMPONENTS:
            if comp in space.CONDITIONAL and not space.active(comp, {**defaults, **values}):
                continue
            values[comp] = trial.suggest_categorical(comp, self._choices(comp))
        return values

    def params_of(self, recipe: dict) -> dict[str, Any]:
        """The TPE parameters of a recipe: its active components, snapped to the searched values."""
        r = space.normalize(self._fit_modes(recipe))
        if r["mode"] is None:
            r["mode"] = self.modes[0] if self.modes else "probe"
        out = {}
        for comp in space.COMPONENTS:
            if space.active(comp, r):
                v = r[comp] if r[comp] in self._choices(comp) else space.nearest(comp, r[comp])
                out[comp] = v if v in self._choices(comp) else self._choices(comp)[0]
        return out

    def _distributions(self, params: dict[str, Any]) -> dict[str, Any]:
        optuna = _optuna()
        return {c: optuna.distributions.CategoricalDistribution(self._choices(c)) for c in params}

    def _add_finished(self, t: Trial, value: float | None) -> None:
        optuna = _optuna()
        params = t.params or self.params_of(t.recipe)
        t.params = params
        state = optuna.trial.TrialState.COMPLETE if value is not None else optuna.trial.TrialState.FAIL
        self.study.add_trial(
            optuna.trial.create_trial(
                params=params, distributions=self._distributions(params), value=value, state=state
            )
        )

    # -- state ------------------------------------------------------------------------------------

    def to_json(self) -> dict:
        return {
            "kind": "tpe",
            "trials": [asdict(t) for t in self.trials.values()],
            "queue": self.queue,
            "incumbent": self.incumbent,
            "confirms": self.confirms,
            "replications": self.replications,
            "compositions": self.compositions,
            "tpe_asked": self.tpe_asked,
            "stale_tpe": self.stale_tpe,
            "wide_level": self.wide_level,
            "posted": self.posted,
            "tried_values": self.tried_values,
            "tested": self.tested,
        }

    def load_json(self, state: dict) -> None:
        """Resume: the trials and queue come back, and TPE's history is rebuilt by re-adding every
        finished trial to a fresh study (in-flight trials of the crashed process are dropped)."""
        self.trials = {t["key"]: Trial(**t) for t in state["trials"]}
        self.queue = state.get("queue", [])
        self.incumbent = state.get("incumbent")
        self.confirms = state.get("confirms", 0)
        self.replications = state.get("replications", 0)
        self.compositions = state.get("compositions", 0)
        self.tpe_asked = state.get("tpe_asked", 0)
        self.stale_tpe = state.get("stale_tpe", 0)
        self.wide_level = state.get("wide_level", 0)
        self.posted = state.get("posted", [])
        self.tried_values = state.get("tried_values", [])
        self.tested = state.get("tested", {})
        self._asked = {}
        self.study = self._new_study()
        for t in self.trials.values():
            self._add_finished(t, self.value(t) if t.scores else None)

    def _fit_modes(self, recipe: dict) -> dict:
        r = dict(recipe)
        if self.modes and r.get("mode") not in (None, *self.modes):
            r["mode"] = self.modes[0]
        if self.modes and r.get("mode") is None:
            r["mode"] = self.modes[0]
        return r

    # -- what is known ----------------------------------------------------------------------------

    def value(self, t: Trial) -> float | None:
        """Mean public PGR over the agent's own seeds (what TPE maximises); for imports the reported PGR."""
        main = [v for s, v in t.scores.items() if s in self.seeds]
        if main:
            return mean(main)
        return mean(t.scores.values()) if t.scores else None

    def ranked(self, own_only: bool = False) -> list[Trial]:
        done = [
            t
            for t in self.trials.values()
            if self.value(t) is not None and (not own_only or t.agent == self.agent)
        ]
        return sorted(done, key=lambda t: self.value(t) or 0.0, reverse=True)

    def best(self, own_only: bool = False) -> Trial | None:
        r = self.ranked(own_only)
        return r[0] if r else None

    def noise_sd(self) -> float | None:
        """This agent's training-side noise floor: pooled s.d. of a recipe's public PGR across seeds."""
        return noise_sd(t.scores for t in self.trials.values() if t.agent == self.agent and t.runs)

    def noise(self) -> float:
        sd = self.noise_sd()
        return 0.01 if sd is None else max(0.005, sd)

    def compare(self, a: Trial, b: Trial, alpha: float | None = None) -> PairedTest | None:
        if self.n_public is None or self.n_test is None:
            return None
        return paired_test(
            a.runs,
            b.runs,
            self.n_public,
            self.n_test,
            self.noise_sd(),
            self.alpha if alpha is None else alpha,
        )

    # -- proposing --------------------------------------------------------------------------------

    def propose(self) -> Proposal | None:
        while self.queue:
            item = self.queue.pop(0)
            p = self._from_queue(item)
            if p is not None:
                return self._finish(p)
        for _ in range(30):
            p = self._ask()
            if p is not None:
                return self._finish(p)
        return None

    def _from_queue(self, item: dict) -> Proposal | None:
        recipe = space.normalize(item["recipe"])
        k = space.key(recipe)
        parent = self.trials.get(item.get("parent") or "")
        if item["origin"] == "confirm":
            t = self.trials.get(k)
            seeds = item.get("seeds") or []
            if t is None or not seeds or str(seeds[0]) in t.scores:
                return None
            return Proposal(recipe, "confirm", item["reason"], parent=t, seeds=seeds)
        if k in self.trials and self.trials[k].agent == self.agent:
            return None
        if item["origin"] == "compose":
            self.compositions += 1
        changes = {c: list(ab) for c, ab in space.diff(parent.recipe, recipe).items()} if parent else {}
        p = Proposal(recipe, item["origin"], item["reason"], parent=parent, changes=changes)
        return self._tpe_fixed(p, self.params_of(recipe))

    def _tpe_fixed(self, p: Proposal, params: dict[str, Any]) -> Proposal:
        """Run `p` as a TPE trial with all its parameters fixed (enqueued), so TPE learns from it."""
        self.study.enqueue_trial(params, skip_if_exists=False)
        trial = self.study.ask()
        self._suggest(trial)
        self._asked[trial.number] = trial
        p.tpe_number = trial.number
        return p

    def free_components(self) -> list[str]:
        """What TPE varies now: the direction's focus and the CORE switches, widened by `widen` components
        (in WIDEN_ORDER) each time `patience` TPE trials pass without a new incumbent; all in the end."""
        free = list(dict.fromkeys([c for c in self.direction.focus if c in space.COMPONENTS] + CORE))
        extra = [c for c in WIDEN_ORDER if c not in free] + [
            c for c in space.COMPONENTS if c not in free and c not in WIDEN_ORDER
        ]
        self.wide_level = max(self.wide_level, self.stale_tpe // self.patience)
        return free + extra[: self.widen * self.wide_level]

    def _ask(self) -> Proposal | None:
        """A TPE trial around the incumbent: components outside `free_components()` are held at the
        incumbent's values (Optuna's partial `enqueue_trial`; the rest is TPE's to choose)."""
        direction_fixed = {
            c: v for c, v in self.direction.fixed.items() if c in space.COMPONENTS and v in self._choices(c)
        }
        focus = bool(direction_fixed) and self.tpe_asked < self.focus_trials
        base_t = self.trials.get(self.incumbent or "") or self.best()
        base = space.normalize(self._fit_modes(base_t.recipe if base_t else {}))
        if base["mode"] is None:
            base["mode"] = self._choices("mode")[0]
        free = set(self.free_components())
        fixed = {
            c: (base[c] if base[c] in self._choices(c) else space.nearest(c, base[c]))
            for c in space.COMPONENTS
            if c not in free
        }
        fixed = {c: v for c, v in fixed.items() if v in self._choices(c)}
        if focus:
            fixed.update(direction_fixed)
        self.study.enqueue_trial(fixed, skip_if_exists=False)
        trial = self.study.ask()
        recipe = space.normalize(self._suggest(trial))
        self.tpe_asked += 1
        self.stale_tpe += 1
        k = space.key(recipe)
        known = self.trials.get(k)
        if known is not None:  # TPE asked for a known recipe: tell it what we know and ask again
            if known.scores:
                self.study.tell(trial, self.value(known))
            else:
                self.study.tell(trial, state=_optuna().trial.TrialState.FAIL)
            return None
        self._asked[trial.number] = trial
        name = (base_t.idea or f"{base_t.agent}'s result") if base_t else ""
        around = f"around {name}" if base_t else "from the defaults"
        held = f", holding {json.dumps(direction_fixed)} of direction {self.direction.name}" if focus else ""
        why = f"TPE over {', '.join(sorted(free & set(space.COMPONENTS)))} {around}{held}"
        return Proposal(recipe, "tpe", why, tpe_number=trial.number)

    def _finish(self, p: Proposal) -> Proposal:
        started = any(t.agent == self.agent for t in self.trials.values())
        if p.origin == "seed" and not started and p.hypothesis is None:
            p.hypothesis = f"Direction {self.direction.name}: {self.direction.text}"
        tags = [
            f"{c}={v}"
            for c, v in space.normalize(p.recipe).items()
            if c in space.CATEGORICAL and space.active(c, p.recipe)
        ]
        new = [t for t in tags if t not in self.tried_values and t in RATIONALE]
        if new and p.hypothesis is None and p.origin != "confirm":
            why = "; ".join(f"{t}: {RATIONALE[t]}" for t in new)
            p.hypothesis = f"Trying {', '.join(new)} ({p.reason}). Hypothesis: {why}."
        self.tried_values.extend(t for t in tags if t not in self.tried_values)
        return p

    # -- learning ---------------------------------------------------------------------------------

    def record(
        self,
        p: Proposal,
        scores: dict[str, float],
        *,
        idea: str,
        finding_id: int | None = None,
        snapshot_id: str | None = None,
        accuracy: dict[str, float] | None = None,
        preds: dict[str, str] | None = None,
    ) -> Trial:
        runs = {
            s: {"pgr": scores[s], "accuracy": (accuracy or {}).get(s), "preds": (preds or {}).get(s)}
            for s in scores
        }
        k = space.key(p.recipe)
        if p.origin == "confirm" and k in self.trials:
            t = self.trials[k]
            t.scores.update(scores)
            t.runs.update(runs)
            self.confirms += 1
            return t
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
            runs,
            self.params_of(p.recipe),
        )
        self.trials[k] = t
        self._tell(p, self.value(t))
        self._update_incumbent(t)
        self._compose()
        return t

    def _tell(self, p: Proposal, value: float | None) -> None:
        trial = self._asked.pop(p.tpe_number, None) if p.tpe_number is not None else None
        if trial is None:
            return
        if value is None:
            self.study.tell(trial, state=_optuna().trial.TrialState.FAIL)
        else:
            self.study.tell(trial, value)

    def failed(self, p: Proposal, idea: str, error: str) -> None:
        """Remember a failed idea so it is not proposed again (TPE is told it failed)."""
        k = space.key(p.recipe)
        if p.origin == "confirm" and k in self.trials:
            self.confirms += 1  # do not retry a failed replication
            return
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
            params=self.params_of(p.recipe),
        )
        self._tell(p, None)

    def _update_incumbent(self, t: Trial) -> None:
        inc = self.trials.get(self.incumbent or "")
        if inc is None:
            self._set_incumbent(t, None)
            return
        vt, vi = self.value(t), self.value(inc)
        if vt is None or vi is None or vt <= vi:
            return
        test = self.compare(t, inc, self.incumbent_alpha)
        if test is None or test.significant:
            self._set_incumbent(t, inc)

    def _set_incumbent(self, t: Trial, previous: Trial | None) -> None:
        self.incumbent = t.key
        self.stale_tpe = 0
        queued = sum(1 for q in self.queue if q["origin"] == "confirm")
        if self.extra_seeds and self.confirms + queued < self.max_confirms:
            seed = next((s for s in self.extra_seeds if str(s) not in t.scores), None)
            if seed is not None:
                self.queue.insert(
                    0,
                    {
                        "recipe": t.recipe,
                        "origin": "confirm",
                        "seeds": [seed],
                        "reason": f"replicate the new incumbent {t.idea} on seed {seed}: "
                        "measures this agent's noise floor",
                    },
                )
        defaults = space.normalize({})
        done = 0
        queued = sum(1 for t in self.trials.values() if t.origin == "ablate") + sum(
            1 for q in self.queue if q["origin"] == "ablate"
        )
        for comp in ABLATION_ORDER:
            if done >= self.ablations or queued + done >= self.max_ablations:
                break
            if not space.active(comp, t.recipe) or t.recipe.get(comp) == defaults.get(comp):
                continue
            child = space.mutate(t.recipe, comp, defaults[comp])
            if space.key(child) in self.trials:
                continue
            self.queue.append(
                {
                    "recipe": child,
                    "origin": "ablate",
                    "parent": t.key,
                    "reason": f"ablate {comp} of the incumbent {t.idea} (back to {defaults[comp]!r})",
                }
            )
            done += 1

    def note(self, t: Trial) -> str:
        """How `t` compares with the incumbent it was tested against (for the result's body)."""
        inc = self.trials.get(self.incumbent or "")
        if inc is None:
            return ""
        if inc.key == t.key:
            return "This is the agent's incumbent (best recipe by paired test)."
        test = self.compare(t, inc, self.incumbent_alpha)
        if test is None:
            return ""
        verdict = (
            "better"
            if test.significant and test.direction > 0
            else ("worse" if test.significant else "not distinguishable")
        )
        return f"Against the incumbent {inc.idea}: {verdict}; {test.describe()}."

    def absorb(
        self,
        recipe: dict,
        pgr: float,
        agent: str,
        finding_id: int | None,
        snapshot_id: str | None,
        build_margin: float = 0.05,
    ) -> Trial | None:
        """Take in a colleague's result: TPE learns its reported PGR, and a competitive one is queued
        for replication on this agent's seeds (then TPE also has our own measurement of it)."""
        try:
            r = space.normalize(self._fit_modes(recipe))
            k = space.key(r)
        except ValueError:
            return None
        if k in self.trials:
            return None
        t = Trial(
            k,
            r,
            "import",
            agent,
            scores={"reported": float(pgr)},
            finding_id=finding_id,
            snapshot_id=snapshot_id,
            reason=f"result of {agent}",
            params=self.params_of(r),
        )
        self.trials[k] = t
        self._add_finished(t, float(pgr))  # TPE learns the reported score at once
        own = self.best(own_only=True)
        competitive = own is None or (self.value(own) or 0.0) - build_margin <= pgr
        if competitive and self.replications < self.max_replications:
            self.replications += 1
            # after our direction's own seed recipes: an agent tries its direction before a colleague's
            at = sum(1 for q in self.queue if q["origin"] == "seed")
            self.queue.insert(
                at,
                {
                    "recipe": r,
                    "origin": "replicate",
                    "parent": k,
                    "reason": f"replicate {agent}'s result (reported PGR {pgr:.3f}) on our seeds",
                },
            )
        self._compose()
        return t

    def _compose(self) -> None:
        """Queue a composition of two strong-structure families: the second (icm or knn) run on the
        labels of the first instead of the weak labels (`space.compose`), from the best plain recipe of
        each family known so far (own or a colleague's), the pair with the highest summed PGR, both above
        the weak supervisor. One waits in the queue at a time, replaced when a better pair turns up before
        it runs; up to `max_compositions` run. TPE cannot reach these by one-factor moves from either
        parent, since the input's parameters only matter once `input_labels` names it."""
        if self.compositions >= self.max_compositions:
            return
        self.queue = [q for q in self.queue if q["origin"] != "compose"]
        best: dict[str, Trial] = {}
        for t in self.ranked():
            r = t.recipe
            if space.plain(r) and r["label_source"] in space.FIRST_STAGES:
                best.setdefault(r["label_source"], t)
        queued = {space.key(q["recipe"]) for q in self.queue}
        pairs = []
        for a in best.values():
            for b in best.values():
                child = space.compose(a.recipe, b.recipe)
                va, vb = self.value(a) or 0.0, self.value(b) or 0.0
                if child is None or va <= 0 or vb <= 0:
                    continue
                k = space.key(child)
                if k not in self.trials and k not in queued:
                    pairs.append((va + vb, a, b, child))
        if not pairs:
            return
        _, a, b, child = max(pairs, key=lambda x: x[0])
        at = sum(1 for q in self.queue if q["origin"] in ("seed", "confirm", "replicate"))
        self.queue.insert(
            at,
            {
                "recipe": child,
                "origin": "compose",
                "parent": b.key,
                "reason": f"compose: {b.recipe['label_source']} ({b.idea or b.agent}, "
                f"PGR {self.value(b):.3f}) on the labels of {a.recipe['label_source']} "
                f"({a.idea or a.agent}, PGR {self.value(a):.3f})",
            },
        )

    @property
    def pending_builds(self) -> list[str]:
        return [q.get("parent") for q in self.queue if q["origin"] == "replicate"]

    # -- insights ---------------------------------------------------------------------------------

    def _one_factor_pairs(self) -> list[tuple[Trial, Trial, str]]:
        own = [t for t in self.trials.values() if t.agent == self.agent and t.runs]
        canon = {t.key: json.loads(t.key) for t in own}
        out = []
        for i, a in enumerate(own):
            for b in own[i + 1 :]:
                ka, kb = canon[a.key], canon[b.key]
                d = {f for f in ka if ka[f] != kb[f]}
                main = [c for c in d if not space.switches(c) & d]
                if len(main) == 1:
                    out.append((a, b, main[0]))
        return out

    def new_insights(self) -> list[Insight]:
        out = []
        pairs = self._one_factor_pairs()
        for a, b, comp in pairs:
            test = self.compare(b, a)
            if test is None:
                continue
            va, vb = a.recipe.get(comp), b.recipe.get(comp)
            ek = effect_key(comp, va, vb) if test.direction >= 0 else effect_key(comp, vb, va)
            self.tested[ek] = {"a": a.idea, "b": b.idea, **test.to_json()}
            if ek in self.posted or not test.significant or test.floor is None:
                continue
            self.posted.append(ek)
            hi, lo = (b, a) if test.direction > 0 else (a, b)
            size = abs(test.delta_pgr)
            body = (
                f"Changing `{comp}` from `{lo.recipe.get(comp)!r}` to `{hi.recipe.get(comp)!r}` raises the "
                f"public PGR by {size:.3f} (`{lo.idea}` → `{hi.idea}`, which differ in `{comp}` only).\n\n"
                f"Paired test on the items both runs were scored on: {test.describe()}. "
                f"Significant at alpha {test.alpha} (this agent has tested {len(self.tested)} such "
                "one-factor "
                f"effects so far; read the p-value with that in mind).\n\n"
                f"`{hi.idea}`: `{json.dumps(space.compact(hi.recipe))}`\n`{lo.idea}`: "
                f"`{json.dumps(space.compact(lo.recipe))}`"
            )
            out.append(
                Insight(
                    ek,
                    f"{comp}: {lo.recipe.get(comp)!r} → {hi.recipe.get(comp)!r} "
                    f"+{size:.3f} PGR (p={test.p_item:.2g})",
                    body,
                    {
                        "effect": round(size, 4),
                        "p_value": float(f"{test.p_item:.3g}"),
                        "n": float(len(test.seeds)),
                        "discordant": round(test.discordant, 1),
                    },
                )
            )
        return out
