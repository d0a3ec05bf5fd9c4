"""Planted wrong solutions for 09_deployment: each must lose points when autograded."""
# ruff: noqa: E501  (planted cell sources are data: long string literals read best unsplit)

# The reference solution cells; each mutant is one of them with one realistic mistake.

_CHECKPOINT = '''def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": int(epoch)}, path)


def load_checkpoint(path, model, optimizer):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"]
'''

_EXPORT = '''def export_with_dynamic_batch(model, example):
    model.eval()
    batch = torch.export.Dim("batch")
    return torch.export.export(model, (example,), dynamic_shapes=({0: batch},))
'''

_ONNX = '''import onnxruntime as ort


def export_onnx(model, example, path):
    model.eval()
    torch.onnx.export(model, (example,), path, dynamo=True,
                      dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False)


def onnx_predict(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: np.asarray(x, dtype=np.float32)})[0]
'''

_QUANTIZE = '''def quantize_int8(w, per_channel=False):
    w = w.detach().float()
    if per_channel:
        scale = w.abs().reshape(w.shape[0], -1).amax(dim=1) / 127
        view = scale.reshape(-1, *([1] * (w.dim() - 1)))
    else:
        scale = view = w.abs().max() / 127
    q = torch.clamp(torch.round(w / view), -127, 127).to(torch.int8)
    return q, scale


def dequantize_int8(q, scale):
    scale = scale.float()
    if scale.dim() == 1:
        scale = scale.reshape(-1, *([1] * (q.dim() - 1)))
    return q.float() * scale
'''

_PRUNE = '''import torch.nn.utils.prune as prune


def prune_linear_layers(model, amount):
    for module in model.modules():
        if isinstance(module, nn.Linear):
            prune.l1_unstructured(module, "weight", amount=amount)
            prune.remove(module, "weight")
    return model


def linear_sparsity(model):
    zeros = total = 0
    for module in model.modules():
        if isinstance(module, nn.Linear):
            zeros += (module.weight == 0).sum().item()
            total += module.weight.numel()
    return zeros / total
'''

_AMP = '''def autocast_logits(model, x):
    with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16):
        return model(x)


def amp_train_step(model, x, y, optimizer, scaler, dtype):
    optimizer.zero_grad()
    with torch.autocast(device_type=x.device.type, dtype=dtype):
        loss = F.cross_entropy(model(x), y)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
'''

_DDP = '''import torch.distributed as dist


def shard_batch(X, y, rank, world_size):
    size = len(X) // world_size
    return X[rank * size:(rank + 1) * size], y[rank * size:(rank + 1) * size]


def allreduce_mean_gradients(model):
    world_size = dist.get_world_size()
    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad /= world_size
'''

_SERVE = '''from typing import Annotated

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field


def create_app(model):
    Pixel = Annotated[float, Field(ge=0, le=255)]
    ImagePixels = Annotated[list[Pixel], Field(min_length=784, max_length=784)]

    class ImageRequest(BaseModel):
        pixels: ImagePixels

    class BatchRequest(BaseModel):
        images: list[ImagePixels] = Field(min_length=1, max_length=256)

    model.eval()
    model_device = next(model.parameters()).device
    app = FastAPI(title="MNIST digits")

    def logits(rows):
        x = torch.tensor(rows, dtype=torch.float32, device=model_device) / 255.0
        with torch.no_grad():
            return model(x).cpu()

    @app.post("/predict")
    def predict(request: ImageRequest) -> dict:
        out = logits([request.pixels])[0]
        return {"label": int(out.argmax()), "probabilities": out.softmax(dim=0).tolist()}

    @app.post("/predict_batch")
    def predict_batch(request: BatchRequest) -> dict:
        return {"labels": logits(request.images).argmax(dim=1).tolist()}

    return app
'''

