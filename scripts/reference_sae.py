#!/usr/bin/env python3
"""Golden values for saed's training maths, computed with NumPy in float64.

Scope: one small sparse autoencoder per case, the forward loss, its gradients, and three
optimiser steps on one fixed batch, with everything the trainer does around a step: input
normalisation, the b_dec initialisation, unit-norm decoder rows, the learning-rate and
sparsity-weight schedules, gradient clipping, batch top-k's threshold and AuxK's dead-latent
counters. Nothing else of saed is modelled: no shuffling, no epochs, no data files. The
formulas are written out independently of the Swift code so the two can check each other.

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
        if k < z.shape[1]:
            MARGINS.append(z[row, order[k - 1]] - z[row, order[k]])
    return mask


def batch_top_k_mask(z, k):
    """1 for the rows*k largest entries of the whole batch (earlier flat index wins ties)."""
    flat = z.ravel()
    order = np.argsort(-flat, kind="stable")
    kept = z.shape[0] * k
    mask = np.zeros_like(flat)
    mask[order[:kept]] = 1.0
    if kept < flat.size:
        MARGINS.append(flat[order[kept - 1]] - flat[order[kept]])
    return mask.reshape(z.shape)


# Gaps between kept and dropped values, and |z| at ReLU kinks, seen while computing a case.
# float32 and float64 must make the same choices, so a draw with a tiny gap is redrawn.
MARGINS = []


def selection_mask(z, config, options):
    sparsity = options["sparsity"]
    if sparsity["kind"] == "topk":
        return top_k_mask(z, sparsity["k"])
    if sparsity["kind"] == "batchtopk":
        return batch_top_k_mask(z, sparsity["k"])
    if config.get("topK") is not None:
        return top_k_mask(z, config["topK"])
    if config.get("threshold") is not None:
        MARGINS.append(np.min(np.abs(z - config["threshold"])))
        return (z > config["threshold"]).astype(np.float64)
    return None


def unpack(params, config):
    """(w_enc, b_enc, w_dec, b_dec) from the trainable list; tied models hold no w_dec."""
    if config["hasTiedWeights"]:
        w_enc, b_enc, b_dec = params
        return w_enc, b_enc, w_enc.T, b_dec
    return tuple(params)


# ---------------------------------------------------------------------- loss and gradients

def loss_and_gradients(params, x, case, beta=None, dead=None):
    """Loss terms and the gradient of each trainable tensor, as the trainer computes them."""
    w_enc, b_enc, w_dec, b_dec = unpack(params, case["config"])
    config, options = case["config"], case["options"]
    sparsity = options["sparsity"]
    beta = sparsity["beta"] if beta is None else beta
    rows = x.shape[0]

    # Forward.
    encoder_input = x - b_dec if config["subtractsDecoderBias"] else x
    pre = encoder_input @ w_enc + b_enc
    mask = selection_mask(pre, config, options)
    z = pre if mask is None else pre * mask
    if config["activation"] == "relu":
        MARGINS.append(np.min(np.abs(z[z != 0])) if np.any(z != 0) else 1.0)
    h = activate(config["activation"], z)
    logits = h @ w_dec + b_dec
    count = logits.size

    # Reconstruction and d loss / d logits.
    if options["reconstruction"] == "mse":
        out = activate(config["decoderActivation"], logits)
        reconstruction = np.mean((out - x) ** 2)
        d_logits = 2.0 * (out - x) / count * activation_slope(config["decoderActivation"], out)
    else:
        out = 1.0 / (1.0 + np.exp(-logits))
        terms = np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
        reconstruction = np.mean(terms)
        d_logits = (out - x) / count

    # Sparsity and its d / d h.
    d_h_sparsity = np.zeros_like(h)
    penalty = 0.0
    if sparsity["kind"] == "l1":
        weight = beta / (rows if sparsity["reduction"] == "mean" else 1)
        penalty = weight * np.sum(np.abs(h))
        d_h_sparsity = weight * np.sign(h)
    elif sparsity["kind"] == "kl":
        rho = sparsity["rho"]
        raw = h.mean(axis=0)
        rho_hat = np.clip(raw, KL_CLAMP, 1 - KL_CLAMP)
        kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
        penalty = beta * np.sum(kl)
        slope = -rho / rho_hat + (1 - rho) / (1 - rho_hat)
        slope = np.where((raw >= KL_CLAMP) & (raw <= 1 - KL_CLAMP), slope, 0.0)
        d_h_sparsity = np.broadcast_to(beta * slope / rows, h.shape)

    # Backward through the decoder and the code.
    d_w_dec = h.T @ d_logits
    d_b_dec = d_logits.sum(axis=0)
    d_h = d_logits @ w_dec.T + d_h_sparsity
    d_z = d_h * activation_slope(config["activation"], h)
    if mask is not None:
        d_z = d_z * mask

    # AuxK: the dead latents' reconstruction of the detached residual.
    auxiliary = 0.0
    if sparsity["kind"] in ("topk", "batchtopk") and sparsity["auxK"] > 0 \
            and dead is not None and dead.any():
        auxiliary = auxk(pre, x - out, w_dec, dead, case, d_w_dec, d_z)

    d_w_enc = encoder_input.T @ d_z
    d_b_enc = d_z.sum(axis=0)
    if config["subtractsDecoderBias"]:
        d_b_dec = d_b_dec - w_enc @ d_b_enc

    # Ng's weight decay on the weight matrices, each stored matrix once.
    decay = options["l2Weights"]
    weight_penalty = 0.0
    if config["hasTiedWeights"]:
        d_w = d_w_enc + d_w_dec.T
        if decay > 0:
            weight_penalty = decay / 2 * np.sum(w_enc ** 2)
            d_w = d_w + decay * w_enc
        if options["normalizesDecoderRows"]:
            d_w = remove_row_components(d_w.T, w_enc.T).T
        grads = [d_w, d_b_enc, d_b_dec]
    else:
        if decay > 0:
            weight_penalty = decay / 2 * (np.sum(w_enc ** 2) + np.sum(w_dec ** 2))
            d_w_enc = d_w_enc + decay * w_enc
            d_w_dec = d_w_dec + decay * w_dec
        if options["normalizesDecoderRows"]:
            d_w_dec = remove_row_components(d_w_dec, w_dec)
        grads = [d_w_enc, d_b_enc, d_w_dec, d_b_dec]

    losses = {"reconstruction": reconstruction, "sparsity": penalty, "auxiliary": auxiliary,
              "weightPenalty": weight_penalty}
    return losses, grads, h


def auxk(pre, residual, w_dec, dead, case, d_w_dec, d_z):
    """Adds AuxK's gradients into d_w_dec and d_z in place; returns its loss."""
    config, sparsity = case["config"], case["options"]["sparsity"]
    rows, width = residual.shape
    dead_latents = np.flatnonzero(dead)
    k_aux = min(sparsity["auxK"], dead_latents.size)
    coefficient = sparsity["auxCoefficient"]
    total = 0.0
    gradients = []
    for r in range(rows):
        order = dead_latents[np.argsort(-pre[r, dead_latents], kind="stable")]
        chosen = order[:k_aux]
        if k_aux < dead_latents.size:
            MARGINS.append(pre[r, order[k_aux - 1]] - pre[r, order[k_aux]])
        a = activate(config["activation"], pre[r, chosen])
        difference = a @ w_dec[chosen] - residual[r]
        total += np.sum(difference ** 2)
        gradients.append((chosen, a, difference))
    scale = 2 * coefficient / (rows * width)
    for r, (chosen, a, difference) in enumerate(gradients):
        g = scale * difference
        d_w_dec[chosen] += np.outer(a, g)
        d_z[r, chosen] += (w_dec[chosen] @ g) * activation_slope(config["activation"], a)
    return coefficient * total / (rows * width)


