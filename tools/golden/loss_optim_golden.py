"""Golden vectors for Kiln's losses, optimizers and learning-rate schedules, computed with PyTorch 1.13.

Run from the repository root with /usr/bin/python3 (needs torch and numpy):

    /usr/bin/python3 tools/golden/loss_optim_golden.py

Writes runtime/src/test/resources/golden/loss_optim/{ce,nll,kl,rdrop,sgd,adamw,schedules}.safetensors.
Inputs are stored as float32 (what the Java side sees); losses and gradients are computed from those
float32 values in float64 with autograd and stored as float64. Optimizers run in float32, like training.
Each file's metadata has "cases": the number of cases, which the Java tests assert.
"""
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "runtime", "src", "test", "resources", "golden", "loss_optim")

torch.manual_seed(20240613)


def f64(x):
    return torch.tensor(x, dtype=torch.float64) if not isinstance(x, torch.Tensor) else x.double()


def scalar(x):
    return torch.tensor(float(x), dtype=torch.float64)


def randn32(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).float()


def save(name, tensors, cases):
    path = os.path.join(OUT, name + ".safetensors")
    st.save(path, tensors, {"cases": cases, "generator": "tools/golden/loss_optim_golden.py",
                            "torch": torch.__version__})
    print(f"{path}: {cases} cases, {os.path.getsize(path)} bytes")


def cross_entropy_cases():
    out = OrderedDict()
    configs = [(8, 5, 0.0, 1.0), (8, 5, 0.1, 1.0), (4, 10, 0.3, 3.0), (6, 3, 0.0, 60.0),
               (1, 2, 0.05, 1.0), (16, 7, 0.2, 1.0), (5, 4, 1.0, 2.0), (3, 6, 0.1, 300.0)]
    for i, (n, c, ls, scale) in enumerate(configs):
        logits = randn32(n, c, scale=scale)
        targets = torch.randint(0, c, (n,))
        z = logits.double().requires_grad_()
        loss = F.cross_entropy(z, targets, label_smoothing=ls)
        loss.backward()
        p = f"ce.{i}."
        out[p + "logits"] = logits
        out[p + "targets"] = targets
        out[p + "label_smoothing"] = scalar(ls)
        out[p + "loss"] = loss.detach()
        out[p + "grad"] = z.grad
    save("ce", out, len(configs))


def nll_cases():
    out = OrderedDict()
    configs = [(8, 5), (1, 3), (12, 9)]
    for i, (n, c) in enumerate(configs):
        logp = F.log_softmax(randn32(n, c, scale=2.0), dim=1).float()
        targets = torch.randint(0, c, (n,))
        x = logp.double().requires_grad_()
        loss = F.nll_loss(x, targets)
        loss.backward()
        p = f"nll.{i}."
        out[p + "input"] = logp
        out[p + "targets"] = targets
        out[p + "loss"] = loss.detach()
        out[p + "grad"] = x.grad
    save("nll", out, len(configs))


REDUCTIONS = {"SUM": "sum", "BATCHMEAN": "batchmean", "MEAN": "mean"}


def kl_cases():
    out = OrderedDict()
    i = 0
    for shape in [(6, 5), (2, 3, 4)]:
        for log_target in [False, True]:
            for red in REDUCTIONS:
                x = F.log_softmax(randn32(*shape), dim=-1).float()
                t = randn32(*shape, scale=1.5)
                t = (F.log_softmax(t, dim=-1) if log_target else F.softmax(t, dim=-1)).float()
                if not log_target and i % 2 == 0:
                    t[0, 0] = 0.0  # xlogy(0, 0) = 0 in the loss; the target gradient is NaN there
                xi = x.double().requires_grad_()
                ti = t.double().requires_grad_()
                loss = F.kl_div(xi, ti, reduction=REDUCTIONS[red], log_target=log_target)
                loss.backward()
                p = f"kl.{i}."
                out[p + "input"] = x
                out[p + "target"] = t
                out[p + "log_target"] = scalar(1 if log_target else 0)
                out[p + "reduction"] = scalar(list(REDUCTIONS).index(red))
                out[p + "loss"] = loss.detach()
                out[p + "grad_input"] = xi.grad
                out[p + "grad_target"] = ti.grad
                i += 1
    save("kl", out, i)