_SERVE_MANUAL_CHECKS = '''from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel


def create_app(model):
    class ImageRequest(BaseModel):
        pixels: list

    class BatchRequest(BaseModel):
        images: list

    model.eval()
    model_device = next(model.parameters()).device
    app = FastAPI()

    def logits(rows):
        x = torch.tensor(rows, dtype=torch.float32, device=model_device) / 255.0
        with torch.no_grad():
            return model(x).cpu()

    @app.post("/predict")
    def predict(request: ImageRequest) -> dict:
        if len(request.pixels) != 784:
            return {"error": "expected 784 pixels"}
        out = logits([request.pixels])[0]
        return {"label": int(out.argmax()), "probabilities": out.softmax(dim=0).tolist()}

    @app.post("/predict_batch")
    def predict_batch(request: BatchRequest) -> dict:
        if not request.images or any(len(image) != 784 for image in request.images):
            return {"error": "expected images of 784 pixels"}
        return {"labels": logits(request.images).argmax(dim=1).tolist()}

    return app
'''


def _edit(base: str, *pairs: tuple[str, str]) -> str:
    """`base` with each (old, new) replacement applied; `old` must occur in it."""
    for old, new in pairs:
        assert old in base, f"mutant template out of date: {old!r} not in the reference cell"
        base = base.replace(old, new)
    return base


def _m(name: str, cell: str, base: str, *pairs: tuple[str, str]) -> dict:
    return {"name": name, "cell": cell, "source": _edit(base, *pairs)}


