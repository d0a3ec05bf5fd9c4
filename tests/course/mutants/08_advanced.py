"""Planted wrong solutions for 08_advanced: each must lose points when autograded."""
# ruff: noqa: E501  (planted cell sources are data: long string literals read best unsplit)


def _sub(source: str, *pairs: str) -> str:
    """`source` with each (old, new) pair replaced; every old must occur (a typo fails loudly)."""
    for old, new in zip(pairs[::2], pairs[1::2], strict=True):
        assert old in source, f"mutant template lacks {old!r}"
        source = source.replace(old, new)
    return source


_MASKS = '''def causal_mask(T):
    return torch.ones(T, T, dtype=torch.bool).tril()


def padding_mask(lengths, T):
    positions = torch.arange(T, device=lengths.device)
    return positions[None, :] < lengths[:, None]
'''

_ATTENTION = '''def attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights
'''

_MHA = '''class MultiHeadAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
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
'''

_POSITIONAL = '''def sinusoidal_encoding(T, d):
    position = torch.arange(T, dtype=torch.float64)[:, None]
    frequency = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    pe = torch.zeros(T, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * frequency)
    pe[:, 1::2] = torch.cos(position * frequency)
    return pe.float()
'''

_GET_BATCH = '''def get_batch(data, block_size, batch_size, generator):
    starts = torch.randint(0, len(data) - block_size, (batch_size,), generator=generator)
    offsets = torch.arange(block_size)
    x = data[starts[:, None] + offsets]
    y = data[starts[:, None] + offsets + 1]
    return x, y
'''

_CHAR_MODEL = '''class CharTransformer(nn.Module):
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


def make_char_model(vocab_size):
    return CharTransformer(vocab_size)
'''

_REPARAMETERIZE = '''def reparameterize(mu, logvar):
    std = torch.exp(0.5 * logvar)
    return mu + std * torch.randn_like(std)
'''

_KL = '''def kl_normal(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=-1)
'''

_ELBO = '''def negative_elbo(x, x_logits, mu, logvar):
    reconstruction = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(dim=-1)
    return (reconstruction + kl_normal(mu, logvar)).mean()
'''

_GAN = '''def discriminator_step(G, D, opt_D, real, z):
    opt_D.zero_grad()
    fake = G(z).detach()
    logits_real, logits_fake = D(real), D(fake)
    loss = (F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
            + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake)))
    loss.backward()
    opt_D.step()
    return loss.item()


def generator_step(G, D, opt_G, z):
    opt_G.zero_grad()
    logits = D(G(z))
    loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    loss.backward()
    opt_G.step()
    return loss.item()
'''

_TRANSFER = '''def make_transfer_model(state_dict, num_classes):
    model = SmallCNN()
    model.load_state_dict(state_dict)
    for p in model.features.parameters():
        p.requires_grad_(False)
    model.head = nn.Linear(model.head.in_features, num_classes)
    return model.to(DEVICE)


def head_optimizer(model, lr):
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
'''


def _m(name, cell, template, *pairs):
    return {"name": name, "cell": cell, "source": _sub(template, *pairs)}


