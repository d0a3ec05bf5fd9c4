# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 08 · Modern architectures
#
# The ideas that shaped deep learning after the plain CNN and RNN, each built small enough to
# train in seconds on a CPU:
#
# * Tasks 1–2, **attention**: scaled dot-product attention by hand with causal and padding
#   masks, multi-head attention, positional encodings;
# * Task 3, **a tiny transformer**: a decoder-only, character-level language model trained on
#   *Macbeth* that must beat a bigram baseline;
# * Task 4, **a variational auto-encoder** on 8×8 digits: the reparameterisation trick, the KL
#   term in closed form, the ELBO;
# * Task 5, **a GAN** on a ring of eight Gaussians: discriminator and generator steps, mode
#   coverage;
# * Task 6, **transfer learning**: the course's own small CNN, pretrained on MNIST, frozen and
#   given a new head for few-shot digits.
#
# Replace every `raise NotImplementedError()` with your code and run the tests under each task;
# hidden tests check the same behaviour on other inputs. **Total: 34 points.**

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import copy
import hashlib
import math
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from autograders import device, in_grader, make_generator, seed_everything, set_threads

set_threads(1)  # small models train fastest on one thread, and the host's cores are shared
torch.manual_seed(0)
DEVICE = device()
print("device:", DEVICE, "| grading:", in_grader())

# %% [markdown] nbgrader={"grade": false, "grade_id": "attention_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 1 — scaled dot-product attention with masks (2 + 3 points)
#
# Attention lets every position of a sequence gather information from other positions. Each
# query $q_i$ is compared with every key $k_j$; the similarities become weights with a softmax,
# and the output is the weighted average of the values $v_j$:
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d}}\right)V,
# \qquad Q \in \mathbb{R}^{T_q\times d},\; K \in \mathbb{R}^{T_k\times d},\; V \in \mathbb{R}^{T_k\times d_v},$$
#
# the softmax taken over the keys (the last dimension), so each row of weights sums to 1.
# **Why $\sqrt d$?** If the entries of $q$ and $k$ are independent with mean 0 and variance 1,
# $q\cdot k$ has variance $d$: without the scaling, large $d$ gives huge scores, a softmax that
# is almost one-hot and vanishing gradients.
#
# A **mask** says which keys each query may look at. Here a mask is a `bool` tensor,
# broadcastable to the scores' shape $(\dots, T_q, T_k)$, with **True = may attend** (the
# convention of `F.scaled_dot_product_attention`). Masked scores are set to $-\infty$ *before*
# the softmax, so they get weight exactly $e^{-\infty} = 0$ and the others still sum to 1
# (zeroing weights *after* the softmax would leave rows that no longer sum to 1). Two masks
# matter:
#
# * a **causal** mask for a model that predicts the next token: position $i$ may attend to
#   positions $j \le i$ only — a lower-triangular $(T, T)$ matrix of True;
# * a **padding** mask for a batch of sequences of different lengths padded to a common $T$:
#   position $j$ of sequence $b$ is real when $j < \text{length}_b$; keys at padded positions must
#   get no weight. As a key mask for scores $(B, T_q, T_k)$ it is used as `pad[:, None, :]`.
#
# Write `causal_mask(T)` (a `(T, T)` bool tensor) and `padding_mask(lengths, T)` (a `(B, T)`
# bool tensor, True at real tokens) for a 1-D int64 tensor `lengths` (build the causal mask on
# the CPU, the padding mask on `lengths.device`). Then write `attention(q, k, v, mask=None)` for tensors
# $(\dots, T_q, d)$, $(\dots, T_k, d)$, $(\dots, T_k, d_v)$ (any number of leading batch/head
# dimensions) returning `(output, weights)` of shapes $(\dots, T_q, d_v)$ and
# $(\dots, T_q, T_k)$. `F.scaled_dot_product_attention` and `nn.MultiheadAttention` are off
# limits (the tests compare against them); `torch.softmax`, `@` and `masked_fill` are fine.

# %% nbgrader={"grade": false, "grade_id": "masks", "locked": false, "schema_version": 3, "solution": true, "task": false}
def causal_mask(T):
    ### BEGIN SOLUTION
    return torch.ones(T, T, dtype=torch.bool).tril()
    ### END SOLUTION


def padding_mask(lengths, T):
    ### BEGIN SOLUTION
    positions = torch.arange(T, device=lengths.device)
    return positions[None, :] < lengths[:, None]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_masks", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from autograders import check_close, check_tensor

check_tensor(causal_mask(3), [[True, False, False], [True, True, False], [True, True, True]],
             dtype=torch.bool, name="causal_mask(3)")
check_tensor(padding_mask(torch.tensor([2, 4]), 4), [[True, True, False, False], [True, True, True, True]],
             dtype=torch.bool, name="padding_mask([2, 4], 4)")
### BEGIN HIDDEN TESTS
for T in (1, 5, 9):
    i, j = torch.meshgrid(torch.arange(T), torch.arange(T), indexing="ij")
    check_tensor(causal_mask(T), j <= i, dtype=torch.bool, name=f"causal_mask({T})")
for lengths, T in [([1, 3, 5], 5), ([0, 2], 3), ([6], 7)]:
    lengths = torch.tensor(lengths)
    check_tensor(padding_mask(lengths, T), torch.arange(T)[None, :] < lengths[:, None], dtype=torch.bool,
                 name=f"padding_mask({lengths.tolist()}, {T})")
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "attention", "locked": false, "schema_version": 3, "solution": true, "task": false}
def attention(q, k, v, mask=None):
    ### BEGIN SOLUTION
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_attention", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from autograders import check_source_forbids, forbid


def qkv(seed, lead, Tq, Tk, d, dv):
    g = torch.Generator().manual_seed(seed)
    make = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64).to(DEVICE)  # noqa: E731
    return make(*lead, Tq, d), make(*lead, Tk, d), make(*lead, Tk, dv)


def check_attention(seed, lead, Tq, Tk, d, dv, mask, label):
    q, k, v = qkv(seed, lead, Tq, Tk, d, dv)
    mask = None if mask is None else mask.to(DEVICE)
    with forbid(F.scaled_dot_product_attention, message="Build attention from @, softmax and masked_fill."):
        result = attention(q, k, v, mask)
    assert isinstance(result, tuple) and len(result) == 2, f"attention should return (output, weights), got {type(result).__name__}"
    out, weights = result
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(d)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    check_tensor(weights.cpu(), torch.softmax(scores, -1).cpu(), rtol=1e-9, atol=1e-12, name=f"weights ({label})")
    check_tensor(out.cpu(), expected.cpu(), rtol=1e-9, atol=1e-12, name=f"output ({label})")


check_source_forbids(attention, ["scaled_dot_product_attention", "MultiheadAttention", "multi_head_attention_forward"])
check_attention(0, (2,), 3, 3, 4, 4, None, "no mask, (2, 3, 4)")
check_attention(1, (1,), 4, 4, 8, 8, torch.ones(4, 4, dtype=torch.bool).tril(), "causal mask, T = 4")
### BEGIN HIDDEN TESTS
check_attention(2, (3,), 2, 5, 16, 3, None, "cross-attention Tq=2, Tk=5, d=16, dv=3")
check_attention(3, (2, 4), 6, 6, 32, 5, torch.ones(6, 6, dtype=torch.bool).tril(), "4-D with heads, causal, d=32")
pad = torch.arange(5)[None, :] < torch.tensor([2, 5, 3])[:, None]
check_attention(4, (3,), 4, 5, 8, 6, pad[:, None, :], "padding mask (3, 1, 5)")
check_attention(5, (3, 2), 5, 5, 8, 8, pad[:, None, None, :] & torch.ones(5, 5, dtype=torch.bool).tril(),
                "padding & causal with heads")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "mha_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 2 — multi-head attention (3 points) and positional encodings (2 points)