def rdrop_official(z1, z2, y, alpha, red):
    """The official R-Drop reference (dropreg/R-Drop): CE of both halves plus the symmetric KL, no detach."""
    ce = 0.5 * (F.cross_entropy(z1, y) + F.cross_entropy(z2, y))
    p_loss = F.kl_div(F.log_softmax(z1, dim=-1), F.softmax(z2, dim=-1), reduction="none")
    q_loss = F.kl_div(F.log_softmax(z2, dim=-1), F.softmax(z1, dim=-1), reduction="none")
    if red == "SUM":
        p_loss, q_loss = p_loss.sum(), q_loss.sum()
    elif red == "BATCHMEAN":
        p_loss, q_loss = p_loss.sum() / z1.shape[0], q_loss.sum() / z1.shape[0]
    else:
        p_loss, q_loss = p_loss.mean(), q_loss.mean()
    kl = (p_loss + q_loss) / 2
    return ce + alpha * kl, ce, kl


def rdrop_cases():
    out = OrderedDict()
    i = 0
    for alpha in [0.0, 0.3, 1.0, 5.0]:
        for red in ["SUM", "BATCHMEAN", "MEAN"]:
            n, c = (6, 5) if i % 2 == 0 else (3, 8)
            scale = 40.0 if i == 7 else 1.5
            z1 = randn32(n, c, scale=scale)
            if i == 10:
                z2 = z1.clone()  # identical halves: KL = 0, gradients are plain CE
            else:
                z2 = (z1 + randn32(n, c, scale=0.5 * scale)).float()
            y = torch.randint(0, c, (n,))
            a = z1.double().requires_grad_()
            b = z2.double().requires_grad_()
            loss, ce, kl = rdrop_official(a, b, y, alpha, red)
            loss.backward()
            p = f"rdrop.{i}."
            out[p + "logits1"] = z1
            out[p + "logits2"] = z2
            out[p + "targets"] = y
            out[p + "alpha"] = scalar(alpha)
            out[p + "reduction"] = scalar(["SUM", "BATCHMEAN", "MEAN"].index(red))
            out[p + "loss"] = loss.detach()
            out[p + "ce"] = ce.detach()
            out[p + "kl"] = kl.detach()
            out[p + "grad1"] = a.grad
            out[p + "grad2"] = b.grad
            i += 1
    save("rdrop", out, i)


STEPS = 5


def run_optimizer(kind, prefix, out, lrs, no_decay_bias, **kw):
    weight = randn32(3, 4)
    bias = randn32(3)
    grads = [(randn32(3, 4), randn32(3)) for _ in range(STEPS)]
    w = weight.clone().requires_grad_()
    b = bias.clone().requires_grad_()
    wd = kw.pop("weight_decay")
    if no_decay_bias:
        groups = [{"params": [w], "weight_decay": wd}, {"params": [b], "weight_decay": 0.0}]
    else:
        groups = [{"params": [w, b], "weight_decay": wd}]
    opt = kind(groups, lr=lrs[0], **kw)
    out[prefix + "init.weight"] = weight
    out[prefix + "init.bias"] = bias
    out[prefix + "lr"] = f64(lrs)
    out[prefix + "weight_decay"] = scalar(wd)
    out[prefix + "no_decay_bias"] = scalar(1 if no_decay_bias else 0)
    for s in range(STEPS):
        for group in opt.param_groups:
            group["lr"] = lrs[s]
        w.grad = grads[s][0].clone()
        b.grad = grads[s][1].clone()
        opt.step()
        out[prefix + f"grad.{s}.weight"] = grads[s][0]
        out[prefix + f"grad.{s}.bias"] = grads[s][1]
        out[prefix + f"param.{s}.weight"] = w.detach().clone()
        out[prefix + f"param.{s}.bias"] = b.detach().clone()


def sgd_cases():
    out = OrderedDict()
    configs = [
        dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0),
        dict(momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0),
        dict(momentum=0.9, dampening=0.0, nesterov=True, weight_decay=0.0),
        dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.05),
        dict(momentum=0.8, dampening=0.0, nesterov=True, weight_decay=0.01),
        dict(momentum=0.9, dampening=0.3, nesterov=False, weight_decay=0.02),
        dict(momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.1, no_decay_bias=True),
        dict(momentum=0.5, dampening=0.0, nesterov=False, weight_decay=0.0, lrs=[0.1, 0.05, 0.2, 0.0, 0.01]),
    ]
    for i, cfg in enumerate(configs):
        lrs = cfg.pop("lrs", [0.1] * STEPS)
        no_decay = cfg.pop("no_decay_bias", False)
        p = f"sgd.{i}."
        out[p + "momentum"] = scalar(cfg["momentum"])
        out[p + "dampening"] = scalar(cfg["dampening"])
        out[p + "nesterov"] = scalar(1 if cfg["nesterov"] else 0)
        run_optimizer(torch.optim.SGD, p, out, lrs, no_decay, **cfg)
    save("sgd", out, len(configs))