def remove_row_components(gradient, w):
    """Each row g_j minus its component along w_j: g_j - (g_j . w_j / |w_j|^2) w_j."""
    squared = np.sum(w * w, axis=1, keepdims=True)
    along = np.sum(gradient * w, axis=1, keepdims=True)
    return gradient - np.where(squared > 0, along / np.where(squared > 0, squared, 1), 0) * w


# ------------------------------------------------------------------------------ optimisers

def adam_steps(options):
    b1, b2 = options["beta1"], options["beta2"]
    eps, decay = options["epsilon"], options["weightDecay"]
    state = {"t": 0, "m": None, "v": None}

    def step(params, grads, lr):
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
    mu = options["momentum"]
    dampening, nesterov, decay = options["dampening"], options["nesterov"], options["weightDecay"]
    buffers = []

    def step(params, grads, lr):
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


# ---------------------------------------------------------------------------- the trainer

def learning_rate(options, t, total):
    """The learning rate of 1-based step t of `total`: warm-up, then the chosen decay."""
    lr, warmup = options["learningRate"], options["warmupSteps"]
    if warmup > 0 and t <= warmup:
        return lr * t / warmup
    decay, end = options["learningRateDecay"], options["decayEndFactor"]
    if decay == "constant":
        return lr
    p = min(max((t - warmup - 1) / max(1, total - warmup), 0.0), 1.0)
    if decay == "linear":
        return lr * (1 - (1 - end) * p)
    return lr * (end + (1 - end) * (1 + np.cos(np.pi * p)) / 2)