#
# One attention compares queries and keys in a single way. **Multi-head attention** runs $h$
# attentions in parallel on different learned projections, each of size $d = E/h$, and mixes
# their results:
#
# $$\mathrm{head}_i = \mathrm{Attention}(X_q W^Q_i, X_k W^K_i, X_v W^V_i),\qquad
# \mathrm{MHA} = \mathrm{concat}(\mathrm{head}_1,\dots,\mathrm{head}_h)\, W^O .$$
#
# In practice one `nn.Linear(E, E)` per role computes all heads at once; its output $(B, T, E)$
# is split into heads with `view(B, T, h, d).transpose(1, 2)` → $(B, h, T, d)$, attention runs
# on the last two dimensions, and `transpose(1, 2).reshape(B, T, E)` concatenates the heads
# again before the output projection.
#
# Write `MultiHeadAttention(embed_dim, num_heads)`, an `nn.Module` with four `nn.Linear(E, E)`
# layers (with bias) named `q_proj`, `k_proj`, `v_proj` and `out_proj`, whose
# `forward(query, key, value, mask=None)` takes `(B, T_q, E)`, `(B, T_k, E)`, `(B, T_k, E)` and
# an optional bool mask broadcastable to $(B, h, T_q, T_k)$ (True = may attend) and returns the
# `(B, T_q, E)` output. Use your `attention` from Task 1. The tests copy the weights of a
# `nn.MultiheadAttention(E, h, batch_first=True)` into your module (its `in_proj_weight` stacks
# $W^Q, W^K, W^V$) and compare outputs.

# %% nbgrader={"grade": false, "grade_id": "mha", "locked": false, "schema_version": 3, "solution": true, "task": false}
class MultiHeadAttention(nn.Module):
    ### BEGIN SOLUTION
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        assert embed_dim % num_heads == 0, "embed_dim must be divisible by num_heads"
        self.num_heads = num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)

    def _split(self, x):
        B, T, E = x.shape
        return x.view(B, T, self.num_heads, E // self.num_heads).transpose(1, 2)

    def forward(self, query, key, value, mask=None):
        B, Tq, E = query.shape
        q = self._split(self.q_proj(query))
        k = self._split(self.k_proj(key))
        v = self._split(self.v_proj(value))
        out, _ = attention(q, k, v, mask)
        return self.out_proj(out.transpose(1, 2).reshape(B, Tq, E))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_mha", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from autograders import check_parameter_count


def check_mha(seed, E, h, B, Tq, Tk, kind, label):
    torch.manual_seed(seed)
    ref = nn.MultiheadAttention(E, h, batch_first=True, dtype=torch.float64).to(DEVICE).eval()
    mine = MultiHeadAttention(E, h).double().to(DEVICE)
    check_parameter_count(mine, 4 * E * E + 4 * E)
    with torch.no_grad():
        for i, name in enumerate(["q_proj", "k_proj", "v_proj"]):
            getattr(mine, name).weight.copy_(ref.in_proj_weight[i * E:(i + 1) * E])
            getattr(mine, name).bias.copy_(ref.in_proj_bias[i * E:(i + 1) * E])
        mine.out_proj.weight.copy_(ref.out_proj.weight)
        mine.out_proj.bias.copy_(ref.out_proj.bias)
    g = torch.Generator().manual_seed(seed + 50)
    query = torch.randn(B, Tq, E, generator=g, dtype=torch.float64).to(DEVICE)
    key = torch.randn(B, Tk, E, generator=g, dtype=torch.float64).to(DEVICE)
    value = torch.randn(B, Tk, E, generator=g, dtype=torch.float64).to(DEVICE)
    kwargs, mask = {}, None
    if kind == "causal":
        mask = torch.ones(Tq, Tk, dtype=torch.bool, device=DEVICE).tril()
        kwargs["attn_mask"] = ~mask  # nn.MultiheadAttention: True = NOT allowed
    elif kind == "padding":
        real = torch.arange(Tk, device=DEVICE)[None, :] < torch.randint(1, Tk + 1, (B,), generator=g).to(DEVICE)[:, None]
        mask, kwargs["key_padding_mask"] = real[:, None, None, :], ~real
    with torch.no_grad():
        expected, _ = ref(query, key, value, need_weights=False, **kwargs)
        got = mine(query, key, value, mask)
    check_tensor(got.cpu(), expected.cpu(), rtol=1e-7, atol=1e-9, name=f"MultiHeadAttention output ({label})")


### BEGIN HIDDEN TESTS
def _reference_attention(q, k, v, mask=None):  # a bug in Task 1 costs points there, not here
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, -1)
    return weights @ v, weights


_student_attention, attention = attention, _reference_attention
### END HIDDEN TESTS
check_mha(0, 8, 2, 2, 3, 3, None, "E=8, 2 heads, self-attention")
### BEGIN HIDDEN TESTS
check_mha(1, 12, 3, 3, 4, 6, None, "E=12, 3 heads, cross-attention Tq=4, Tk=6")
check_mha(2, 16, 4, 2, 5, 5, "causal", "E=16, 4 heads, causal mask")
check_mha(3, 8, 1, 4, 3, 7, "padding", "E=8, 1 head, key padding mask")
attention = _student_attention
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "positional_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Attention itself ignores order: shuffling the key/value pairs leaves every output unchanged
# (it is a weighted average over a *set*). Transformers therefore add a **positional encoding** to the
# token embeddings. The original transformer uses fixed sinusoids of geometrically spaced
# frequencies, for position $p$ and $i = 0, \dots, d/2 - 1$:
#
# $$PE_{p,\,2i} = \sin\!\left(\frac{p}{10000^{2i/d}}\right),\qquad
# PE_{p,\,2i+1} = \cos\!\left(\frac{p}{10000^{2i/d}}\right).$$
#
# Low dimensions oscillate fast, high ones slowly, so every position gets a distinct code, and
# $PE_{p+k}$ is a fixed linear function (a rotation of each sin/cos pair) of $PE_p$, which makes
# relative offsets easy to learn. (Many models, including the one in Task 3, instead learn a
# position embedding `nn.Embedding(max_len, d)`.)
#
# Write `sinusoidal_encoding(T, d)` returning the `(T, d)` float32 matrix above for an even $d$.

# %% nbgrader={"grade": false, "grade_id": "positional", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sinusoidal_encoding(T, d):
    ### BEGIN SOLUTION
    position = torch.arange(T, dtype=torch.float64)[:, None]
    frequency = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    pe = torch.zeros(T, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * frequency)
    pe[:, 1::2] = torch.cos(position * frequency)
    return pe.float()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_positional", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def reference_pe(T, d):
    pe = torch.empty(T, d, dtype=torch.float64)
    for p in range(T):
        for i in range(d // 2):
            angle = p / 10000 ** (2 * i / d)
            pe[p, 2 * i], pe[p, 2 * i + 1] = math.sin(angle), math.cos(angle)
    return pe


check_tensor(sinusoidal_encoding(3, 4), reference_pe(3, 4), dtype=torch.float32, atol=1e-6,
             name="sinusoidal_encoding(3, 4)")
### BEGIN HIDDEN TESTS
for T, d in [(1, 2), (10, 16), (50, 6)]:
    check_tensor(sinusoidal_encoding(T, d), reference_pe(T, d), dtype=torch.float32, atol=1e-5,
                 name=f"sinusoidal_encoding({T}, {d})")
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "positional_plot", "locked": true, "schema_version": 3, "solution": false, "task": false}
try:
    plt.figure(figsize=(6, 2.2))
    plt.imshow(sinusoidal_encoding(64, 32).T, aspect="auto", cmap="RdBu")
    plt.xlabel("position p")
    plt.ylabel("dimension")
    plt.title("sinusoidal positional encoding, d = 32", fontsize=8)
    plt.colorbar()
    plt.show()
