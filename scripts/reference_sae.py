#!/usr/bin/env python3
"""Golden values for saed's training maths, computed with NumPy in float64.

Scope: one small sparse autoencoder per case, the forward loss, its gradients, and three
optimiser steps on one fixed batch. Nothing else of saed is modelled: no shuffling, no
epochs, no data files. The formulas are written out independently of the Swift code so the
two can check each other.

Each case writes Tests/SAECoreTests/Fixtures/<name>.json holding the inputs (configuration,
options, float32 weights and batch) and the expected outputs. Run from the repository root:

    python3 scripts/reference_sae.py

Shapes: x is B x D, W_enc is D x H, b_enc is H, W_dec is H x D, b_dec is D (row-major).
"""

import json
import pathlib

import numpy as np

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "SAECoreTests" / "Fixtures"
KL_CLAMP = 1e-6
STEPS = 3


# ---------------------------------------------------------------------------- activations

def activate(kind, z):
    if kind == "relu":
        return np.maximum(z, 0.0)
    if kind == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    return z


def activation_slope(kind, y):
    """d act / d z, written in terms of the output y = act(z)."""
    if kind == "relu":
        return (y > 0).astype(np.float64)
    if kind == "sigmoid":
        return y * (1.0 - y)
    return np.ones_like(y)


def top_k_mask(z, k):
    """1 for the k largest entries of each row (earlier index wins ties), else 0."""
    mask = np.zeros_like(z)
    for row in range(z.shape[0]):
        order = np.argsort(-z[row], kind="stable")
        mask[row, order[:k]] = 1.0
    return mask


# ---------------------------------------------------------------------- loss and gradients

def loss_and_gradients(params, x, case):
    w_enc, b_enc, w_dec, b_dec = params
    config, options = case["config"], case["options"]
    sparsity = options["sparsity"]
    rows = x.shape[0]

    # Forward.
    z = x @ w_enc + b_enc
    mask = None
    if sparsity["kind"] == "topk":
        mask = top_k_mask(z, sparsity["k"])
        z = z * mask
    h = activate(config["activation"], z)
    logits = h @ w_dec + b_dec
    count = logits.size

    # Reconstruction and d loss / d logits.
    if options["reconstruction"] == "mse":
        out = activate(config["decoderActivation"], logits)
        reconstruction = np.mean((out - x) ** 2)
        d_logits = 2.0 * (out - x) / count * activation_slope(config["decoderActivation"], out)
    else:
        terms = np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
        reconstruction = np.mean(terms)
        d_logits = (1.0 / (1.0 + np.exp(-logits)) - x) / count

    # Sparsity and its d / d h.
    d_h_sparsity = np.zeros_like(h)
    penalty = 0.0
    if sparsity["kind"] == "l1":
        weight = sparsity["beta"] / (rows if sparsity["reduction"] == "mean" else 1)
        penalty = weight * np.sum(np.abs(h))
        d_h_sparsity = weight * np.sign(h)
    elif sparsity["kind"] == "kl":
        rho = sparsity["rho"]
        raw = h.mean(axis=0)
        rho_hat = np.clip(raw, KL_CLAMP, 1 - KL_CLAMP)
        kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
        penalty = sparsity["beta"] * np.sum(kl)
        slope = -rho / rho_hat + (1 - rho) / (1 - rho_hat)
        slope = np.where((raw >= KL_CLAMP) & (raw <= 1 - KL_CLAMP), slope, 0.0)
        d_h_sparsity = np.broadcast_to(sparsity["beta"] * slope / rows, h.shape)

    # Backward.
    d_w_dec = h.T @ d_logits
    d_b_dec = d_logits.sum(axis=0)
    d_h = d_logits @ w_dec.T + d_h_sparsity
    d_z = d_h * activation_slope(config["activation"], h)
    if mask is not None:
        d_z = d_z * mask
    d_w_enc = x.T @ d_z
    d_b_enc = d_z.sum(axis=0)

    losses = {"reconstruction": reconstruction, "sparsity": penalty}
    return losses, (d_w_enc, d_b_enc, d_w_dec, d_b_dec)