def sparsity_beta(options, t):
    beta, warmup = options["sparsity"]["beta"], options["sparsityWarmupSteps"]
    return beta * t / warmup if warmup > 0 and t < warmup else beta


def normalise(x32, kind):
    """The trainer's input normalisation, in float32 as it runs: (x - mean) / std."""
    if kind != "standardize":
        return x32, None
    x64 = x32.astype(np.float64)
    mean = x64.mean(axis=0).astype(np.float32)
    std = x64.std(axis=0).astype(np.float32)
    std = np.where(std > 0, std, np.float32(1))
    return ((x32 - mean) / std).astype(np.float32), (mean, std)


def geometric_median(points, iterations=200, tolerance=1e-9):
    """Weiszfeld's iteration from the mean, with distances floored at 1e-10."""
    y = points.mean(axis=0)
    for _ in range(iterations):
        distances = np.maximum(np.sqrt(np.sum((points - y) ** 2, axis=1)), 1e-10)
        weights = 1 / distances
        moved_to = (weights[:, None] * points).sum(axis=0) / weights.sum()
        step = np.sqrt(np.sum((moved_to - y) ** 2))
        y = moved_to
        if step <= tolerance * max(1.0, np.sqrt(np.sum(y ** 2))):
            break
    return y


def prepare(params32, x32, case):
    """The trainer's preparation: b_dec initialisation, then unit-norm decoder rows."""
    config, options = case["config"], case["options"]
    w_enc, b_enc, w_dec, b_dec = [p.copy() for p in params32]
    init = options.get("decoderBiasInit")
    if init == "zero":
        b_dec = np.zeros_like(b_dec)
    elif init == "mean":
        b_dec = x32.astype(np.float64).mean(axis=0).astype(np.float32)
    elif init == "geometric_median":
        b_dec = geometric_median(x32.astype(np.float64)).astype(np.float32)
    if options["normalizesDecoderRows"]:
        rows = w_enc.T if config["hasTiedWeights"] else w_dec
        norms = np.sqrt(np.sum(rows.astype(np.float64) ** 2, axis=1)).astype(np.float32)
        rows = (rows / norms[:, None]).astype(np.float32)
        if config["hasTiedWeights"]:
            w_enc = np.ascontiguousarray(rows.T)
        else:
            w_dec = rows
    if config["hasTiedWeights"]:
        return [w_enc, b_enc, b_dec]
    return [w_enc, b_enc, w_dec, b_dec]


def train(params, x, case, rows):
    """STEPS optimiser steps on one batch, as the trainer takes them; yields each step."""
    config, options = case["config"], case["options"]
    sparsity = options["sparsity"]
    step = adam_steps(options) if options["optimizer"] == "adam" else sgd_steps(options)
    since_fired = np.zeros(config["hiddenSize"], dtype=np.int64)
    threshold = config.get("threshold")
    for t in range(1, STEPS + 1):
        dead = since_fired >= sparsity["deadAfterSamples"]
        losses, grads, h = loss_and_gradients(
            params, x, case, beta=sparsity_beta(options, t), dead=dead)
        if not is_well_conditioned(grads):
            return None
        if options.get("maxGradientNorm") is not None:
            norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
            if norm > options["maxGradientNorm"]:
                grads = [g * (options["maxGradientNorm"] / (norm + 1e-6)) for g in grads]
        params = step(params, grads, learning_rate(options, t, STEPS))
        if options["normalizesDecoderRows"]:
            index = 0 if config["hasTiedWeights"] else 2
            w = params[index].T if config["hasTiedWeights"] else params[index]
            w = w / np.sqrt(np.sum(w ** 2, axis=1, keepdims=True))
            params[index] = w.T if config["hasTiedWeights"] else w
        if sparsity["kind"] == "batchtopk":
            positive = h[h > 0]
            if positive.size:
                smallest = positive.min()
                rate = sparsity["thresholdRate"]
                threshold = smallest if threshold is None \
                    else (1 - rate) * threshold + rate * smallest
        fired = np.any(h > 0, axis=0)
        since_fired = np.where(fired, 0, since_fired + rows)
        yield losses, params, threshold