except NotImplementedError:
    print("sinusoidal_encoding is not implemented yet")

# %% [markdown] nbgrader={"grade": false, "grade_id": "text_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 3 — a tiny character-level transformer (2 + 2 + 3 points)
#
# A **language model** assigns a probability to the next token given the previous ones,
# $p(x_{t+1}\mid x_1,\dots,x_t)$. We use characters as tokens and Shakespeare's *Macbeth*
# (public domain; `macbeth.txt` ships with this assignment, see `README.md`): 90 % of the text
# for training, the last 10 % for validation.
#
# The simplest baseline is a **bigram** model: count how often character $b$ follows $a$ in
# the training text, $p(b\mid a) \propto \mathrm{count}(a, b) + 1$ (add-one smoothing). It sees
# one character of context; a model that beats its validation cross-entropy has learnt to use
# more.

# %% nbgrader={"grade": false, "grade_id": "text_data", "locked": true, "schema_version": 3, "solution": false, "task": false}
text = Path("macbeth.txt").read_text(encoding="utf-8")
chars = sorted(set(text))
VOCAB = len(chars)
stoi = {c: i for i, c in enumerate(chars)}
itos = dict(enumerate(chars))
encoded = torch.tensor([stoi[c] for c in text], dtype=torch.int64)
n_train = int(0.9 * len(encoded))
train_text, val_text = encoded[:n_train], encoded[n_train:]
BLOCK_SIZE = 32

counts = torch.ones(VOCAB, VOCAB)
counts.index_put_((train_text[:-1], train_text[1:]), torch.ones(n_train - 1), accumulate=True)
bigram_logp = (counts / counts.sum(dim=1, keepdim=True)).log()
BIGRAM_VAL = -bigram_logp[val_text[:-1], val_text[1:]].mean().item()
print(f"{len(text):,} characters, vocabulary of {VOCAB} | bigram validation loss {BIGRAM_VAL:.3f} nats "
      f"(uniform guess: ln {VOCAB} = {math.log(VOCAB):.3f})")
print(text[1000:1200])

# %% [markdown] nbgrader={"grade": false, "grade_id": "batch_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Training pairs: the next-token shift.** A window of $T + 1$ consecutive characters
# $x_s, \dots, x_{s+T}$ gives $T$ training examples at once: the input is
# $x_s,\dots,x_{s+T-1}$ and the target at each position is the character that follows it,
# $x_{s+1},\dots,x_{s+T}$ — the same window shifted left by one. A causal model predicts all $T$
# targets in one forward pass.
#
# Write `get_batch(data, block_size, batch_size, generator)` returning `(x, y)`, two int64
# tensors of shape `(batch_size, block_size)`: draw `batch_size` random start positions $s$
# uniformly from **all** valid starts $0, \dots, \text{len(data)} - \text{block\_size} - 1$ with
# `torch.randint(..., generator=generator)` (so that a seeded generator gives the same batches),
# and return `x[b] = data[s_b : s_b + block_size]`, `y[b] = data[s_b + 1 : s_b + block_size + 1]`.

# %% nbgrader={"grade": false, "grade_id": "get_batch", "locked": false, "schema_version": 3, "solution": true, "task": false}
def get_batch(data, block_size, batch_size, generator):
    ### BEGIN SOLUTION
    starts = torch.randint(0, len(data) - block_size, (batch_size,), generator=generator)
    offsets = torch.arange(block_size)
    x = data[starts[:, None] + offsets]
    y = data[starts[:, None] + offsets + 1]
    return x, y
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_get_batch", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def check_batch(N, T, B, seed, label):
    data = torch.arange(N) * 10  # the value tells the position
    x, y = get_batch(data, T, B, make_generator(seed))
    check_tensor(x, shape=(B, T), dtype=torch.int64, name=f"x ({label})")
    check_tensor(y, shape=(B, T), dtype=torch.int64, name=f"y ({label})")
    starts = x[:, 0] // 10
    assert (starts >= 0).all() and (starts <= N - T - 1).all(), f"{label}: start positions out of range: {starts.tolist()}"
    windows = starts[:, None] + torch.arange(T)
    check_tensor(x, windows * 10, name=f"x: consecutive characters from the start ({label})")
    check_tensor(y, (windows + 1) * 10, name=f"y: the next characters, x shifted by one ({label})")
    torch.manual_seed(seed + 1)  # the global RNG must not matter, only the generator
    x2, _ = get_batch(data, T, B, make_generator(seed))
    check_tensor(x2, x, name=f"x drawn again with a generator seeded the same ({label})")
    return starts


check_batch(20, 4, 3, 0, "20 tokens, block 4, batch 3")
### BEGIN HIDDEN TESTS
check_batch(1000, 32, 16, 1, "1000 tokens, block 32, batch 16")
starts = check_batch(9, 5, 400, 2, "9 tokens, block 5: starts 0..3")
assert set(starts.tolist()) == {0, 1, 2, 3}, f"with 9 tokens and block 5 every start 0..3 is valid, drew {sorted(set(starts.tolist()))}"
starts = check_batch(6, 5, 5, 3, "6 tokens, block 5: only start 0")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "model_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **A decoder-only transformer.** Tokens become vectors through a token embedding plus a
# position embedding; a stack of blocks refines them; a final layer norm and a linear layer give
# logits over the vocabulary at every position. A (pre-norm) block is
#
# $$h \leftarrow h + \mathrm{MHA}(\mathrm{LN}(h))\ \text{(causal)},\qquad
# h \leftarrow h + \mathrm{MLP}(\mathrm{LN}(h)),$$
#
# with an MLP `Linear(d, 4d) → GELU → Linear(4d, d)`. The residual connections and layer norms
# keep gradients healthy in deep stacks. The causal mask is what makes it a *decoder*: the
# output at position $t$ may depend on tokens $0..t$ only, so changing a later token must not
# change it — otherwise the model would learn to read the answer it is asked to predict.
#
# Write `CharTransformer(vocab_size)` with `forward(idx)` mapping an int64 batch `(B, T)`,
# $T \le$ `BLOCK_SIZE`, to logits `(B, T, vocab_size)`, and `make_char_model(vocab_size)`
# returning a fresh one. A good size for the time budget: $d = 48$, 4 heads, 1 block (about
# 36k parameters; more blocks learn more per step but cost more time). You may use `nn.MultiheadAttention` (note its bool `attn_mask` means
# True = **not** allowed, the opposite of ours), your `MultiHeadAttention`, or
# `nn.TransformerEncoderLayer` with a causal mask. The tests train it for 300 steps of Adam
# (lr $3\cdot10^{-3}$, batches of 32 windows) and need the validation loss to beat the bigram
# baseline by 0.1 nats within 120 s of training; the reference reaches 2.29–2.32 nats against
# the bigram's 2.47, in about 1.5 s on an idle CPU core.