# ------------------------------------------------------------------------------ optimisers

def adam_steps(options):
    lr, b1, b2 = options["learningRate"], options["beta1"], options["beta2"]
    eps, decay = options["epsilon"], options["weightDecay"]
    state = {"t": 0, "m": None, "v": None}

    def step(params, grads):
        if state["m"] is None:
            state["m"] = [np.zeros_like(p) for p in params]
            state["v"] = [np.zeros_like(p) for p in params]
        state["t"] += 1
        t = state["t"]
        step_size = lr / (1 - b1 ** t)
        correction2_root = np.sqrt(1 - b2 ** t)
        updated = []
        for i, (p, g) in enumerate(zip(params, grads)):
            if decay != 0:
                g = g + decay * p
            state["m"][i] = b1 * state["m"][i] + (1 - b1) * g
            state["v"][i] = b2 * state["v"][i] + (1 - b2) * g * g
            denom = np.sqrt(state["v"][i]) / correction2_root + eps
            updated.append(p - step_size * state["m"][i] / denom)
        return updated

    return step


def sgd_steps(options):
    lr, mu = options["learningRate"], options["momentum"]
    dampening, nesterov, decay = options["dampening"], options["nesterov"], options["weightDecay"]
    buffers = []

    def step(params, grads):
        updated = []
        for i, (p, g) in enumerate(zip(params, grads)):
            if decay != 0:
                g = g + decay * p
            if mu != 0:
                if len(buffers) <= i:
                    buffers.append(g.copy())
                else:
                    buffers[i] = mu * buffers[i] + (1 - dampening) * g
                g = g + mu * buffers[i] if nesterov else buffers[i]
            updated.append(p - lr * g)
        return updated

    return step


# ----------------------------------------------------------------------------------- cases

def options(**overrides):
    base = {
        "epochs": STEPS, "batchSize": 5, "learningRate": 0.01, "beta1": 0.9, "beta2": 0.999,
        "epsilon": 1e-8, "weightDecay": 0.0, "seed": 0, "shuffle": False,
        "sparsity": {"kind": "none", "beta": 0.0, "reduction": "sum", "rho": 0.05, "k": 1},
        "reconstruction": "mse", "optimizer": "adam", "momentum": 0.0, "dampening": 0.0,
        "nesterov": False,
    }
    base.update(overrides)
    return base


CASES = [
    {
        "name": "l1_mse_relu",
        "config": {"activation": "relu", "decoderActivation": "relu"},
        "options": options(sparsity={"kind": "l1", "beta": 0.01, "reduction": "sum",
                                     "rho": 0.05, "k": 1}),
    },
    {
        "name": "kl_mse_sigmoid",
        "config": {"activation": "sigmoid", "decoderActivation": "sigmoid"},
        "options": options(sparsity={"kind": "kl", "beta": 0.5, "reduction": "sum",
                                     "rho": 0.1, "k": 1}),
    },
    {
        "name": "topk_mse_identity_decoder",
        "config": {"activation": "relu", "decoderActivation": "identity"},
        "options": options(weightDecay=0.01,
                           sparsity={"kind": "topk", "beta": 0.0, "reduction": "sum",
                                     "rho": 0.05, "k": 2}),
    },
    {
        "name": "bce_l1_mean",
        "config": {"activation": "relu", "decoderActivation": "sigmoid"},
        "options": options(reconstruction="bce",
                           sparsity={"kind": "l1", "beta": 0.05, "reduction": "mean",
                                     "rho": 0.05, "k": 1}),
    },
    {
        "name": "sgd_nesterov_identity_code",
        "config": {"activation": "identity", "decoderActivation": "relu"},
        "options": options(optimizer="sgd", learningRate=0.5, momentum=0.9, nesterov=True,
                           weightDecay=0.001),
    },
]