def adamw_cases():
    out = OrderedDict()
    configs = [
        dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False),
        dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=True),
        dict(betas=(0.8, 0.95), eps=1e-6, weight_decay=0.0, amsgrad=False),
        dict(betas=(0.5, 0.9), eps=1e-3, weight_decay=0.2, amsgrad=True),
        dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1, amsgrad=False, no_decay_bias=True),
        dict(betas=(0.9, 0.99), eps=1e-8, weight_decay=0.05, amsgrad=True, lrs=[1e-2, 3e-3, 2e-2, 0.0, 1e-3]),
    ]
    for i, cfg in enumerate(configs):
        lrs = cfg.pop("lrs", [1e-2] * STEPS)
        no_decay = cfg.pop("no_decay_bias", False)
        p = f"adamw.{i}."
        out[p + "beta1"] = scalar(cfg["betas"][0])
        out[p + "beta2"] = scalar(cfg["betas"][1])
        out[p + "eps"] = scalar(cfg["eps"])
        out[p + "amsgrad"] = scalar(1 if cfg["amsgrad"] else 0)
        run_optimizer(torch.optim.AdamW, p, out, lrs, no_decay, **cfg)
    save("adamw", out, len(configs))


def record(make_scheduler, base_lr, steps):
    """The learning rate each optimizer step uses, stepping the scheduler after every optimizer step."""
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=base_lr)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        param.grad = torch.zeros(1)
        opt.step()
        sched.step()
    return lrs


def schedule_cases():
    S = torch.optim.lr_scheduler
    out = OrderedDict()
    cases = []

    def add(kind, params, lrs):
        p = f"{kind}.{len(cases)}."
        for k, v in params.items():
            out[p + k] = scalar(v)
        out[p + "lrs"] = f64(lrs)
        cases.append(kind)

    steps = 100
    add("constant", dict(lr=0.05, steps=steps), record(lambda o: S.LambdaLR(o, lambda e: 1.0), 0.05, steps))
    for lr, size, gamma in [(0.1, 30, 0.1), (0.5, 7, 0.5)]:
        add("step", dict(lr=lr, step_size=size, gamma=gamma, steps=steps),
            record(lambda o: S.StepLR(o, step_size=size, gamma=gamma), lr, steps))
    for lr, total, min_lr in [(0.1, 100, 0.0), (0.1, 100, 1e-3), (0.02, 37, 5e-4)]:
        add("cosine", dict(lr=lr, total=total, min_lr=min_lr, steps=total),
            record(lambda o: S.CosineAnnealingLR(o, T_max=total, eta_min=min_lr), lr, total))
    for max_lr, total, pct, div, final_div in [(0.1, 100, 0.3, 25.0, 1e4), (0.4, 37, 0.25, 10.0, 100.0),
                                               (0.01, 50, 0.5, 5.0, 1e3)]:
        add("one_cycle", dict(max_lr=max_lr, total=total, pct_start=pct, div_factor=div,
                              final_div_factor=final_div, steps=total),
            record(lambda o: S.OneCycleLR(o, max_lr=max_lr, total_steps=total, pct_start=pct,
                                          div_factor=div, final_div_factor=final_div,
                                          cycle_momentum=False), max_lr, total))
    # Warmup with LinearLR, then hand off to the main schedule (SequentialLR, the usual PyTorch idiom).
    for lr, total, min_lr, warmup, start in [(0.1, 100, 0.0, 10, 0.01), (0.05, 60, 1e-3, 5, 0.2)]:
        add("warmup_cosine", dict(lr=lr, total=total, min_lr=min_lr, warmup=warmup, start_factor=start,
                                  steps=total),
            record(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=start, total_iters=warmup),
                                                S.CosineAnnealingLR(o, T_max=total - warmup, eta_min=min_lr)],
                                            milestones=[warmup]), lr, total))
    add("warmup_step", dict(lr=0.2, step_size=15, gamma=0.3, warmup=8, start_factor=0.1, steps=steps),
        record(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=8),
                                            S.StepLR(o, step_size=15, gamma=0.3)], milestones=[8]), 0.2, steps))
    add("warmup_constant", dict(lr=0.03, warmup=4, start_factor=0.25, steps=20),
        record(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.25, total_iters=4),
                                            S.LambdaLR(o, lambda e: 1.0)], milestones=[4]), 0.03, 20))
    save("schedules", out, len(cases))


def main():
    os.makedirs(OUT, exist_ok=True)
    cross_entropy_cases()
    nll_cases()
    kl_cases()
    rdrop_cases()
    sgd_cases()
    adamw_cases()
    schedule_cases()


if __name__ == "__main__":
    main()