# %% nbgrader={"grade": false, "grade_id": "char_model", "locked": false, "schema_version": 3, "solution": true, "task": false}
class CharTransformer(nn.Module):
    ### BEGIN SOLUTION
    def __init__(self, vocab_size, block_size=BLOCK_SIZE, d_model=48, n_heads=4, n_layers=1):
        super().__init__()
        self.token = nn.Embedding(vocab_size, d_model)
        self.position = nn.Embedding(block_size, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_heads) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.lm_head = nn.Linear(d_model, vocab_size)

    def forward(self, idx):
        B, T = idx.shape
        positions = torch.arange(T, device=idx.device)
        h = self.token(idx) + self.position(positions)
        not_allowed = torch.ones(T, T, dtype=torch.bool, device=idx.device).triu(1)
        for block in self.blocks:
            h = block(h, not_allowed)
        return self.lm_head(self.norm(h))


class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = nn.MultiheadAttention(d_model, n_heads, batch_first=True)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, h, not_allowed):
        x = self.norm1(h)
        h = h + self.attn(x, x, x, attn_mask=not_allowed, need_weights=False)[0]
        return h + self.mlp(self.norm2(h))
    ### END SOLUTION


def make_char_model(vocab_size):
    ### BEGIN SOLUTION
    return CharTransformer(vocab_size)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_char_causal", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def check_causal(seed, B, T, changed_at, label):
    seed_everything(seed)
    model = make_char_model(VOCAB).to(DEVICE).eval()
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, VOCAB, (B, T), generator=g)
    other = idx.clone()
    other[:, changed_at] = (idx[:, changed_at] + 1 + torch.randint(0, VOCAB - 1, (B,), generator=g)) % VOCAB
    with torch.no_grad():
        a, b = model(idx.to(DEVICE)).cpu(), model(other.to(DEVICE)).cpu()
    check_tensor(a, shape=(B, T, VOCAB), name=f"logits ({label})")
    assert torch.isfinite(a).all(), f"{label}: the logits contain nan/inf (is some position allowed to attend to nothing?)"
    if changed_at > 0:
        check_tensor(b[:, :changed_at], a[:, :changed_at], atol=1e-5, rtol=1e-5,
                     name=f"logits before position {changed_at} after changing the token at {changed_at} ({label}): "
                          "a causal model cannot see the future")
    assert (b[:, changed_at] - a[:, changed_at]).abs().max() > 1e-4, (
        f"{label}: changing the token at position {changed_at} did not change the logits there: the prediction "
        "at position t must depend on token t itself")


check_causal(0, 2, 8, 5, "batch 2, length 8, token 5 changed")
### BEGIN HIDDEN TESTS
check_causal(1, 3, BLOCK_SIZE, 1, f"length {BLOCK_SIZE}, token 1 changed")
check_causal(2, 2, BLOCK_SIZE, BLOCK_SIZE - 1, f"length {BLOCK_SIZE}, last token changed")
check_causal(3, 4, 5, 0, "length 5, first token changed")
check_causal(4, 1, 12, 11, "length 12, last token changed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_char_trains", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from autograders import check_trains

LM_STEPS = 300


def train_lm(model, steps, batcher, lr=3e-3, batch_size=32, seed=0):
    model.to(DEVICE).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    g = make_generator(seed)
    for _ in range(steps):
        x, y = batcher(train_text, BLOCK_SIZE, batch_size, g)
        logits = model(x.to(DEVICE))
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.to(DEVICE).reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def val_loss(model):
    """Cross-entropy on 256 fixed validation windows (the same for every model)."""
    starts = torch.linspace(0, len(val_text) - BLOCK_SIZE - 2, 256).long()
    windows = val_text[starts[:, None] + torch.arange(BLOCK_SIZE + 1)]
    model.eval()
    with torch.no_grad():
        logits = model(windows[:, :-1].to(DEVICE)).cpu()
    check_tensor(logits, shape=(256, BLOCK_SIZE, VOCAB), name="logits on validation windows")
    return F.cross_entropy(logits.reshape(-1, VOCAB).double(), windows[:, 1:].reshape(-1)).item()


batcher = get_batch
### BEGIN HIDDEN TESTS
def batcher(data, block_size, batch_size, generator):  # the reference: a get_batch bug costs points once
    starts = torch.randint(0, len(data) - block_size, (batch_size,), generator=generator)
    window = starts[:, None] + torch.arange(block_size)
    return data[window], data[window + 1]


### END HIDDEN TESTS
lm_model = None


def train_char_model():
    global lm_model
    lm_model = train_lm(make_char_model(VOCAB), LM_STEPS, batcher)
    return lm_model


lm_loss = check_trains(train_char_model, val_loss, threshold=BIGRAM_VAL - 0.1, higher_is_better=False,
                       budget_s=120.0, seed=0, name="character transformer")
print(f"validation loss {lm_loss:.3f} nats (bigram {BIGRAM_VAL:.3f})")

# %% nbgrader={"grade": false, "grade_id": "char_sample", "locked": true, "schema_version": 3, "solution": false, "task": false}
@torch.no_grad()
def generate(model, prompt, n, temperature=0.8, seed=0):
    g = torch.Generator().manual_seed(seed)
    idx = torch.tensor([[stoi[c] for c in prompt]])
    model.eval()
    for _ in range(n):
        logits = model(idx[:, -BLOCK_SIZE:].to(DEVICE))[0, -1].cpu() / temperature
        idx = torch.cat([idx, torch.multinomial(torch.softmax(logits, -1), 1, generator=g)[None]], dim=1)
    return "".join(itos[int(i)] for i in idx[0])


if globals().get("lm_model") is not None:
    print(generate(lm_model, "MACBETH.\n", 300))
else:
    print("train the model first (the test above)")

# %% [markdown] nbgrader={"grade": false, "grade_id": "vae_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 4 — a variational auto-encoder (2 + 2 + 1 + 2 points)
#
# A VAE is a generative model $p_\theta(x) = \int p_\theta(x\mid z)\,p(z)\,dz$ with a simple prior
# $p(z) = \mathcal N(0, I)$ and a **decoder** network giving $p_\theta(x\mid z)$. The integral is
# intractable, so an **encoder** network outputs an approximate posterior
# $q_\phi(z\mid x) = \mathcal N(\mu, \mathrm{diag}(\sigma^2))$ and both are trained to maximise
# the **evidence lower bound** $\mathrm{ELBO} \le \log p_\theta(x)$:
#
# $$\mathrm{ELBO}(x) = \mathbb{E}_{q_\phi(z\mid x)}\big[\log p_\theta(x\mid z)\big] -
# \mathrm{KL}\big(q_\phi(z\mid x)\,\|\,p(z)\big).$$
#
# **The reparameterisation trick.** Sampling $z \sim \mathcal N(\mu, \sigma^2)$ is not
# differentiable in $\mu, \sigma$. Writing $z = \mu + \sigma\odot\varepsilon$ with
# $\varepsilon\sim\mathcal N(0, I)$ moves the randomness into $\varepsilon$, and gradients flow to
# $\mu$ and $\sigma$. The encoder outputs $\log\sigma^2$ (`logvar`, any real number), so
# $\sigma = \exp(\tfrac12\,\mathrm{logvar})$ — the *standard deviation*, not the variance.
#
# **The KL term in closed form.** For $q = \mathcal N(\mu, \sigma^2)$ and $p = \mathcal N(0, 1)$
# per latent dimension, $\mathrm{KL}(q\|p) = \mathbb E_q[\log q(z) - \log p(z)]
# = \tfrac12\left(\mu^2 + \sigma^2 - 1 - \log\sigma^2\right)$, summed over the latent dimensions.
# It is never negative and is 0 exactly when $q = p$. The tests also compare it with a
# Monte-Carlo estimate of the expectation.
#
# Write `reparameterize(mu, logvar)` returning a sample $z$ of the same shape, and
# `kl_normal(mu, logvar)` returning the `(N,)` KL of each row of `(N, latent)` inputs (closed
# form; `torch.distributions` is off limits here).

# %% nbgrader={"grade": false, "grade_id": "reparameterize", "locked": false, "schema_version": 3, "solution": true, "task": false}
def reparameterize(mu, logvar):
    ### BEGIN SOLUTION
    std = torch.exp(0.5 * logvar)
    return mu + std * torch.randn_like(std)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_reparameterize", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def check_reparameterize(mu, std, n, label):
    seed_everything(0)
    mu_big = mu.repeat(n, 1).to(DEVICE).requires_grad_()
    logvar_big = (2 * std.log()).repeat(n, 1).to(DEVICE).requires_grad_()
    z = reparameterize(mu_big, logvar_big)
    check_tensor(z, shape=tuple(mu_big.shape), name=f"z ({label})")
    assert z.requires_grad, f"{label}: z must stay connected to mu and logvar (no detach / torch.normal)"
    z.sum().backward()
    assert mu_big.grad is not None and logvar_big.grad is not None, f"{label}: no gradient reached mu or logvar"
    check_tensor(mu_big.grad.cpu(), torch.ones_like(mu_big.grad).cpu(), name=f"d sum(z) / d mu ({label})")
    # z = mu + exp(logvar / 2) * eps, so dz / dlogvar = exp(logvar / 2) * eps / 2 = (z - mu) / 2
    check_tensor(logvar_big.grad.cpu(), ((z - mu_big) / 2).detach().cpu(), rtol=1e-4, atol=1e-5,
                 name=f"d sum(z) / d logvar ({label}): the noise must be scaled by exp(logvar / 2)")
    z = z.detach().cpu()
    se = std / math.sqrt(n)
    assert ((z.mean(0) - mu).abs() < 6 * se + 1e-6).all(), f"{label}: sample mean {z.mean(0).tolist()} is not mu = {mu.tolist()}"
    assert ((z.std(0) - std).abs() < 0.03 * std + 1e-6).all(), (
        f"{label}: sample standard deviation {z.std(0).tolist()} is not sigma = exp(logvar / 2) = {std.tolist()}")
    eps = (z - mu) / std  # the noise recovered from the sample must be standard normal
    assert abs(eps.mean().item()) < 0.02 and abs(eps.std().item() - 1) < 0.02, f"{label}: the noise is not N(0, 1)"


check_reparameterize(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 2.0]]), 20000, "mu = [0, 1], sigma = [1, 2]")
### BEGIN HIDDEN TESTS
check_reparameterize(torch.tensor([[3.0, -2.0, 0.5]]), torch.tensor([[0.5, 3.0, 0.1]]), 20000, "three latent dimensions")
z1 = reparameterize(torch.zeros(4, 3), torch.zeros(4, 3))
z2 = reparameterize(torch.zeros(4, 3), torch.zeros(4, 3))
assert not torch.equal(z1, z2), "two calls gave the same z: the sample needs fresh noise each time"
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "kl_normal", "locked": false, "schema_version": 3, "solution": true, "task": false}
def kl_normal(mu, logvar):
    ### BEGIN SOLUTION
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_kl_normal", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def monte_carlo_kl(mu, logvar, n=200000, seed=0):
    """E_q[log q(z) - log p(z)] estimated from n samples of z ~ q, per row; with its standard error."""
    g = torch.Generator().manual_seed(seed)
    std = (0.5 * logvar).exp()
    z = mu[None] + std[None] * torch.randn(n, *mu.shape, generator=g, dtype=torch.float64)
    log_q = (-0.5 * ((z - mu) / std) ** 2 - std.log() - 0.5 * math.log(2 * math.pi)).sum(-1)
    log_p = (-0.5 * z**2 - 0.5 * math.log(2 * math.pi)).sum(-1)
    diff = log_q - log_p
    return diff.mean(0), diff.std(0) / math.sqrt(n)