def f32(array):
    """float32 values as plain floats, so JSON round-trips them exactly."""
    return [float(v) for v in np.asarray(array, dtype=np.float32).ravel()]


def run_case(case, rng, rows=5, inputs=7, hidden=6):
    """Draws inputs until every gradient is well conditioned, then records the case."""
    for _ in range(100):
        fixture = draw_case(case, rng, rows, inputs, hidden)
        if fixture is not None:
            return fixture
    raise RuntimeError(f"{case['name']}: no well-conditioned draw")


def is_well_conditioned(grads):
    """True when no gradient is a tiny non-zero remainder of cancellation.

    float32 code computes such a gradient mostly from rounding noise, and Adam's first steps
    move a parameter by about lr whatever the gradient's size, so the Swift and NumPy
    trajectories would part for reasons that have nothing to do with correctness. Exact zeros
    (dead ReLU units, dropped top-k latents) are fine: both sides get exactly zero.
    """
    values = np.concatenate([g.ravel() for g in grads])
    largest = np.max(np.abs(values))
    nonzero = np.abs(values[values != 0])
    return nonzero.size == 0 or np.min(nonzero) > 1e-3 * largest


def draw_case(case, rng, rows, inputs, hidden):
    config = dict(case["config"], inputSize=inputs, hiddenSize=hidden, topK=None)
    case = dict(case, config=config)

    # float32 inputs, then float64 maths on exactly those values.
    x = rng.uniform(0.0, 1.0, (rows, inputs)).astype(np.float32)
    bound_enc, bound_dec = 1 / np.sqrt(inputs), 1 / np.sqrt(hidden)
    params32 = [
        rng.uniform(-bound_enc, bound_enc, (inputs, hidden)).astype(np.float32),
        rng.uniform(-bound_enc, bound_enc, hidden).astype(np.float32),
        rng.uniform(-bound_dec, bound_dec, (hidden, inputs)).astype(np.float32),
        rng.uniform(-bound_dec, bound_dec, inputs).astype(np.float32),
    ]
    params = [p.astype(np.float64) for p in params32]
    x64 = x.astype(np.float64)

    losses, grads = loss_and_gradients(params, x64, case)
    step = adam_steps(case["options"]) if case["options"]["optimizer"] == "adam" \
        else sgd_steps(case["options"])
    steps = []
    for _ in range(STEPS):
        step_losses, step_grads = loss_and_gradients(params, x64, case)
        if not is_well_conditioned(step_grads):
            return None
        params = step(params, step_grads)
        steps.append({"loss": step_losses, "parameters": named(params)})

    return {
        "name": case["name"],
        "about": "written by scripts/reference_sae.py; float32 inputs, float64 NumPy maths",
        "config": config,
        "options": case["options"],
        "rows": rows,
        "batch": f32(x),
        "initial": {k: f32(v) for k, v in zip(("wEnc", "bEnc", "wDec", "bDec"), params32)},
        "loss": losses,
        "gradients": {k: [float(v) for v in g.ravel()]
                      for k, g in zip(("dWEnc", "dBEnc", "dWDec", "dBDec"), grads)},
        "steps": steps,
    }


def named(params):
    keys = ("wEnc", "bEnc", "wDec", "bDec")
    return {k: [float(v) for v in p.ravel()] for k, p in zip(keys, params)}


def main():
    FIXTURES.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240601)
    for case in CASES:
        fixture = run_case(case, rng)
        path = FIXTURES / f"{case['name']}.json"
        path.write_text(json.dumps(fixture) + "\n")
        print(f"wrote {path.relative_to(FIXTURES.parent.parent.parent)}: "
              f"loss {fixture['loss']['reconstruction'] + fixture['loss']['sparsity']:.6f}")


if __name__ == "__main__":
    main()