MUTANTS = [
    # Task 1: checkpoints
    _m("checkpoint-optimizer-state-not-restored", "checkpoint", _CHECKPOINT,
       ('    optimizer.load_state_dict(checkpoint["optimizer"])\n', "")),
    _m("checkpoint-weights-only-false", "checkpoint", _CHECKPOINT,
       ("weights_only=True", "weights_only=False")),
    _m("checkpoint-saves-the-model-object", "checkpoint", _CHECKPOINT,
       ('{"model": model.state_dict(),', '{"model": model,'),
       ('model.load_state_dict(checkpoint["model"])', 'model.load_state_dict(checkpoint["model"].state_dict())')),
    _m("checkpoint-epoch-not-returned", "checkpoint", _CHECKPOINT,
       ('    return checkpoint["epoch"]\n', "")),
    # Task 2: torch.export
    _m("export-without-dynamic-shapes", "export", _EXPORT,
       ("(example,), dynamic_shapes=({0: batch},))", "(example,))")),
    _m("export-in-train-mode", "export", _EXPORT, ("    model.eval()\n", "")),
    _m("export-batch-dim-capped-at-16", "export", _EXPORT,
       ('torch.export.Dim("batch")', 'torch.export.Dim("batch", min=1, max=16)')),
    _m("export-returns-module", "export", _EXPORT,
       ("dynamic_shapes=({0: batch},))", "dynamic_shapes=({0: batch},)).module()")),
    # Task 3: ONNX
    _m("onnx-without-dynamic-batch", "onnx", _ONNX,
       ('dynamo=True,\n                      dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False)',
        "dynamo=True, verbose=False)")),
    _m("onnx-predict-returns-class-labels", "onnx", _ONNX,
       ("{name: np.asarray(x, dtype=np.float32)})[0]", "{name: np.asarray(x, dtype=np.float32)})[0].argmax(axis=1)")),
    _m("onnx-input-not-cast-to-float32", "onnx", _ONNX,
       ("{name: np.asarray(x, dtype=np.float32)}", "{name: np.asarray(x)}")),
    _m("onnx-returns-list-of-outputs", "onnx", _ONNX,
       ("{name: np.asarray(x, dtype=np.float32)})[0]", "{name: np.asarray(x, dtype=np.float32)})")),
    # Task 4: quantisation
    _m("quant-scale-is-max-not-max-over-127", "quantize", _QUANTIZE,
       (".amax(dim=1) / 127", ".amax(dim=1)"), ("w.abs().max() / 127", "w.abs().max()")),
    _m("quant-asymmetric-range-scale", "quantize", _QUANTIZE,
       ("w.abs().reshape(w.shape[0], -1).amax(dim=1) / 127",
        "(w.reshape(w.shape[0], -1).amax(dim=1) - w.reshape(w.shape[0], -1).amin(dim=1)) / 255"),
       ("w.abs().max() / 127", "(w.max() - w.min()) / 255")),
    _m("quant-always-per-tensor", "quantize", _QUANTIZE, ("    if per_channel:\n", "    if False:\n")),
    _m("quant-truncates-instead-of-rounding", "quantize", _QUANTIZE,
       ("torch.clamp(torch.round(w / view), -127, 127)", "torch.clamp(w / view, -127, 127)")),
    _m("quant-divides-by-128", "quantize", _QUANTIZE,
       (".amax(dim=1) / 127", ".amax(dim=1) / 128"), ("w.abs().max() / 127", "w.abs().max() / 128"),
       ("-127, 127", "-128, 127")),
    # Task 5: pruning
    _m("prune-keeps-amount-instead-of-removing-it", "prune", _PRUNE, ("amount=amount", "amount=1 - amount")),
    _m("prune-biases-too", "prune", _PRUNE,
       ('            prune.remove(module, "weight")\n',
        '            prune.remove(module, "weight")\n            if module.bias is not None:\n'
        '                prune.l1_unstructured(module, "bias", amount=amount)\n                prune.remove(module, "bias")\n')),
    _m("prune-not-made-permanent", "prune", _PRUNE, ('            prune.remove(module, "weight")\n', "")),
    _m("prune-random-instead-of-magnitude", "prune", _PRUNE, ("prune.l1_unstructured", "prune.random_unstructured")),
    _m("prune-sparsity-counts-biases", "prune", _PRUNE,
       ("            zeros += (module.weight == 0).sum().item()\n            total += module.weight.numel()\n",
        "            for p in module.parameters():\n                zeros += (p == 0).sum().item()\n                total += p.numel()\n")),
    # Task 6: mixed precision
    _m("amp-float16-autocast", "amp", _AMP, ("dtype=torch.bfloat16):\n        return model(x)", "dtype=torch.float16):\n        return model(x)")),
    _m("amp-model-cast-to-bfloat16", "amp", _AMP,
       ("    with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16):\n        return model(x)\n",
        "    return model.to(torch.bfloat16)(x.to(torch.bfloat16))\n")),
    _m("amp-optimizer-step-bypasses-scaler", "amp", _AMP,
       ("    scaler.step(optimizer)\n    scaler.update()\n", "    optimizer.step()\n")),
    _m("amp-scaler-never-updated", "amp", _AMP, ("    scaler.update()\n", "")),
    _m("amp-train-step-without-autocast", "amp", _AMP,
       ("    with torch.autocast(device_type=x.device.type, dtype=dtype):\n        loss = F.cross_entropy(model(x), y)\n",
        "    loss = F.cross_entropy(model(x), y)\n")),
    _m("amp-no-zero-grad", "amp", _AMP, ("    optimizer.zero_grad()\n", "")),
    # Task 7: distributed data parallel
    _m("ddp-sum-without-averaging", "ddp", _DDP, ("            p.grad /= world_size\n", "")),
    _m("ddp-no-communication", "ddp", _DDP, ("            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)\n", "")),
    _m("ddp-interleaved-shards", "ddp", _DDP,
       ("return X[rank * size:(rank + 1) * size], y[rank * size:(rank + 1) * size]", "return X[rank::world_size], y[rank::world_size]")),
    _m("ddp-labels-not-sharded", "ddp", _DDP,
       ("return X[rank * size:(rank + 1) * size], y[rank * size:(rank + 1) * size]", "return X[rank * size:(rank + 1) * size], y")),
    # Task 8: FastAPI
    _m("serve-no-length-validation", "serve", _SERVE,
       ("Annotated[list[Pixel], Field(min_length=784, max_length=784)]", "list[Pixel]")),
    {"name": "serve-200-with-error-for-malformed-input", "cell": "serve", "source": _SERVE_MANUAL_CHECKS},
    _m("serve-pixels-not-scaled", "serve", _SERVE, (" / 255.0\n", "\n")),
    _m("serve-model-left-in-train-mode", "serve", _SERVE, ("    model.eval()\n", "")),
    _m("serve-batch-argmax-over-images", "serve", _SERVE, ("argmax(dim=1).tolist()", "argmax(dim=0).tolist()")),
    _m("serve-no-pixel-range-check", "serve", _SERVE, ("Annotated[float, Field(ge=0, le=255)]", "float")),
]