def check_kl(mu, logvar, label):
    got = kl_normal(mu.to(DEVICE), logvar.to(DEVICE))
    check_tensor(got, shape=(mu.shape[0],), name=f"kl_normal ({label})")
    estimate, se = monte_carlo_kl(mu, logvar)
    assert ((got.cpu().double() - estimate).abs() <= 5 * se + 1e-9).all(), (
        f"{label}: kl_normal gave {got.tolist()} but a Monte-Carlo estimate of E_q[log q - log p] is "
        f"{estimate.tolist()} (± {se.max().item():.2g})")
    ### BEGIN HIDDEN TESTS
    closed = torch.distributions.kl_divergence(torch.distributions.Normal(mu, (0.5 * logvar).exp()),
                                               torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu)))
    check_tensor(got.cpu(), closed.sum(-1), rtol=1e-9, atol=1e-12, name=f"kl_normal ({label})")
    ### END HIDDEN TESTS


check_source_forbids(kl_normal, ["torch.distributions", "kl_divergence", "Normal"])
check_kl(torch.tensor([[0.5, -1.0]], dtype=torch.float64), torch.tensor([[0.0, math.log(0.25)]], dtype=torch.float64),
         "mu = [0.5, -1], sigma^2 = [1, 0.25]")
### BEGIN HIDDEN TESTS
g = torch.Generator().manual_seed(3)
check_kl(torch.randn(4, 3, generator=g, dtype=torch.float64), torch.randn(4, 3, generator=g, dtype=torch.float64),
         "4 random rows, 3 latent dimensions")
check_kl(torch.zeros(2, 5, dtype=torch.float64), torch.zeros(2, 5, dtype=torch.float64), "q = p: KL = 0")
check_kl(torch.tensor([[2.0], [0.0]], dtype=torch.float64), torch.tensor([[1.5], [-2.0]], dtype=torch.float64),
         "one latent dimension, wide and narrow q")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "elbo_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **The VAE on 8×8 digits.** scikit-learn's 1,797 digits have 64 pixels with values 0–16; scaled
# to $[0, 1]$ each pixel is treated as a Bernoulli probability, so the decoder outputs 64
# **logits** and $-\log p_\theta(x\mid z)$ is the binary cross-entropy summed over the pixels
# (`F.binary_cross_entropy_with_logits(x_logits, x, reduction="none")`, then sum). The VAE below
# (given) encodes to a 4-dimensional latent and uses your `reparameterize`.
#
# Write `negative_elbo(x, x_logits, mu, logvar)`: the **mean over the batch** of
# (reconstruction BCE **summed over the 64 pixels**) + `kl_normal(mu, logvar)` — one sample of
# $z$ per example estimates the expectation. Summing over pixels (not averaging) matters: it
# keeps the two terms in the proportion the ELBO prescribes. Minimising it maximises the ELBO;
# the tests check it, then train the VAE with it and need the negative ELBO to fall.

# %% nbgrader={"grade": false, "grade_id": "vae_data", "locked": true, "schema_version": 3, "solution": false, "task": false}
from sklearn.datasets import load_digits

digits = load_digits()
digit_pixels = torch.tensor(digits.data, dtype=torch.float32) / 16.0  # (1797, 64) in [0, 1]
digit_labels = torch.tensor(digits.target)