MUTANTS = [
    # masks
    _m("causal_mask_upper_triangle", "masks", _MASKS, ".tril()", ".triu()"),
    _m("causal_mask_excludes_diagonal", "masks", _MASKS, ".tril()", ".tril(-1)"),
    _m("padding_mask_off_by_one", "masks", _MASKS, "positions[None, :] < lengths", "positions[None, :] <= lengths"),
    _m("padding_mask_marks_padding", "masks", _MASKS, "positions[None, :] < lengths", "positions[None, :] >= lengths"),
    # attention
    _m("attention_no_scaling", "attention", _ATTENTION, " / math.sqrt(q.shape[-1])", ""),
    _m("attention_scaled_by_d", "attention", _ATTENTION, "math.sqrt(q.shape[-1])", "q.shape[-1]"),
    _m("attention_mask_after_softmax", "attention", _ATTENTION,
       '''    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
''', '''    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = weights * mask
'''),
    _m("attention_softmax_over_queries", "attention", _ATTENTION, "torch.softmax(scores, dim=-1)", "torch.softmax(scores, dim=-2)"),
    _m("attention_masked_with_zero", "attention", _ATTENTION, 'float("-inf")', "0.0"),
    _m("attention_calls_library", "attention", _ATTENTION,
       "    weights = torch.softmax(scores, dim=-1)\n    return weights @ v, weights\n",
       "    weights = torch.softmax(scores, dim=-1)\n    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask), weights\n"),
    # multi-head attention
    _m("mha_split_without_transpose", "mha", _MHA,
       "x.view(B, T, self.num_heads, E // self.num_heads).transpose(1, 2)", "x.view(B, self.num_heads, T, E // self.num_heads)"),
    _m("mha_merge_without_transpose", "mha", _MHA, "out.transpose(1, 2).reshape(B, Tq, E)", "out.reshape(B, Tq, E)"),
    _m("mha_no_output_projection", "mha", _MHA, "return self.out_proj(out.transpose(1, 2).reshape(B, Tq, E))",
       "return out.transpose(1, 2).reshape(B, Tq, E)"),
    _m("mha_query_projection_for_keys", "mha", _MHA, "k = self._split(self.k_proj(key))", "k = self._split(self.q_proj(key))"),
    # positional encoding
    _m("positional_sin_cos_swapped", "positional", _POSITIONAL, "pe[:, 0::2] = torch.sin", "pe[:, 0::2] = torch.cos",
       "pe[:, 1::2] = torch.cos", "pe[:, 1::2] = torch.sin"),
    _m("positional_exponent_i_over_d", "positional", _POSITIONAL, "torch.arange(0, d, 2, dtype=torch.float64) / d",
       "torch.arange(0, d // 2, dtype=torch.float64) / d"),
    _m("positional_base_1000", "positional", _POSITIONAL, "10000.0", "1000.0"),
    _m("positional_halves_not_interleaved", "positional", _POSITIONAL, "pe[:, 0::2]", "pe[:, : d // 2]", "pe[:, 1::2]", "pe[:, d // 2 :]"),
    # get_batch
    _m("batch_no_shift", "get_batch", _GET_BATCH, "offsets + 1]", "offsets]"),
    _m("batch_x_and_y_swapped", "get_batch", _GET_BATCH, "x = data[starts[:, None] + offsets]\n    y = data[starts[:, None] + offsets + 1]",
       "y = data[starts[:, None] + offsets]\n    x = data[starts[:, None] + offsets + 1]"),
    _m("batch_misses_last_start", "get_batch", _GET_BATCH, "len(data) - block_size,", "len(data) - block_size - 1,"),
    _m("batch_ignores_generator", "get_batch", _GET_BATCH, ", generator=generator)", ")"),
    # character transformer
    _m("char_no_causal_mask", "char_model", _CHAR_MODEL, "attn_mask=not_allowed, ", ""),
    _m("char_mask_shows_next_token", "char_model", _CHAR_MODEL, ".triu(1)", ".triu(2)"),
    _m("char_mask_polarity_inverted", "char_model", _CHAR_MODEL, ".triu(1)", ".tril()"),
    _m("char_logits_last_position_only", "char_model", _CHAR_MODEL, "self.lm_head(self.norm(h))", "self.lm_head(self.norm(h[:, -1]))"),
    # reparameterize
    _m("reparam_no_noise", "reparameterize", _REPARAMETERIZE, "mu + std * torch.randn_like(std)", "mu + 0 * std"),
    _m("reparam_variance_not_std", "reparameterize", _REPARAMETERIZE, "torch.exp(0.5 * logvar)", "torch.exp(logvar)"),
    _m("reparam_uniform_noise", "reparameterize", _REPARAMETERIZE, "torch.randn_like(std)", "torch.rand_like(std)"),
    _m("reparam_logvar_as_std", "reparameterize", _REPARAMETERIZE, "torch.exp(0.5 * logvar)", "logvar"),
    # KL
    _m("kl_sign_error", "kl_normal", _KL, "return 0.5 *", "return -0.5 *"),
    _m("kl_missing_minus_one", "kl_normal", _KL, " - 1 - logvar", " - logvar"),
    _m("kl_mean_over_latent", "kl_normal", _KL, ".sum(dim=-1)", ".mean(dim=-1)"),
    _m("kl_std_for_variance", "kl_normal", _KL, "logvar.exp() - 1 - logvar", "(2 * logvar).exp() - 1 - 2 * logvar"),
    # negative ELBO
    _m("elbo_mean_over_pixels", "negative_elbo", _ELBO, '.sum(dim=-1)', '.mean(dim=-1)'),
    _m("elbo_kl_subtracted", "negative_elbo", _ELBO, "reconstruction + kl_normal", "reconstruction - kl_normal"),
    _m("elbo_sum_over_batch", "negative_elbo", _ELBO, ").mean()", ").sum()"),
    _m("elbo_no_kl", "negative_elbo", _ELBO, "(reconstruction + kl_normal(mu, logvar)).mean()", "reconstruction.mean()"),
    # GAN steps
    _m("gan_d_labels_swapped", "gan_steps", _GAN, "logits_real, torch.ones_like(logits_real)", "logits_real, torch.zeros_like(logits_real)",
       "logits_fake, torch.zeros_like(logits_fake)", "logits_fake, torch.ones_like(logits_fake)"),
    _m("gan_d_no_zero_grad", "gan_steps", _GAN, "    opt_D.zero_grad()\n", ""),
    _m("gan_g_step_detached", "gan_steps", _GAN, "logits = D(G(z))", "logits = D(G(z).detach())"),
    _m("gan_g_saturating_loss", "gan_steps", _GAN, "loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))",
       "loss = -F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits))"),
    _m("gan_g_targets_fake", "gan_steps", _GAN, "F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))",
       "F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits))"),
    # transfer learning
    _m("transfer_backbone_not_frozen", "transfer", _TRANSFER, "        p.requires_grad_(False)\n", "        pass\n"),
    _m("transfer_optimizer_holds_frozen", "transfer", _TRANSFER, "[p for p in model.parameters() if p.requires_grad]", "model.parameters()"),
    _m("transfer_head_not_replaced", "transfer", _TRANSFER, "    model.head = nn.Linear(model.head.in_features, num_classes)\n", ""),
    _m("transfer_head_frozen_too", "transfer", _TRANSFER,
       "    for p in model.features.parameters():\n        p.requires_grad_(False)\n    model.head = nn.Linear(model.head.in_features, num_classes)\n",
       "    model.head = nn.Linear(model.head.in_features, num_classes)\n    for p in model.parameters():\n        p.requires_grad_(False)\n"),
    _m("transfer_weights_not_loaded", "transfer", _TRANSFER, "    model.load_state_dict(state_dict)\n", ""),
]