# ----------------------------------------------------------------------------------- cases

def sparsity_options(kind="none", beta=0.0, reduction="sum", rho=0.05, k=1, aux_k=0,
                     aux_coefficient=0.03125, dead_after=10000, threshold_rate=0.01):
    return {"kind": kind, "beta": beta, "reduction": reduction, "rho": rho, "k": k,
            "auxK": aux_k, "auxCoefficient": aux_coefficient, "deadAfterSamples": dead_after,
            "thresholdRate": threshold_rate}


def options(**overrides):
    base = {
        "epochs": STEPS, "batchSize": 5, "learningRate": 0.01, "beta1": 0.9, "beta2": 0.999,
        "epsilon": 1e-8, "weightDecay": 0.0, "seed": 0, "shuffle": False,
        "sparsity": sparsity_options(),
        "reconstruction": "mse", "optimizer": "adam", "momentum": 0.0, "dampening": 0.0,
        "nesterov": False, "l2Weights": 0.0, "warmupSteps": 0, "learningRateDecay": "constant",
        "decayEndFactor": 0.0, "sparsityWarmupSteps": 0, "normalizesDecoderRows": False,
    }
    base.update(overrides)
    return base


def model(activation, decoder, tied=False, centred=False):
    return {"activation": activation, "decoderActivation": decoder, "hasTiedWeights": tied,
            "subtractsDecoderBias": centred}


CASES = [
    {
        "name": "l1_mse_relu",
        "config": model("relu", "relu"),
        "options": options(sparsity=sparsity_options("l1", beta=0.01)),
    },
    {
        "name": "kl_mse_sigmoid",
        "config": model("sigmoid", "sigmoid"),
        "options": options(sparsity=sparsity_options("kl", beta=0.5, rho=0.1)),
    },
    {
        "name": "topk_mse_identity_decoder",
        "config": model("relu", "identity"),
        "options": options(weightDecay=0.01, sparsity=sparsity_options("topk", k=2)),
    },
    {
        "name": "bce_l1_mean",
        "config": model("relu", "sigmoid"),
        "options": options(reconstruction="bce",
                           sparsity=sparsity_options("l1", beta=0.05, reduction="mean")),
    },
    {
        "name": "sgd_nesterov_identity_code",
        "config": model("identity", "relu"),
        "options": options(optimizer="sgd", learningRate=0.5, momentum=0.9, nesterov=True,
                           weightDecay=0.001),
    },
    {
        # Dead after one batch: AuxK starts at step 2, on the latents step 1 left unfired.
        "name": "batchtopk_auxk_tied_centred",
        "config": model("relu", "identity", tied=True, centred=True),
        "options": options(sparsity=sparsity_options(
            "batchtopk", k=2, aux_k=2, aux_coefficient=0.5, dead_after=5, threshold_rate=0.5)),
        "deadLatents": [False, True, False, True, True, False],
    },
    {
        "name": "topk_auxk_unit_norm_clip_cosine",
        "config": model("relu", "identity"),
        "options": options(
            sparsity=sparsity_options("topk", k=2, aux_k=3, aux_coefficient=0.25, dead_after=5),
            normalizesDecoderRows=True, maxGradientNorm=0.05, warmupSteps=1,
            learningRateDecay="cosine", decayEndFactor=0.1),
        "deadLatents": [True, False, True, False, True, True],
    },
    {
        "name": "l1_l2weights_mean_bias_linear_warmup",
        "config": model("relu", "sigmoid", centred=True),
        "options": options(
            sparsity=sparsity_options("l1", beta=0.02), l2Weights=0.05, decoderBiasInit="mean",
            sparsityWarmupSteps=2, learningRateDecay="linear", decayEndFactor=0.2),
    },
    {
        "name": "kl_tied_unit_norm_median_sgd",
        "config": model("sigmoid", "sigmoid", tied=True),
        "options": options(
            sparsity=sparsity_options("kl", beta=0.3, rho=0.2), optimizer="sgd",
            learningRate=0.5, momentum=0.5, decoderBiasInit="geometric_median",
            normalizesDecoderRows=True, maxGradientNorm=0.5),
    },
    {
        "name": "standardize_l1_identity",
        "config": model("identity", "identity"),
        "options": options(
            sparsity=sparsity_options("l1", beta=0.01, reduction="mean"),
            normalization="standardize", decoderBiasInit="zero"),
    },
]