class VAE(nn.Module):
    def __init__(self, latent=4, hidden=128):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, 64))
        self.latent = latent

    def forward(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return self.decoder(reparameterize(mu, logvar)), mu, logvar


# %% nbgrader={"grade": false, "grade_id": "negative_elbo", "locked": false, "schema_version": 3, "solution": true, "task": false}
def negative_elbo(x, x_logits, mu, logvar):
    ### BEGIN SOLUTION
    reconstruction = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(dim=-1)
    return (reconstruction + kl_normal(mu, logvar)).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_negative_elbo", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
def reference_kl(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=-1)


def check_elbo(seed, N, P, L, label):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(N, P, generator=g, dtype=torch.float64)
    x_logits = 3 * torch.randn(N, P, generator=g, dtype=torch.float64)
    mu, logvar = torch.randn(N, L, generator=g, dtype=torch.float64), torch.randn(N, L, generator=g, dtype=torch.float64)
    got = negative_elbo(x.to(DEVICE), x_logits.to(DEVICE), mu.to(DEVICE), logvar.to(DEVICE))
    p = torch.sigmoid(x_logits)
    bce = -(x * p.log() + (1 - x) * (1 - p).log()).sum(-1)
    check_tensor(got.cpu(), (bce + reference_kl(mu, logvar)).mean(), shape=(), rtol=1e-8, name=f"negative_elbo ({label})")


### BEGIN HIDDEN TESTS
_student_kl, kl_normal = kl_normal, reference_kl  # a bug in kl_normal costs points there, not here
### END HIDDEN TESTS
check_elbo(0, 3, 64, 4, "batch 3, 64 pixels, latent 4")
### BEGIN HIDDEN TESTS
check_elbo(1, 10, 64, 2, "batch 10, latent 2")
check_elbo(2, 1, 5, 3, "one example, 5 pixels")
kl_normal = _student_kl
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_vae_trains", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
VAE_STEPS = 400


def full_negative_elbo(model):
    """The reference negative ELBO on all 1,797 digits (one fixed sample of z)."""
    x = digit_pixels.to(DEVICE)
    model.eval()
    with torch.no_grad():
        mu, logvar = model.encoder(x).chunk(2, dim=-1)
        z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape, generator=make_generator(7)).to(DEVICE)
        bce = F.binary_cross_entropy_with_logits(model.decoder(z), x, reduction="none").sum(-1)
        return (bce + 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(-1)).mean().item()


vae_history = []


def train_vae():
    model = VAE().to(DEVICE)
    vae_history.append(("start", full_negative_elbo(model)))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    g = make_generator(1)
    model.train()
    for step in range(VAE_STEPS):
        xb = digit_pixels[torch.randint(0, len(digit_pixels), (128,), generator=g)].to(DEVICE)
        loss = negative_elbo(xb, *model(xb))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        vae_history.append((step, loss.item()))
    return model


### BEGIN HIDDEN TESTS
_student_fns = reparameterize, kl_normal


def reparameterize(mu, logvar):  # the references: bugs in Task 4's first parts cost points there
    return mu + (0.5 * logvar).exp() * torch.randn_like(mu)


kl_normal = reference_kl
### END HIDDEN TESTS
seed_everything(0)
vae_model = train_vae()
start_value, final_value = vae_history[0][1], full_negative_elbo(vae_model)
late = sum(v for _, v in vae_history[-50:]) / 50
early = sum(v for _, v in vae_history[1:51]) / 50
print(f"negative ELBO on all digits: {start_value:.2f} before training, {final_value:.2f} after {VAE_STEPS} steps "
      f"(training loss {early:.2f} -> {late:.2f})")
assert math.isfinite(final_value) and late < early - 5, (
    f"the training loss did not fall: mean of the first 50 steps {early:.2f}, of the last 50 {late:.2f}")
assert final_value <= 27.0, (
    f"the negative ELBO on all digits is {final_value:.2f} after training; the reference reaches 24.6-24.7 "
    "(needs <= 27). Check the reconstruction term sums over pixels and the KL is added, not subtracted.")
### BEGIN HIDDEN TESTS
reparameterize, kl_normal = _student_fns
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "vae_samples", "locked": true, "schema_version": 3, "solution": false, "task": false}
if globals().get("vae_model") is not None:
    with torch.no_grad():
        samples = torch.sigmoid(vae_model.decoder(torch.randn(16, vae_model.latent, generator=make_generator(3)).to(DEVICE)))
    fig, axes = plt.subplots(2, 16, figsize=(8, 1.2))
    for i in range(16):
        axes[0, i].imshow(digit_pixels[i].reshape(8, 8), cmap="gray_r")
        axes[1, i].imshow(samples[i].cpu().reshape(8, 8), cmap="gray_r")
        axes[0, i].axis("off")
        axes[1, i].axis("off")
    fig.suptitle("top: real digits · bottom: VAE samples decoded from z ~ N(0, I)", fontsize=8)
    plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "gan_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 5 — a GAN on a ring of Gaussians (3 + 2 points)
#
# A **generative adversarial network** trains two networks against each other. The
# **generator** $G$ maps noise $z\sim\mathcal N(0, I)$ to fake samples; the **discriminator**
# $D$ outputs a logit, "how real does this look". $D$ is trained as a binary classifier (real
# → label 1, fake → label 0); $G$ is trained to make $D$ call its samples real. With
# $\sigma$ the sigmoid and BCE the binary cross-entropy on logits:
#
# $$L_D = \mathrm{BCE}\big(D(x_{\text{real}}), 1\big) + \mathrm{BCE}\big(D(G(z)), 0\big),\qquad
# L_G = \mathrm{BCE}\big(D(G(z)), 1\big) = -\mathbb E\log\sigma(D(G(z))).$$
#
# $L_G$ is the **non-saturating** loss: the original minimax objective would minimise
# $\log(1 - \sigma(D(G(z))))$, whose gradient vanishes exactly when $D$ confidently rejects the
# fakes — at the start of training. Two details make or break the updates:
#
# * in the discriminator step the fakes are `G(z).detach()`: $L_D$ must not send gradients into
#   $G$ (and only `opt_D` steps);
# * in the generator step the gradient flows *through* $D$ into $G$, but only `opt_G` steps —
#   $D$'s weights stay as they are (its `.grad` gets filled, which is why every step starts with
#   `zero_grad()`).
#
# The data: a ring of 8 Gaussians (radius 2, standard deviation 0.1). A classic failure of GANs
# is **mode collapse** — the generator covers only a few of the 8 modes.
#
# Write `discriminator_step(G, D, opt_D, real, z)` and `generator_step(G, D, opt_G, z)`: each
# zeroes its optimizer's gradients, computes its loss (each BCE the mean over the batch, with
# `F.binary_cross_entropy_with_logits`), backpropagates, steps its own optimizer, and returns
# the loss as a Python float.

# %% nbgrader={"grade": false, "grade_id": "gan_setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
RING_STD = 0.1
_angles = torch.arange(8) * 2 * math.pi / 8
RING_MODES = 2.0 * torch.stack([_angles.cos(), _angles.sin()], dim=1)  # (8, 2)


def sample_ring(n, generator):
    mode = torch.randint(0, 8, (n,), generator=generator)
    return RING_MODES[mode] + RING_STD * torch.randn(n, 2, generator=generator)


def make_gan_net(n_in, n_out, hidden=64):
    return nn.Sequential(nn.Linear(n_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                         nn.Linear(hidden, n_out))


def mode_coverage(G, n=2000, seed=99):
    """(number of modes holding >= 2 % of the samples, fraction of samples within 4 std of a mode)."""
    with torch.no_grad():
        x = G(torch.randn(n, 2, generator=make_generator(seed)).to(DEVICE)).cpu()
    distance, nearest = torch.cdist(x, RING_MODES).min(dim=1)
    good = distance < 4 * RING_STD
    counts = torch.bincount(nearest[good], minlength=8)
    return int((counts >= 0.02 * n).sum()), good.double().mean().item()


# %% nbgrader={"grade": false, "grade_id": "gan_steps", "locked": false, "schema_version": 3, "solution": true, "task": false}
def discriminator_step(G, D, opt_D, real, z):
    ### BEGIN SOLUTION
    opt_D.zero_grad()
    fake = G(z).detach()
    logits_real, logits_fake = D(real), D(fake)
    loss = (F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
            + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake)))
    loss.backward()
    opt_D.step()
    return loss.item()
    ### END SOLUTION


def generator_step(G, D, opt_G, z):
    ### BEGIN SOLUTION
    opt_G.zero_grad()
    logits = D(G(z))
    loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    loss.backward()
    opt_G.step()
    return loss.item()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gan_steps", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def gan_pair(seed):
    torch.manual_seed(seed)
    return make_gan_net(2, 2).double().to(DEVICE), make_gan_net(2, 1).double().to(DEVICE)


def bce_logits(logits, target):
    return -(target * F.logsigmoid(logits) + (1 - target) * F.logsigmoid(-logits)).mean()


def params_of(module):
    return [p.detach().clone() for p in module.parameters()]


def same_params(module, before, what):
    for k, (p, q) in enumerate(zip(module.parameters(), before)):
        check_tensor(p.detach().cpu(), q.cpu(), rtol=0, atol=0, name=f"{what}: parameter {k}")


def check_d_step(seed, n, lr, label, dirty=False):
    G, D = gan_pair(seed)
    g = torch.Generator().manual_seed(seed + 10)
    real = (RING_MODES[torch.randint(0, 8, (n,), generator=g)].double() + 0.1 * torch.randn(n, 2, generator=g, dtype=torch.float64)).to(DEVICE)
    z = torch.randn(n, 2, generator=g, dtype=torch.float64).to(DEVICE)
    G_before, D_before = params_of(G), params_of(D)
    with torch.no_grad():
        fake = G(z)
    D_ref = copy.deepcopy(D)
    expected = bce_logits(D_ref(real), 1.0) + bce_logits(D_ref(fake), 0.0)
    expected.backward()
    with torch.no_grad():
        for p in D_ref.parameters():
            p -= lr * p.grad
    opt_D = torch.optim.SGD(D.parameters(), lr=lr)
    if dirty:  # gradients left over from an earlier generator step
        for p in D.parameters():
            p.grad = torch.full_like(p, 0.5)
    got = discriminator_step(G, D, opt_D, real, z)
    assert isinstance(got, float), f"discriminator_step should return the loss as a float, got {type(got).__name__}"
    check_close(got, expected.item(), rtol=1e-9, name=f"discriminator loss ({label})")
    for k, (p, q) in enumerate(zip(D.parameters(), D_ref.parameters())):
        check_tensor(p.detach().cpu(), q.detach().cpu(), rtol=1e-9, atol=1e-12, name=f"D parameter {k} after the step ({label})")
    same_params(G, G_before, f"the discriminator step must not change G ({label})")


def check_g_step(seed, n, lr, label, dirty=False):
    G, D = gan_pair(seed)
    z = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed + 20), dtype=torch.float64).to(DEVICE)
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    expected = bce_logits(D_ref(G_ref(z)), 1.0)
    expected.backward()
    with torch.no_grad():
        for p in G_ref.parameters():
            p -= lr * p.grad
    D_before = params_of(D)
    opt_G = torch.optim.SGD(G.parameters(), lr=lr)
    if dirty:
        for p in G.parameters():
            p.grad = torch.full_like(p, 0.5)
    got = generator_step(G, D, opt_G, z)
    assert isinstance(got, float), f"generator_step should return the loss as a float, got {type(got).__name__}"
    check_close(got, expected.item(), rtol=1e-9, name=f"generator loss ({label})")
    for k, (p, q) in enumerate(zip(G.parameters(), G_ref.parameters())):
        check_tensor(p.detach().cpu(), q.detach().cpu(), rtol=1e-9, atol=1e-12, name=f"G parameter {k} after the step ({label})")
    same_params(D, D_before, f"the generator step must not change D ({label})")


check_d_step(0, 16, 0.1, "batch 16")
check_g_step(0, 16, 0.1, "batch 16")
### BEGIN HIDDEN TESTS
check_d_step(1, 7, 0.5, "batch 7, lr 0.5")
check_d_step(2, 32, 0.1, "stale gradients in D before the step", dirty=True)
check_g_step(1, 9, 0.5, "batch 9, lr 0.5")
check_g_step(2, 32, 0.1, "stale gradients in G before the step", dirty=True)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_gan_trains", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
GAN_STEPS = 600
gan_snapshots = []


def train_gan(steps=GAN_STEPS, batch=128, lr=2e-3, snapshot_every=150):
    G, D = make_gan_net(2, 2).to(DEVICE), make_gan_net(2, 1).to(DEVICE)
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    g = make_generator(torch.initial_seed() % 2**31)
    fixed_z = torch.randn(500, 2, generator=make_generator(5)).to(DEVICE)
    gan_snapshots.clear()
    for step in range(steps + 1):
        if step % snapshot_every == 0:
            with torch.no_grad():
                gan_snapshots.append((step, G(fixed_z).cpu()))
        if step == steps:
            break
        discriminator_step(G, D, opt_D, sample_ring(batch, g).to(DEVICE), torch.randn(batch, 2, generator=g).to(DEVICE))
        generator_step(G, D, opt_G, torch.randn(batch, 2, generator=g).to(DEVICE))
    return G


def check_gan(seed):
    G = None

    def run():
        nonlocal G
        G = train_gan()
        return G

    modes = check_trains(run, lambda G: mode_coverage(G)[0], threshold=6, budget_s=120.0, seed=seed,
                         name=f"GAN (seed {seed}): modes covered")
    near = mode_coverage(G)[1]
    print(f"seed {seed}: {int(modes)} of 8 modes covered, {near:.0%} of the samples within 4 std of a mode")
    assert near >= 0.4, f"GAN (seed {seed}): only {near:.0%} of the samples lie near a mode (the reference: 55 % or more)"


check_gan(0)
### BEGIN HIDDEN TESTS
check_gan(1)
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "gan_plot", "locked": true, "schema_version": 3, "solution": false, "task": false}
if gan_snapshots:
    fig, axes = plt.subplots(1, len(gan_snapshots), figsize=(2 * len(gan_snapshots), 2), sharex=True, sharey=True)
    for ax, (step, x) in zip(axes, gan_snapshots):
        ax.scatter(RING_MODES[:, 0], RING_MODES[:, 1], c="red", s=30, marker="x")
        ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.5)
        ax.set_title(f"step {step}", fontsize=8)
        ax.set_xlim(-3, 3)
        ax.set_ylim(-3, 3)
    fig.suptitle("generator samples over training (red: the 8 modes)", fontsize=8)
    plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "transfer_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Task 6 — transfer learning with the course's pretrained CNN (3 + 2 points)