def f32(array):
    """float32 values as plain floats, so JSON round-trips them exactly."""
    return [float(v) for v in np.asarray(array, dtype=np.float32).ravel()]


def run_case(case, rng, rows=5, inputs=7, hidden=6):
    """Draws inputs until every gradient is well conditioned, then records the case."""
    for _ in range(200):
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


def named(params, config):
    w_enc, b_enc, w_dec, b_dec = unpack(params, config)
    keys = ("wEnc", "bEnc", "wDec", "bDec")
    return {k: [float(v) for v in p.ravel()] for k, p in zip(keys, (w_enc, b_enc, w_dec, b_dec))}


def draw_case(case, rng, rows, inputs, hidden):
    config = dict(case["config"], inputSize=inputs, hiddenSize=hidden, topK=None)
    case = dict(case, config=config)
    options = case["options"]

    # float32 inputs, then float64 maths on exactly those values.
    raw = rng.uniform(0.0, 1.0, (rows, inputs)).astype(np.float32)
    x32, _ = normalise(raw, options.get("normalization"))
    bound_enc, bound_dec = 1 / np.sqrt(inputs), 1 / np.sqrt(hidden)
    params32 = [
        rng.uniform(-bound_enc, bound_enc, (inputs, hidden)).astype(np.float32),
        rng.uniform(-bound_enc, bound_enc, hidden).astype(np.float32),
        rng.uniform(-bound_dec, bound_dec, (hidden, inputs)).astype(np.float32),
        rng.uniform(-bound_dec, bound_dec, inputs).astype(np.float32),
    ]
    if config["hasTiedWeights"]:
        params32[2] = np.ascontiguousarray(params32[0].T)
    x64 = x32.astype(np.float64)
    trainable = [p.astype(np.float64) for p in params32]
    if config["hasTiedWeights"]:
        del trainable[2]

    MARGINS.clear()
    dead = case.get("deadLatents")
    losses, grads, _ = loss_and_gradients(
        trainable, x64, case, dead=None if dead is None else np.array(dead))
    if not is_well_conditioned(grads):
        return None
    prepared = [p.astype(np.float64) for p in prepare(params32, x32, case)]
    steps = []
    for step_losses, params, threshold in train(prepared, x64, case, rows):
        steps.append({"loss": step_losses, "parameters": named(params, config),
                      "threshold": None if threshold is None else float(threshold)})
    if len(steps) < STEPS or min(MARGINS, default=1.0) < 1e-4:
        return None

    if config["hasTiedWeights"]:
        d_w, d_b_enc, d_b_dec = grads
        grads = [d_w, d_b_enc, d_w.T, d_b_dec]
    return {
        "name": case["name"],
        "about": "written by scripts/reference_sae.py; float32 inputs, float64 NumPy maths",
        "config": config,
        "options": options,
        "rows": rows,
        "batch": f32(raw),
        "deadLatents": dead,
        "initial": {k: f32(v) for k, v in zip(("wEnc", "bEnc", "wDec", "bDec"), params32)},
        "loss": losses,
        "gradients": {k: [float(v) for v in g.ravel()]
                      for k, g in zip(("dWEnc", "dBEnc", "dWDec", "dBDec"), grads)},
        "steps": steps,
    }


def main():
    FIXTURES.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240601)
    for case in CASES:
        fixture = run_case(case, rng)
        path = FIXTURES / f"{case['name']}.json"
        path.write_text(json.dumps(fixture) + "\n")
        total = sum(fixture["loss"].values())
        print(f"wrote {path.relative_to(FIXTURES.parent.parent.parent)}: loss {total:.6f}")


if __name__ == "__main__":
    main()