#
# A network trained on a large dataset learns features — edges, strokes, shapes — that help on
# related tasks with little data. **Transfer learning** reuses its weights: load the pretrained
# **backbone**, **freeze** it (no gradients, no updates), replace the task-specific **head** with
# a fresh layer for the new classes, and train only the head. Fine-tuning a few parameters on a
# good representation beats training everything from scratch when labelled examples are scarce.
#
# `pretrained_cnn.pt` (shipped with this assignment; `README.md` says how
# `course/tools/make_pretrained_cnn.py` made it) holds the `state_dict` of the `SmallCNN` below,
# trained on 4,500 MNIST digits (28×28) to 95.6 % held-out accuracy. The new task: scikit-learn's
# 8×8 digits — another dataset, scanned differently — upsampled to 20×20 and padded to 28×28
# like MNIST, with only **3 labelled examples per class**.
#
# Freezing, precisely: `p.requires_grad_(False)` on every backbone parameter, so `backward()`
# computes no gradient for them (`.grad` stays `None`) — faster, and nothing can change them.
# The optimizer should then hold only the trainable parameters: build it from
# `[p for p in model.parameters() if p.requires_grad]` (or `model.head.parameters()`).
#
# Write `make_transfer_model(state_dict, num_classes)`: a `SmallCNN` with the pretrained weights
# loaded, its `features` frozen and its `head` replaced by a fresh `nn.Linear(64, num_classes)`,
# moved to `DEVICE`; and `head_optimizer(model, lr)`: an `Adam` over the trainable parameters
# only. The tests fine-tune with them for 50 full-batch steps and compare with the same
# `SmallCNN` trained from scratch for the same 50 steps.

# %% nbgrader={"grade": false, "grade_id": "transfer_setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
PRETRAINED = Path("pretrained_cnn.pt")
PRETRAINED_SHA256 = "e9892e205ef59c4589f06809e1b94561612c79f06a8c3693e4935b15ea027f4d"


class SmallCNN(nn.Module):
    """28x28 grey image -> 64 features (the backbone) -> num_classes logits (the head)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),   # 28 -> 24 -> 12
            nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),  # 12 -> 8 -> 4
            nn.Flatten(), nn.Linear(16 * 4 * 4, 64), nn.ReLU(),
        )
        self.head = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.head(self.features(x))


digest = hashlib.sha256(PRETRAINED.read_bytes()).hexdigest()
print("pretrained_cnn.pt:", "the shipped file (sha256 matches)" if digest == PRETRAINED_SHA256
      else f"sha256 {digest} differs from the shipped file's: rebuilt locally?")
pretrained_state = torch.load(PRETRAINED, map_location="cpu", weights_only=True)
print({k: tuple(v.shape) for k, v in pretrained_state.items()})

digit_images = F.pad(F.interpolate(torch.tensor(digits.images, dtype=torch.float32)[:, None] / 16.0,
                                   size=(20, 20), mode="bilinear", align_corners=False), (4, 4, 4, 4))


def few_shot_split(seed, shots=3):
    """`shots` training examples per class; every other digit is for testing."""
    g = torch.Generator().manual_seed(seed)
    train_idx = torch.cat([(digit_labels == c).nonzero().flatten()[torch.randperm(int((digit_labels == c).sum()), generator=g)[:shots]]
                           for c in range(10)])
    test = torch.ones(len(digit_labels), dtype=torch.bool)
    test[train_idx] = False
    return train_idx, test.nonzero().flatten()


# %% nbgrader={"grade": false, "grade_id": "transfer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def make_transfer_model(state_dict, num_classes):
    ### BEGIN SOLUTION
    model = SmallCNN()
    model.load_state_dict(state_dict)
    for p in model.features.parameters():
        p.requires_grad_(False)
    model.head = nn.Linear(model.head.in_features, num_classes)
    return model.to(DEVICE)
    ### END SOLUTION


def head_optimizer(model, lr):
    ### BEGIN SOLUTION
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_transfer_frozen", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def check_transfer_structure(num_classes, seed, label):
    torch.manual_seed(seed)
    model = make_transfer_model(pretrained_state, num_classes)
    assert isinstance(model, nn.Module), f"make_transfer_model should return the model, got {type(model).__name__}"
    state = model.state_dict()
    for name, value in pretrained_state.items():
        if name.startswith("features."):
            assert name in state, f"{label}: the model has no {name}: keep SmallCNN's structure"
            check_tensor(state[name].cpu(), value, rtol=0, atol=0, name=f"{name} (the pretrained weights must be loaded)")
    frozen = [n for n, p in model.features.named_parameters() if p.requires_grad]
    assert not frozen, f"{label}: backbone parameters still trainable: {frozen}; freeze them with requires_grad_(False)"
    check_tensor(model.head.weight, shape=(num_classes, 64), name=f"head.weight ({label})")
    assert all(p.requires_grad for p in model.head.parameters()), f"{label}: the new head must be trainable"
    if num_classes == 10:
        assert not torch.equal(model.head.weight.detach().cpu(), pretrained_state["head.weight"]), (
            f"{label}: the head still holds the pretrained head's weights: replace it with a fresh nn.Linear")
    check_parameter_count(model, 64 * num_classes + num_classes)  # trainable parameters: the head only
    x = digit_images[:5].to(DEVICE)
    F.cross_entropy(model(x), torch.arange(5).to(DEVICE) % num_classes).backward()
    reached = [n for n, p in model.features.named_parameters() if p.grad is not None]
    assert not reached, f"{label}: gradients reached the frozen backbone: {reached}"
    assert all(p.grad is not None for p in model.head.parameters()), f"{label}: no gradient reached the head"
    optimizer = head_optimizer(model, 1e-2)
    assert isinstance(optimizer, torch.optim.Adam), f"head_optimizer should return torch.optim.Adam, got {type(optimizer).__name__}"
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    head = {id(p) for p in model.head.parameters()}
    assert held == head, (
        f"{label}: the optimizer holds {len(held)} tensors but should hold exactly the head's {len(head)} (weight and "
        "bias): frozen parameters do not belong in it")
    return model


check_transfer_structure(10, 0, "10 classes")
### BEGIN HIDDEN TESTS
check_transfer_structure(4, 1, "4 classes")
check_transfer_structure(2, 2, "2 classes")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_transfer_beats_scratch", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def fit_full_batch(model, optimizer, X, y, steps=50):
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(X), y).backward()
        optimizer.step()
    return model


def test_accuracy(model, idx):
    model.eval()
    with torch.no_grad():
        predicted = model(digit_images[idx].to(DEVICE)).argmax(dim=1).cpu()
    return (predicted == digit_labels[idx]).double().mean().item()


def compare_with_scratch(seed):
    train_idx, test_idx = few_shot_split(seed)
    X, y = digit_images[train_idx].to(DEVICE), digit_labels[train_idx].to(DEVICE)
    seed_everything(seed)
    model = make_transfer_model(pretrained_state, 10)
    backbone = [p.detach().clone() for p in model.features.parameters()]
    fit_full_batch(model, head_optimizer(model, 1e-2), X, y)
    for k, (p, q) in enumerate(zip(model.features.parameters(), backbone)):
        check_tensor(p.detach(), q, rtol=0, atol=0, name=f"backbone parameter {k} after fine-tuning (it is frozen)")
    transfer = test_accuracy(model, test_idx)
    seed_everything(seed)
    scratch_model = SmallCNN().to(DEVICE)
    scratch = test_accuracy(fit_full_batch(scratch_model, torch.optim.Adam(scratch_model.parameters(), lr=1e-2), X, y), test_idx)
    print(f"split {seed}: fine-tuned head {transfer:.1%} vs from scratch {scratch:.1%} on {len(test_idx)} test digits")
    assert transfer >= 0.78, f"split {seed}: the fine-tuned model reaches {transfer:.1%}; the reference reaches 83 % or more (needs 78 %)"
    assert transfer >= scratch + 0.02, f"split {seed}: fine-tuning ({transfer:.1%}) should beat training from scratch ({scratch:.1%})"
    return transfer


acc0 = compare_with_scratch(0)
### BEGIN HIDDEN TESTS
acc1 = compare_with_scratch(1)
### END HIDDEN TESTS
